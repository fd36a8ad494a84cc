"""Core services shared by every stage: settings, logging, errors, ids."""
