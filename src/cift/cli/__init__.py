"""The ``cift`` command line: one module per command group."""
