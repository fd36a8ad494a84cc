"""Repositories: the queries and updates each domain makes on the metadata database."""
