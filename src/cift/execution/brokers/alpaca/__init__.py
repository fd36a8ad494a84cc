"""The ``alpaca`` broker: Alpaca's trading API v2 (REST) and its ``trade_updates`` stream."""
