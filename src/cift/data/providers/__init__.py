"""Providers of historical market data, one module each, all with one protocol."""
