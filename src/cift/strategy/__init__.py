"""Strategies: the base class and context API, and the built-in strategies."""
