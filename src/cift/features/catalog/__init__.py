"""Built-in features. Every module in this package registers its features on import;
``cift.features.spec.lookup`` imports them all on first use."""
