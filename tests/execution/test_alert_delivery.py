"""Fired alerts delivered for real: a signed webhook to a local receiver, an e-mail to a
local SMTP server over STARTTLS, each outcome recorded; webhooks to hosts off the
allow-list, to loopback or to cloud metadata refused unless allowed; redirects not
followed; transient failures retried."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from aiosmtpd.controller import Controller
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy.orm import Session, sessionmaker

from cift.core.settings import Settings
from cift.data.aggregate import trades_to_bars
from cift.data.store import open_store
from cift.db.models import Role
from cift.execution import alerts
from cift.execution.delivery.channels import RefusedError, check_target
from cift.execution.delivery.send import deliver, history
from cift.execution.delivery.webhook import SIGNATURE_HEADER
from cift.model import DataKind, Timeframe
from tests.data.marketdata import random_trades
from tests.security.conftest import make_user
from tests.serving import free_port, threaded

Sessions = sessionmaker[Session]
SECRET = "whsec-test-0123456789"
MINUTE = Timeframe.parse("1m")


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1: answers ``statuses`` in turn (then 200)."""

    statuses: list[int] = field(default_factory=list)
    bodies: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/cift"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.bodies.append(body)
            got.headers.append(dict(self.headers))
            status = got.statuses.pop(0) if got.statuses else 200
            self.send_response(status)
            if status in (301, 302, 307):
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = server.server_address[1]
    with threaded(server):
        yield got


@dataclass
class Mailbox:
    messages: list[Any] = field(default_factory=list)
    port: int = 0
    ca_file: Path | None = None


class Keeper:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.box.messages.append(envelope)
        return "250 OK"


@pytest.fixture
def mailbox(tmp_path: Path) -> Iterator[Mailbox]:
    """A local SMTP server that takes mail only after STARTTLS (its own certificate)."""
    cert, key = tmp_path / "smtp.pem", tmp_path / "smtp.key"
    _self_signed(cert, key)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    box = Mailbox(ca_file=cert, port=free_port())
    controller = Controller(
        Keeper(box), hostname="127.0.0.1", port=box.port, tls_context=context,
        require_starttls=True,
    )  # fmt: skip
    controller.start()
    yield box
    controller.stop()


def _self_signed(cert: Path, key: Path) -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    made = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(private, hashes.SHA256())
    )
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def test_a_fired_rule_sends_a_signed_webhook_and_an_email_and_records_both(
    any_db: Sessions,
    any_db_settings: Settings,
    make_settings: Any,
    receiver: Receiver,
    mailbox: Mailbox,
) -> None:
    settings = make_settings(
        database_url=any_db_settings.database_url,
        alert_webhook_hosts=["127.0.0.1"],
        alert_webhook_private=True,  # the receiver is on this machine
        alert_webhook_secret=SECRET,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_ca_file=mailbox.ca_file,
    )
    owner = make_user(any_db, settings, "alice", Role.TRADER)
    trades = random_trades(400, ["AAA"], seed=5)
    store = open_store(settings)
    store.write(DataKind.BARS, trades_to_bars(trades.lazy(), MINUTE).collect(), timeframe=MINUTE)
    last_close = float(store.latest(DataKind.BARS, symbols=["AAA"], timeframe=MINUTE)["close"][0])
    spec = alerts.AlertSpec.model_validate(
        {
            "name": "AAA breakout",
            "symbol": "AAA",
            "condition": {"kind": "price_above", "price": last_close - 0.01},
            "channels": [
                {"kind": "webhook", "url": receiver.url},
                {"kind": "email", "to": "Desk@Example.com"},
            ],
        }
    )
    rule = alerts.create_alert(any_db, owner.id, spec)
    fired = alerts.check_alerts(any_db, store)
    store.close()
    assert [f.alert_id for f in fired] == [rule.id]
    outcomes = deliver(settings, any_db, fired)
    assert [(d.channel, d.status.value, d.attempts) for d in outcomes] == [
        ("webhook", "delivered", 1),
        ("email", "delivered", 1),
    ]

    (body,) = receiver.bodies
    sent = json.loads(body)
    assert (sent["alert_id"], sent["symbol"], sent["price"]) == (str(rule.id), "AAA", last_close)
    signed = receiver.headers[0][SIGNATURE_HEADER]
    stamp, digest = (part.split("=", 1)[1] for part in signed.split(","))
    expected = hmac.new(SECRET.encode(), f"{stamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(digest, expected)

    (mail,) = mailbox.messages
    assert mail.rcpt_tos == ["desk@example.com"]
    text = mail.content.decode()
    assert "Subject: [CIFT warning] AAA breakout: AAA price above" in text
    assert str(rule.id) in text

    shown = history(any_db, owner.id)
    assert sorted((h["channel"], h["target"], h["status"], h["alert"]) for h in shown) == [
        ("email", "desk@example.com", "delivered", "AAA breakout"),
        ("webhook", receiver.url, "delivered", "AAA breakout"),
    ]


@pytest.mark.parametrize("host", ["127.0.0.1", "169.254.169.254", "10.1.2.3", "[::1]"])
def test_webhooks_to_private_loopback_and_metadata_addresses_are_refused(
    make_settings: Any, host: str
) -> None:
    settings = make_settings(alert_webhook_hosts=[host.strip("[]")], alert_webhook_secret=SECRET)
    with pytest.raises(RefusedError, match="CIFT_ALERT_WEBHOOK_PRIVATE"):
        check_target(f"http://{host}/hook", settings)
    elsewhere = make_settings(alert_webhook_hosts=["hooks.example.com"])
    with pytest.raises(RefusedError, match="not on the allow-list"):
        check_target(f"http://{host}/hook", elsewhere)


def test_redirects_are_not_followed_and_server_errors_are_retried(
    make_settings: Any, receiver: Receiver, any_db: Sessions, any_db_settings: Settings
) -> None:
    settings = make_settings(
        alert_webhook_hosts=["127.0.0.1"],
        alert_webhook_private=True,
        alert_webhook_secret=SECRET,
        alert_delivery_retries=3,
    )
    owner = make_user(any_db, any_db_settings, "bob", Role.TRADER)
    rule = alerts.create_alert(
        any_db,
        owner.id,
        alerts.AlertSpec.model_validate(
            {"name": "x", "symbol": "AAA", "condition": {"kind": "price_below", "price": 1},
             "channels": [{"kind": "webhook", "url": receiver.url},
                          {"kind": "email", "to": "a@b.c"}]}
        ),
    )  # fmt: skip
    event = alerts.Fired(
        rule.id, owner.id, "x", "AAA", rule.severity,
        alerts.PriceCondition(kind="price_below", price=1), 0.5,
        dt.datetime.now(dt.UTC), list(rule.channels),
    )  # fmt: skip
    receiver.statuses = [302]
    moved, unmailed = deliver(settings, any_db, [event])
    assert (moved.status.value, moved.attempts) == ("failed", 1)
    assert "redirects are not followed" in str(moved.error)
    assert len(receiver.bodies) == 1  # nothing went to the Location
    assert (unmailed.status.value, unmailed.attempts) == ("refused", 0)
    assert "CIFT_SMTP_HOST" in str(unmailed.error)

    receiver.statuses = [500, 503]
    retried, _ = deliver(settings, any_db, [event])
    assert (retried.status.value, retried.attempts) == ("delivered", 3)
    receiver.statuses = [500] * 4
    failed, _ = deliver(settings, any_db, [event])
    assert (failed.status.value, failed.attempts) == ("failed", 4)
    unsigned = make_settings(alert_webhook_hosts=["127.0.0.1"], alert_webhook_private=True)
    refused, _ = deliver(unsigned, any_db, [event])
    assert "CIFT_ALERT_WEBHOOK_SECRET" in str(refused.error)
    statuses = [h["status"] for h in history(any_db, owner.id, rule.id)]
    assert sorted(statuses) == sorted(
        ["failed", "refused", "delivered", "refused", "failed", "refused", "refused", "refused"]
    )
    assert pl.DataFrame(history(any_db, owner.id)).height == 8
