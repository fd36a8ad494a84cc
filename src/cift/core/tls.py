"""One TLS context for every outgoing HTTPS call of the process.

Building one loads the trusted certificates: about 30 ms, which httpx pays again for every
client and every module-level call (``httpx.get``) it is not handed a context for. A
provider's client, a webhook delivery and an MLflow health check each took that much
before sending a byte; with this context a client costs about 0.1 ms.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def client_context() -> ssl.SSLContext:
    """httpx's own verifying context (certifi's roots, or ``SSL_CERT_FILE`` /
    ``SSL_CERT_DIR`` when set), built on first use and shared: an ``SSLContext`` may
    serve any number of connections and threads."""
    return httpx.create_ssl_context()
