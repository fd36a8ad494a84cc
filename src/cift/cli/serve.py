"""``cift serve``: run the API (and, later, the dashboard) with uvicorn."""

from __future__ import annotations

import os
import socket
import ssl
from pathlib import Path

import typer
import uvicorn
from loguru import logger

from cift.core.errors import ConfigurationError
from cift.core.logging import configure_logging
from cift.core.metrics import share_with_workers
from cift.core.settings import env_var, load_settings
from cift.db.opening import metadata_sessions


def serve(
    host: str | None = typer.Option(
        None, help="Address to bind (default CIFT_HOST); 0.0.0.0 listens on every interface."
    ),
    port: int | None = typer.Option(
        None, min=1, max=65535, help="TCP port (default CIFT_PORT, 8000)."
    ),
    workers: int | None = typer.Option(
        None, min=1, help="Worker processes (default CIFT_WORKERS, 1)."
    ),
    reload: bool = typer.Option(
        False, help="Restart when source files change (development only; one worker)."
    ),
    tls_certfile: Path | None = typer.Option(
        None, help="PEM certificate to serve HTTPS with (default CIFT_TLS_CERTFILE)."
    ),
    tls_keyfile: Path | None = typer.Option(
        None, help="PEM private key of the certificate (default CIFT_TLS_KEYFILE)."
    ),
) -> None:
    """Start the HTTP API.

    On first start it creates the data folder (CIFT_HOME) and migrates the metadata
    database to the newest schema (disable with CIFT_DATABASE_AUTO_MIGRATE=false).
    Check it with: curl http://127.0.0.1:8000/health/ready
    """
    overrides = {
        "host": host,
        "port": port,
        "workers": workers,
        "tls_certfile": tls_certfile,
        "tls_keyfile": tls_keyfile,
    }
    for name, value in overrides.items():
        if value is not None:
            os.environ[env_var(name)] = str(value)  # worker processes read the same values
    settings = load_settings()
    configure_logging(settings)
    check_tls(settings.tls_certfile, settings.tls_keyfile)
    settings.home.mkdir(parents=True, exist_ok=True)
    if settings.database_auto_migrate:
        with metadata_sessions(settings):
            pass  # migrated before the workers start
    check_port(settings.host, settings.port)
    share_with_workers(settings.home / "prometheus")  # job and API workers add theirs up
    logger.info(
        "serving CIFT API on {}://{}:{} ({} worker(s), env {})",
        "https" if settings.tls_certfile else "http",
        settings.host,
        settings.port,
        1 if reload else settings.workers,
        settings.env.value,
    )
    uvicorn.run(
        "cift.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=None if reload else settings.workers,
        reload=reload,
        log_config=None,
        access_log=False,
        server_header=False,
        ssl_certfile=settings.tls_certfile,
        ssl_keyfile=settings.tls_keyfile,
        proxy_headers=bool(settings.forwarded_allow_ips),
        forwarded_allow_ips=",".join(settings.forwarded_allow_ips) or None,
    )


def check_port(host: str, port: int) -> None:
    """Refuse a port another program holds, saying how to pick another."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise ConfigurationError(
                f"Cannot listen on {host}:{port} ({exc.strerror or exc}): another program "
                "may hold it. Stop it, or pick another port with --port (or CIFT_PORT)."
            ) from None


def check_tls(certfile: Path | None, keyfile: Path | None) -> None:
    """Both or neither; a certificate and key that load and match, or a clear error."""
    if certfile is None and keyfile is None:
        return
    if certfile is None or keyfile is None:
        raise ConfigurationError(
            "HTTPS needs both CIFT_TLS_CERTFILE and CIFT_TLS_KEYFILE (or --tls-certfile "
            "and --tls-keyfile); set both, or neither for plain HTTP."
        )
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigurationError(
            f"Cannot use the TLS certificate {certfile} with key {keyfile} ({exc}); give "
            "readable PEM files of one certificate and its private key."
        ) from None
