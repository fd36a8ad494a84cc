"""QuestDB from Maven Central (``org.questdb:questdb``), run as a Java module.

Its root folder is ``<home>/questdb/root``; ``conf/server.conf`` is written on every
start so the ports below (all on loopback) are the ones it listens on.
"""

from __future__ import annotations

import json
import os
import shutil
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from servers.base import Service, ServiceError, env_port, port_open, run
from servers.jvm import fetch_runtime, java

VERSION = os.environ.get("CIFT_SERVICES_QUESTDB_VERSION", "9.3.4")
PG_USER, PG_PASSWORD, PG_DATABASE = "admin", "quest", "qdb"


class QuestDB(Service):
    name = "questdb"
    ready_timeout = 120.0
    lane = "jvm"

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.http = env_port("CIFT_SERVICES_QUESTDB_PORT", 9000)
        self.pg = env_port("CIFT_SERVICES_QUESTDB_PG_PORT", 8812)
        self.ilp_tcp = env_port("CIFT_SERVICES_QUESTDB_ILP_TCP_PORT", 9009)
        self.http_min = env_port("CIFT_SERVICES_QUESTDB_MIN_HTTP_PORT", 9003)
        self.root = self.folder / "root"
        self.jars = self.cache / f"questdb-{VERSION}"

    def ports(self) -> dict[str, int]:
        return {"http": self.http, "pg": self.pg, "ilp-tcp": self.ilp_tcp, "health": self.http_min}

    def urls(self) -> dict[str, str]:
        ilp = f"http::addr=127.0.0.1:{self.http};"
        pg = f"postgresql://{PG_USER}:{PG_PASSWORD}@127.0.0.1:{self.pg}/{PG_DATABASE}"
        return {
            "CIFT_MARKET_STORE": "questdb",
            "CIFT_QUESTDB_ILP_CONF": ilp,
            "CIFT_QUESTDB_PG_URL": pg,
            "CIFT_TEST_QUESTDB_ILP_CONF": ilp,
            "CIFT_TEST_QUESTDB_PG_URL": pg,
        }

    def install(self) -> None:
        fetch_runtime("questdb", VERSION, self.jars)
        (self.root / "conf").mkdir(parents=True, exist_ok=True)
        settings = {
            "http.net.bind.to": f"127.0.0.1:{self.http}",
            "http.min.net.bind.to": f"127.0.0.1:{self.http_min}",
            "pg.net.bind.to": f"127.0.0.1:{self.pg}",
            "line.tcp.net.bind.to": f"127.0.0.1:{self.ilp_tcp}",
            "telemetry.enabled": "false",
            # Development mode lets tests suspend a table's WAL (ALTER TABLE ... SUSPEND WAL)
            # to check how CIFT reports a table QuestDB stopped applying writes to.
            "dev.mode.enabled": "true",
            "pg.user": PG_USER,
            "pg.password": PG_PASSWORD,
        }
        text = "".join(f"{key}={value}\n" for key, value in settings.items())
        (self.root / "conf" / "server.conf").write_text(
            "# Written by deploy/local/services.py on every start; edit the script instead.\n"
            + text
        )

    def launch(self) -> int:
        jar = self.jars / f"questdb-{VERSION}.jar"
        if not jar.exists():
            shutil.rmtree(self.jars, ignore_errors=True)
            raise ServiceError(f"{jar} is missing; run 'services.py up questdb' again to fetch it.")
        heap = os.environ.get("CIFT_SERVICES_QUESTDB_HEAP", "1g")
        return self.spawn(
            [
                java(),
                f"-Xmx{heap}",
                "-XX:+UseParallelGC",
                "-p",
                str(jar),
                "-m",
                "io.questdb/io.questdb.ServerMain",
                "-d",
                str(self.root),
            ],
        )

    def query(self, sql: str) -> list[list[object]]:
        """Rows of a query run through the HTTP ``/exec`` endpoint."""
        url = f"http://127.0.0.1:{self.http}/exec?" + urllib.parse.urlencode({"query": sql})
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                body = json.load(reply)
        except (OSError, ValueError) as exc:
            raise ServiceError(f"QuestDB did not answer {sql!r}: {exc}") from None
        if "error" in body:
            raise ServiceError(f"QuestDB refused {sql!r}: {body['error']}")
        return list(body.get("dataset", []))

    def ready(self) -> bool:
        return self.query("SELECT 1") == [[1]] and port_open(self.pg)

    def confirm(self) -> None:
        """A query over the PostgreSQL wire, the endpoint CIFT reads through."""
        psql = shutil.which("psql")
        if psql is None:
            return
        answer = run(
            [
                psql,
                "-h",
                "127.0.0.1",
                "-p",
                str(self.pg),
                "-U",
                PG_USER,
                "-d",
                PG_DATABASE,
                "-X",
                "-A",
                "-t",
                "-c",
                "SELECT 1",
            ],
            what="psql against QuestDB",
            timeout=20,
            env={**os.environ, "PGPASSWORD": PG_PASSWORD, "PGCONNECT_TIMEOUT": "5"},
        )
        if answer.strip() != "1":
            raise ServiceError(f"QuestDB answered {answer!r} to SELECT 1 over the PostgreSQL wire.")
