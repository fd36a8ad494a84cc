"""Backtesting: the event-driven engine, costs, accounting, metrics and reports."""
