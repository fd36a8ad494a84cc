"""The ASGI middleware around every request: request context (id, log line, metrics),
security headers and body limits, per-client rate limits, and the audit log."""
