"""Settings: every knob is a field here with a ``CIFT_`` environment variable.

Values come from, in order of precedence: explicit keyword arguments, the process
environment, a ``.env`` file in the working directory, then the defaults below.
``docs/configuration.md`` and ``.env.example`` are generated from this model
(``cift config docs``), and a test keeps them in step with it.
"""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, SecretStr, field_validator
from pydantic import ValidationError as PydanticValidationError
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from cift.core.errors import ConfigurationError, ValidationError
from cift.core.timeutil import MARKET_EARLIEST, MARKET_LATEST, to_ns

ENV_PREFIX = "CIFT_"
DEFAULT_SECRET_KEY = "insecure-development-key-change-me"  # noqa: S105 (refused in production)
MIN_SECRET_LENGTH = 32
MIN_SECRET_ENTROPY_BITS = 128.0


class Environment(StrEnum):
    """Where CIFT runs; production turns on the strict checks."""

    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


LogFormat = Literal["auto", "text", "json"]
LogLevel = Literal["TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"]
CsvList = Annotated[list[str], NoDecode]


class Settings(BaseSettings):
    """The effective configuration of one CIFT process."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        validate_default=True,
    )

    env: Environment = Field(
        Environment.DEV,
        description="Deployment environment: dev, test or production. Production "
        "refuses weak secrets and logs JSON.",
    )
    home: Path = Field(
        Path(".cift"),
        description="Data folder for the embedded backends (SQLite database, market-data "
        "catalog, MLflow runs, reports). Created on first use.",
    )
    secret_key: SecretStr = Field(
        SecretStr(DEFAULT_SECRET_KEY),
        description="Key that signs tokens. In production it must be at least 32 random "
        'characters, e.g. from `python -c "import secrets; print(secrets.token_urlsafe(48))"`.',
    )
    database_url: SecretStr | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database, e.g. "
        "`postgresql+psycopg://user:pass@host:5432/cift`. Empty means the embedded "
        "SQLite file `<CIFT_HOME>/cift.db`.",
    )
    database_echo: bool = Field(False, description="Log every SQL statement (debugging).")
    database_pool_size: int = Field(
        5, ge=1, le=100, description="Connections kept open per process (server databases)."
    )
    database_auto_migrate: bool = Field(
        True,
        description="`cift serve` upgrades the metadata database to the newest migration "
        "before it starts. Turn off where migrations run as a separate deployment step.",
    )
    redis_url: SecretStr | None = Field(
        None,
        description="Redis URL (cache, online features, shared rate limits), e.g. "
        "`redis://127.0.0.1:6379/0`. Empty means in-process.",
    )
    host: str = Field("127.0.0.1", description="Address `cift serve` binds to.")
    port: int = Field(8000, ge=1, le=65535, description="TCP port `cift serve` listens on.")
    workers: int = Field(1, ge=1, le=64, description="API worker processes for `cift serve`.")
    tls_certfile: Path | None = Field(
        None,
        description="PEM certificate (chain) `cift serve` presents: set it and "
        "`CIFT_TLS_KEYFILE` to serve HTTPS (HSTS is then sent). Empty means plain HTTP, "
        "e.g. behind a TLS-terminating proxy.",
    )
    tls_keyfile: Path | None = Field(None, description="PEM private key of `CIFT_TLS_CERTFILE`.")
    backtest_workers: int = Field(
        1, ge=1, le=64, description="Processes that run backtests submitted through the API."
    )
    dask_scheduler: str | None = Field(
        None,
        description="Dask scheduler address for sweeps and walk-forward, e.g. "
        "`tcp://scheduler:8786`. Empty means a local cluster of worker processes.",
    )
    dask_local_workers: int = Field(
        2, ge=1, le=256, description="Worker processes of the local Dask cluster."
    )
    mlflow_tracking_uri: str | None = Field(
        None,
        description="MLflow tracking server for training runs and the model registry, e.g. "
        "`http://mlflow:5000`. Empty means a local store under `<CIFT_HOME>/mlflow` (runs and "
        "registry in SQLite, artifacts on disk).",
    )
    log_level: LogLevel = Field("INFO", description="Lowest level that is logged.")
    log_format: LogFormat = Field(
        "auto",
        description="`text` (readable lines), `json` (one object per line) or `auto` "
        "(JSON in production, text elsewhere).",
    )
    metrics_host: str = Field(
        "127.0.0.1",
        description="Address the `--metrics-port` of `cift stream` and `cift trade run` "
        "listens on: loopback by default, `0.0.0.0` in a container that Prometheus scrapes.",
    )
    otlp_endpoint: str | None = Field(
        None,
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="OpenTelemetry collector (OTLP over HTTP) that receives traces, e.g. "
        "`http://jaeger:4318`. Empty turns tracing off (no cost).",
    )
    otlp_service_name: str | None = Field(
        None,
        description="Service name of this process's traces. Empty means `cift-api`, "
        "`cift-stream`, `cift-trade`, ... after the command.",
    )
    otlp_sample_ratio: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded (a trace begun elsewhere follows its "
        "parent's choice).",
    )
    cors_origins: CsvList = Field(
        default_factory=list,
        description="Comma-separated origins allowed to call the API from a browser, e.g. "
        "`https://dash.example.com`. Empty allows none.",
    )
    trusted_hosts: CsvList = Field(
        default_factory=lambda: ["localhost", "127.0.0.1", "[::1]"],
        description="Comma-separated host names the API answers to (Host header); "
        "`*.example.com` wildcards allowed, `*` allows any.",
    )
    forwarded_allow_ips: CsvList = Field(
        default_factory=list,
        description="Comma-separated addresses of reverse proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto `cift serve` believes (e.g. `10.0.0.5`). Empty trusts none, so a "
        "client cannot pick the IP its rate limits and audit entries are charged to.",
    )
    access_token_minutes: int = Field(
        15, ge=1, le=1440, description="Lifetime of a signed access token (JWT) after login."
    )
    refresh_token_days: int = Field(
        14,
        ge=1,
        le=365,
        description="Lifetime of a login's refresh token; each use rotates it for a new one.",
    )
    signup_allowed: bool = Field(
        False,
        description="Anyone may create a viewer account at `POST /api/v1/auth/signup`. "
        "Off: only admins create users (`cift users create`).",
    )
    password_min_length: int = Field(
        12, ge=8, le=128, description="Shortest password accepted for a new or changed password."
    )
    login_max_failures: int = Field(
        5, ge=1, le=100, description="Failed logins in a row that lock an account."
    )
    lockout_minutes: int = Field(
        15, ge=1, le=1440, description="How long an account stays locked after too many failures."
    )
    argon2_time_cost: int = Field(
        3, ge=1, le=20, description="Argon2id passes over memory when hashing a password."
    )
    argon2_memory_kib: int = Field(
        65536,
        ge=1024,
        le=4_194_304,
        description="Argon2id memory per password hash in KiB (64 MiB as RFC 9106 suggests). "
        "Stored hashes made with other parameters are rehashed at the next login.",
    )
    argon2_parallelism: int = Field(
        4, ge=1, le=64, description="Argon2id lanes (threads) per password hash."
    )
    rate_limit_enabled: bool = Field(
        True, description="Limit request rates per API key, user and client IP."
    )
    rate_limit_read_per_minute: int = Field(
        600, ge=1, description="Reads (GET) per minute for each API key and each user."
    )
    rate_limit_write_per_minute: int = Field(
        60, ge=1, description="Changes (POST, PUT, PATCH, DELETE) per minute per key and user."
    )
    rate_limit_auth_per_minute: int = Field(
        10, ge=1, description="Login, refresh and sign-up attempts per minute per client IP."
    )
    rate_limit_ip_per_minute: int = Field(
        1200, ge=1, description="Requests per minute from one client IP, all routes together."
    )
    max_body_bytes: int = Field(
        1_048_576,
        ge=1024,
        description="Largest request body accepted; larger ones get 413 before they are read.",
    )
    health_timeout_seconds: float = Field(
        2.0, gt=0, le=60, description="Time each readiness probe may take before it fails."
    )
    market_store: Literal["embedded", "questdb"] = Field(
        "embedded",
        description="Where ticks, quotes and bars are stored: `embedded` (Parquet catalog in "
        "`<CIFT_HOME>/market`) or `questdb` (the server named by the CIFT_QUESTDB_* settings).",
    )
    market_earliest_time: AwareDatetime = Field(
        MARKET_EARLIEST,
        description="Market data stamped before this time is rejected as `time_out_of_bounds` "
        "(a year 1500 in a file is a typo, not history). Earliest possible: 1677-09-22.",
    )
    market_latest_time: AwareDatetime = Field(
        MARKET_LATEST,
        description="Market data stamped at or after this time is rejected as "
        "`time_out_of_bounds`. Latest possible: 2262-04-11.",
    )
    bus: Literal["memory", "redis", "kafka"] = Field(
        "memory",
        description="The event bus between the live stages: `memory` (in one process), "
        "`redis` (Redis Streams at CIFT_REDIS_URL) or `kafka` (CIFT_KAFKA_BOOTSTRAP_SERVERS).",
    )
    bus_prefix: str = Field(
        "cift.",
        pattern=r"^[a-z][a-z0-9_.-]{0,39}$",
        description="Prefix of every topic (Kafka) or stream (Redis, with `:` for `.`) CIFT "
        "uses; give each installation sharing a broker its own.",
    )
    kafka_bootstrap_servers: str = Field(
        "127.0.0.1:9092",
        min_length=1,
        description="Kafka brokers of the `kafka` bus, comma-separated host:port pairs.",
    )
    questdb_ilp_conf: SecretStr = Field(
        SecretStr("http::addr=127.0.0.1:9000;"),
        description="QuestDB ingestion (ILP over HTTP) configuration string, e.g. "
        "`https::addr=questdb.internal:9000;username=cift;password=...;`.",
    )
    questdb_pg_url: SecretStr = Field(
        SecretStr("postgresql://admin:quest@127.0.0.1:8812/qdb"),
        description="QuestDB query endpoint (PostgreSQL wire protocol).",
    )
    questdb_table_prefix: str = Field(
        "cift_",
        pattern=r"^[a-z][a-z0-9_]{0,39}$",
        description="Prefix of every QuestDB table CIFT creates and reads (`cift_trades`, "
        "`cift_bars_1m`, ...); give each installation sharing one server its own.",
    )
    polygon_api_key: SecretStr | None = Field(
        None, description="Polygon (Massive) API key for `--provider polygon`."
    )
    polygon_base_url: str = Field(
        "https://api.massive.com", description="Polygon (Massive) REST base URL."
    )
    polygon_stream_url: str = Field(
        "wss://socket.massive.com/stocks",
        description="Polygon (Massive) stocks WebSocket for `cift stream ingest --provider "
        "polygon` (`wss://delayed.massive.com/stocks` on delayed plans).",
    )
    polygon_requests_per_minute: int = Field(
        5,
        ge=1,
        description="Request budget for Polygon: 5 on the free plan; raise it on paid plans "
        "(Polygon asks to stay under about 6000).",
    )
    alpaca_api_key_id: SecretStr | None = Field(
        None, description="Alpaca API key id (APCA-API-KEY-ID) for `--provider alpaca`."
    )
    alpaca_api_secret_key: SecretStr | None = Field(
        None, description="Alpaca API secret key (APCA-API-SECRET-KEY)."
    )
    alpaca_data_url: str = Field(
        "https://data.alpaca.markets", description="Alpaca market data REST base URL."
    )
    alpaca_stream_url: str = Field(
        "wss://stream.data.alpaca.markets/v2",
        description="Alpaca market-data WebSocket; the feed (CIFT_ALPACA_FEED) is appended, "
        "e.g. `.../v2/iex`.",
    )
    alpaca_stream_msgpack: bool = Field(
        True,
        description="Ask the Alpaca stream for MessagePack frames (smaller and faster to "
        "read than its JSON ones).",
    )
    alpaca_feed: Literal["iex", "sip", "delayed_sip", "otc"] = Field(
        "iex",
        description="Alpaca stock feed: `iex` (free plan), `sip` (all US exchanges, paid), "
        "`delayed_sip` or `otc`.",
    )
    alpaca_requests_per_minute: int = Field(
        200, ge=1, description="Request budget for Alpaca market data (200 on the free plan)."
    )
    alpaca_paper_url: str = Field(
        "https://paper-api.alpaca.markets",
        description="Alpaca trading API for accounts in paper mode; its `trade_updates` "
        "stream is the same host over wss, at `/stream`.",
    )
    alpaca_live_url: str = Field(
        "https://api.alpaca.markets", description="Alpaca trading API for live accounts."
    )
    alpaca_trading_requests_per_minute: int = Field(
        200, ge=1, description="Request budget for an Alpaca trading account (200 a minute)."
    )
    alert_webhook_hosts: CsvList = Field(
        default_factory=list,
        description="Comma-separated hosts alert webhooks may be sent to (`*.example.com` "
        "wildcards allowed). Empty refuses every webhook.",
    )
    alert_webhook_private: bool = Field(
        False,
        description="Let alert webhooks reach private, loopback and link-local addresses "
        "(a receiver on this machine or the LAN); off, they are refused whatever the host.",
    )
    alert_webhook_secret: SecretStr | None = Field(
        None,
        description="Key of the HMAC-SHA256 signature on every alert webhook "
        "(`X-CIFT-Signature`); webhooks are not sent without it.",
    )
    alert_delivery_timeout_seconds: float = Field(
        5.0, gt=0, le=60, description="Time one webhook or e-mail delivery attempt may take."
    )
    alert_delivery_retries: int = Field(
        3, ge=0, le=10, description="Retries of a failed delivery (timeouts, 5xx), with back-off."
    )
    smtp_host: str | None = Field(None, description="SMTP server for alert e-mails.")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port (587: submission).")
    smtp_starttls: bool = Field(
        True, description="Upgrade the SMTP connection with STARTTLS before logging in."
    )
    smtp_username: str | None = Field(None, description="SMTP login, if the server wants one.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password.")
    smtp_ca_file: Path | None = Field(
        None, description="CA certificate(s) to trust for the SMTP server (default: the system's)."
    )
    alert_email_from: str = Field(
        "cift@localhost", max_length=200, description="Sender address of alert e-mails."
    )
    provider_timeout_seconds: float = Field(
        30.0, gt=0, le=600, description="Time a provider request may take before it is retried."
    )
    provider_max_retries: int = Field(
        5,
        ge=0,
        le=20,
        description="Retries of a provider request after a timeout, 429 or 5xx, with "
        "exponential backoff honouring `Retry-After`.",
    )

    @field_validator(
        "cors_origins", "trusted_hosts", "forwarded_allow_ips", "alert_webhook_hosts", mode="before"
    )
    @classmethod
    def _split_csv(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator(
        "database_url",
        "redis_url",
        "tls_certfile",
        "tls_keyfile",
        "smtp_host",
        "smtp_ca_file",
        "otlp_endpoint",
        "otlp_service_name",
        mode="before",
    )
    @classmethod
    def _empty_is_none(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("market_earliest_time", "market_latest_time")
    @classmethod
    def _storable(cls, value: datetime) -> datetime:
        try:
            to_ns(value)
        except ValidationError as exc:
            raise ValueError(str(exc)) from None
        return value

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def json_logs(self) -> bool:
        if self.log_format == "auto":
            return self.is_production
        return self.log_format == "json"

    @property
    def sqlite_path(self) -> Path:
        return self.home / "cift.db"

    @property
    def market_path(self) -> Path:
        """Root folder of the embedded market-data catalog."""
        return self.home / "market"

    def database_url_value(self) -> str:
        """The metadata database URL, defaulting to the embedded SQLite file."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.sqlite_path.resolve()}"

    def check_safe(self) -> None:
        """Refuse settings that are unsafe for the chosen environment."""
        if not self.is_production:
            return
        problem = secret_weakness(self.secret_key.get_secret_value())
        if problem:
            raise ConfigurationError(
                f"CIFT_SECRET_KEY is {problem}; production needs at least "
                f"{MIN_SECRET_LENGTH} random characters. Set CIFT_SECRET_KEY, e.g. to the "
                'output of: python -c "import secrets; print(secrets.token_urlsafe(48))"'
            )


def secret_weakness(secret: str) -> str | None:
    """Say why ``secret`` is too weak to sign production tokens, or None if it is fine."""
    if secret == DEFAULT_SECRET_KEY:
        return "the built-in development default"
    if len(secret) < MIN_SECRET_LENGTH:
        return f"only {len(secret)} characters long"
    counts = Counter(secret)
    entropy = -sum(n / len(secret) * math.log2(n / len(secret)) for n in counts.values())
    if entropy * len(secret) < MIN_SECRET_ENTROPY_BITS:
        return "too predictable (too few distinct characters)"
    return None


def env_var(field_name: str) -> str:
    """The environment variable that sets a settings field."""
    return f"{ENV_PREFIX}{field_name.upper()}"


def load_settings(**overrides: Any) -> Settings:
    """Read and check the settings, turning pydantic's errors into one clear message."""
    try:
        settings = Settings(**overrides)
    except PydanticValidationError as exc:
        raise ConfigurationError(_describe_invalid(exc)) from None
    settings.check_safe()
    return settings


def _describe_invalid(exc: PydanticValidationError) -> str:
    problems = []
    for error in exc.errors(include_url=False):
        field = str(error["loc"][0]) if error["loc"] else "?"
        value = error.get("input")
        shown = "" if isinstance(value, dict) or field == "secret_key" else f" (got {value!r})"
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(f"{env_var(field)}: {message[:1].lower()}{message[1:]}{shown}")
    return "Invalid setting " + "; ".join(problems) + ". Fix the environment or .env file."


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
