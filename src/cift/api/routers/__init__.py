"""One router per domain.

Each router carries its full path prefix (``API_PREFIX`` plus its domain) and is
included without another prefix, so a route's own ``path`` is the full template that
metrics and logs label requests with.
"""

API_PREFIX = "/api/v1"
