"""Built-in strategies, registered by name."""
