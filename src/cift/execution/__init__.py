"""Order management, pre-trade risk, brokers, the live runner, accounts and alerts."""
