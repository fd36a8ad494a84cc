"""Built-in features. Every module in this package registers its features on import;
``cift.features.spec.lookup`` imports them in the order of :data:`MODULES` until it
finds the name asked for, and ``all_specs`` imports them all."""

MODULES = ("technical", "oscillators", "trend", "transforms", "microstructure", "order_flow")
"""The catalog's modules, the most used first: a backtest that needs only moving
averages does not pay for importing (and readying the kernels of) the order-flow ones."""
