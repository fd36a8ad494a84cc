"""``cift alerts add|ls|check`` on a real daily file, checked against the file itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import polars as pl
from typer.testing import CliRunner

from cift.cli.app import app
from tests.samples import NVDA

runner = CliRunner()


def cift(*args: str) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout  # the firing is also logged, on stderr


def test_alerts_fire_on_the_last_stored_close() -> None:
    cift("data", "import", str(NVDA))
    last = pl.read_csv(NVDA, try_parse_dates=True).sort("Date").row(-1, named=True)
    close, day = float(last["Close"]), last["Date"]
    daily = ["--symbol", "NVDA", "--timeframe", "1d"]
    cift("alerts", "add", "NVDA holds", *daily, "--above", str(close - 0.5), "--severity", "info",
         "--webhook", "http://169.254.169.254/latest", "--email", "desk@example.com")  # fmt: skip
    cift("alerts", "add", "NVDA crash", *daily, "--below", str(close / 2))
    rules = json.loads(cift("alerts", "ls", "--json"))
    assert sorted(r["name"] for r in rules) == ["NVDA crash", "NVDA holds"]
    assert {r["status"] for r in rules} == {"active"}

    fired = json.loads(cift("alerts", "check", "--json"))
    assert [(f["name"], f["symbol"], f["severity"]) for f in fired] == [
        ("NVDA holds", "NVDA", "info")
    ]
    assert abs(fired[0]["price"] - close) < 1e-9
    day_end = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    assert datetime.fromisoformat(fired[0]["observed_at"]) == day_end  # the bar has closed
    assert json.loads(cift("alerts", "check", "--json")) == []  # no newer close
    assert "no alert fired" in cift("alerts", "check")
    listed = {r["name"]: r for r in json.loads(cift("alerts", "ls", "--json"))}
    assert (listed["NVDA holds"]["status"], listed["NVDA holds"]["fired"]) == ("triggered", 1)
    # neither channel is set up here: each delivery is refused, saying what to set
    history = {h["channel"]: h for h in json.loads(cift("alerts", "history", "--json"))}
    assert {c: h["status"] for c, h in history.items()} == {
        "webhook": "refused",
        "email": "refused",
    }
    assert "CIFT_ALERT_WEBHOOK_SECRET" in history["webhook"]["error"]
    assert "CIFT_SMTP_HOST" in history["email"]["error"]
    assert "refused" in cift("alerts", "history")


def test_an_alert_needs_one_level() -> None:
    both = runner.invoke(
        app, ["alerts", "add", "x", "--symbol", "A", "--above", "1", "--below", "2"]
    )
    assert both.exit_code != 0
    assert "exactly one of --above" in both.output
    bad = runner.invoke(app, ["alerts", "add", "x", "--symbol", "A", "--above", "-1"])
    assert bad.exit_code != 0
    said = "Invalid alert rule: condition.price_above.price: Input should be greater than 0"
    assert said in bad.output
    assert json.loads(cift("alerts", "ls", "--json")) == []


def test_disable_enable_and_remove_a_rule() -> None:
    cift("alerts", "add", "x", "--symbol", "NVDA", "--above", "1")
    (rule,) = json.loads(cift("alerts", "ls", "--json"))
    assert "is disabled" in cift("alerts", "disable", rule["id"])
    assert json.loads(cift("alerts", "ls", "--json"))[0]["status"] == "disabled"
    assert "is active" in cift("alerts", "enable", rule["id"])
    other = runner.invoke(app, ["alerts", "rm", rule["id"], "--user", "nobody"])
    assert other.exit_code != 0  # no such user: nothing removed
    assert "No user nobody" in other.output
    assert runner.invoke(app, ["alerts", "rm", "not-an-id"]).exit_code != 0
    assert "deleted alert x" in cift("alerts", "rm", rule["id"])
    assert json.loads(cift("alerts", "ls", "--json")) == []
    assert "No alert" in runner.invoke(app, ["alerts", "rm", rule["id"]]).output
