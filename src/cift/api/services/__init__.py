"""Work the routers delegate to, kept out of the HTTP layer."""
