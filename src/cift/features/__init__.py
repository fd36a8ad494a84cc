"""Features: technical, order-flow and microstructure features, bars and labels.

Every feature with memory is a numba kernel that carries its state explicitly, so the
batch path (whole histories, many symbols) and the live path (one event at a time) run
the same arithmetic and produce the same numbers.
"""
