"""Live trading: the strategy context over the OMS, and the runner."""
