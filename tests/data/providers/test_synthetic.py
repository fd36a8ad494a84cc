"""The synthetic provider: deterministic, chunk-invariant, calendar-true, with the
stylized facts of real markets measured on a larger sample."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta

import exchange_calendars as xcals
import numpy as np
import polars as pl
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cift.core.calendars import quiet_calendars, sessions
from cift.core.errors import ValidationError
from cift.data.aggregate import resample_bars, trades_to_bars, with_prevailing_quote
from cift.data.loader import BackfillPlan, Checkpoints, backfill
from cift.data.providers import get_provider
from cift.data.providers.base import fetch
from cift.data.providers.synthetic import SimulatorConfig, SyntheticProvider
from cift.data.providers.synthetic.sessions import sessions_between
from cift.data.providers.synthetic.walk import _walk
from cift.data.store import open_store
from cift.db import migrate
from cift.db.engine import create_db_engine, session_factory
from cift.model import SCHEMAS, DataKind, Timeframe
from cift.model.validation import validate
from tests.budget import deep
from tests.fresh import fresh_python

JAN2 = datetime(2024, 1, 2, tzinfo=UTC)
FAST = SimulatorConfig(trades_per_day=400)
"""Few trades a day: the same code paths, quick enough for property tests."""
SAMPLE = ("AAA", "BBB")
SAMPLE_RANGE = (JAN2, datetime(2024, 2, 1, tzinfo=UTC))
"""Two symbols over 21 sessions at the default parameters, for the stylized facts."""
runner = CliRunner()


def collect(
    provider: SyntheticProvider,
    kind: DataKind,
    symbols: tuple[str, ...],
    start: datetime,
    end: datetime,
    timeframe: str | None = None,
) -> pl.DataFrame:
    tf = Timeframe.parse(timeframe) if timeframe else None
    pages = list(fetch(provider, kind, symbols, start, end, timeframe=tf))
    return pl.concat(pages) if pages else pl.DataFrame(schema=SCHEMAS[kind])


@pytest.fixture(scope="module")
def sample() -> dict[str, pl.DataFrame]:
    provider = SyntheticProvider()
    trades = collect(provider, DataKind.TRADES, SAMPLE, *SAMPLE_RANGE)
    quotes = collect(provider, DataKind.QUOTES, SAMPLE, *SAMPLE_RANGE)
    bars = collect(provider, DataKind.BARS, SAMPLE, *SAMPLE_RANGE, timeframe="1Min")
    return {"trades": trades, "quotes": quotes, "bars": bars}


# Schema and determinism -------------------------------------------------------------


@pytest.mark.parametrize("kind", list(DataKind))
def test_rows_have_the_model_schema_and_pass_validation(kind: DataKind) -> None:
    frame = collect(
        SyntheticProvider(FAST), kind, ("AAPL",), JAN2, JAN2 + timedelta(days=2), "5Min"
    )
    assert frame.schema == SCHEMAS[kind]
    assert frame.height > 0
    _, report = validate(frame, kind)
    assert report.rejected == {}
    assert report.accepted == frame.height


def test_same_seed_gives_identical_rows_and_other_seeds_or_symbols_do_not() -> None:
    def trades(config: SimulatorConfig, symbol: str = "AAPL") -> pl.DataFrame:
        _walk.cache_clear()
        return collect(
            SyntheticProvider(config), DataKind.TRADES, (symbol,), JAN2, JAN2 + timedelta(days=1)
        )

    first = trades(SimulatorConfig(seed=3))
    assert first.equals(trades(SimulatorConfig(seed=3)))
    assert not first.equals(trades(SimulatorConfig(seed=4)))
    other = trades(SimulatorConfig(seed=3), "MSFT")
    assert other.height != first.height or not np.array_equal(other["price"], first["price"])


def test_rows_do_not_depend_on_the_process() -> None:
    """Python salts ``hash()`` per process; the simulator must not depend on it."""
    script = (
        "import hashlib\n"
        "from datetime import UTC, datetime\n"
        "from cift.data.providers.synthetic import SyntheticProvider, SimulatorConfig\n"
        "p = SyntheticProvider(SimulatorConfig(trades_per_day=400))\n"
        "frames = p.trades(['AAPL'], datetime(2024, 1, 2, tzinfo=UTC), "
        "datetime(2024, 1, 3, tzinfo=UTC))\n"
        "print(hashlib.sha256(b''.join(f.hash_rows().to_numpy().tobytes() for f in frames))"
        ".hexdigest())\n"
    )
    (printed,) = fresh_python(script, env={**os.environ, "PYTHONHASHSEED": "12345"})
    here = SyntheticProvider(SimulatorConfig(trades_per_day=400)).trades(
        ["AAPL"], JAN2, JAN2 + timedelta(days=1)
    )
    digest = hashlib.sha256(b"".join(f.hash_rows().to_numpy().tobytes() for f in here))
    assert printed == digest.hexdigest()


SPLIT_START = datetime(2024, 3, 7, 18, tzinfo=UTC)
SPLIT_SPAN = timedelta(days=4, hours=5)  # Thursday afternoon to Monday night, a weekend inside
SPLIT_CASES = [
    ("XNYS", DataKind.TRADES, None),
    ("XNYS", DataKind.QUOTES, None),
    ("XNYS", DataKind.BARS, "1Min"),
    ("XNYS", DataKind.BARS, "5Min"),
    ("XNYS", DataKind.BARS, "1H"),
    ("XNYS", DataKind.BARS, "1D"),
    ("CMES", DataKind.BARS, "4H"),  # windows that span two sessions
    ("XHKG", DataKind.TRADES, None),  # a lunch break
]


@pytest.mark.parametrize(("calendar_name", "kind", "timeframe"), SPLIT_CASES)
@settings(max_examples=deep(12), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cut=st.integers(min_value=1, max_value=int(SPLIT_SPAN.total_seconds() * 1e6) - 1))
def test_any_split_of_the_range_gives_the_same_rows(
    calendar_name: str, kind: DataKind, timeframe: str | None, cut: int
) -> None:
    provider = SyntheticProvider(SimulatorConfig(trades_per_day=400, calendar=calendar_name))
    start, end = SPLIT_START, SPLIT_START + SPLIT_SPAN
    middle = start + timedelta(microseconds=cut)
    whole = collect(provider, kind, ("AAPL", "MSFT"), start, end, timeframe)
    parts = pl.concat(
        [
            collect(provider, kind, ("AAPL", "MSFT"), start, middle, timeframe),
            collect(provider, kind, ("AAPL", "MSFT"), middle, end, timeframe),
        ]
    )
    assert whole.height > 0
    order = ["symbol", "ts", "trade_id"] if kind is DataKind.TRADES else ["symbol", "ts"]
    assert parts.sort(order).equals(whole.sort(order))


def test_pages_are_bounded_and_hold_whole_symbol_days() -> None:
    small = SyntheticProvider(SimulatorConfig(trades_per_day=400, page_rows=1))
    pages = list(small.quotes(["AAPL", "MSFT"], JAN2, JAN2 + timedelta(days=3)))
    assert len(pages) == 2 * 3  # one page per symbol and session
    for page in pages:
        assert page["symbol"].n_unique() == 1
        assert page["ts"].dt.date().n_unique() == 1
    large = SyntheticProvider(SimulatorConfig(trades_per_day=400))
    assert pl.concat(pages).equals(
        pl.concat(large.quotes(["AAPL", "MSFT"], JAN2, JAN2 + timedelta(days=3)))
    )


# Sessions from the exchange calendar --------------------------------------------------


def test_rows_only_inside_sessions_of_the_calendar() -> None:
    start, end = datetime(2024, 6, 28, tzinfo=UTC), datetime(2024, 7, 10, tzinfo=UTC)
    trades = collect(SyntheticProvider(FAST), DataKind.TRADES, ("AAPL",), start, end)
    with quiet_calendars():
        nyse = xcals.get_calendar("XNYS", start=date(2024, 6, 1), end=date(2024, 7, 31))
        minutes = nyse.minutes_in_range(start, end - timedelta(minutes=1))
        sessions = nyse.sessions_in_range(start.date(), (end - timedelta(days=1)).date())
    allowed = pl.Series(minutes.asi8).cast(pl.Datetime("ns", "UTC"))
    traded = trades["ts"].dt.truncate("1m")
    assert traded.is_in(allowed.implode()).all()
    assert sorted(set(trades["ts"].dt.date())) == [d.date() for d in sessions]
    days = set(trades["ts"].dt.date())
    assert date(2024, 7, 4) not in days  # Independence Day
    assert date(2024, 6, 29) not in days  # Saturday
    early = trades.filter(pl.col("ts").dt.date() == date(2024, 7, 3))
    assert early["ts"].max() < datetime(2024, 7, 3, 17, tzinfo=UTC)  # 13:00 New York close


def test_lunch_break_and_other_calendars() -> None:
    provider = SyntheticProvider(SimulatorConfig(trades_per_day=400, calendar="XHKG"))
    trades = collect(provider, DataKind.TRADES, ("0700",), JAN2, JAN2 + timedelta(days=1))
    times = trades["ts"].dt.time()
    assert times.min() >= datetime(2024, 1, 2, 1, 30).time()
    assert times.max() < datetime(2024, 1, 2, 8).time()
    lunch = times.is_between(datetime(2024, 1, 2, 4).time(), datetime(2024, 1, 2, 5).time(), "left")
    assert not lunch.any()
    with pytest.raises(ValidationError, match="Unknown exchange calendar"):
        collect(
            SyntheticProvider(SimulatorConfig(calendar="MOON")),
            DataKind.TRADES,
            ("X",),
            JAN2,
            JAN2 + timedelta(days=1),
        )


# Market invariants ----------------------------------------------------------------


def test_quotes_never_cross_and_trades_execute_at_the_prevailing_quote(
    sample: dict[str, pl.DataFrame],
) -> None:
    quotes, trades = sample["quotes"], sample["trades"]
    assert (quotes["bid"] < quotes["ask"]).all()
    assert (quotes["bid"] > 0).all()
    assert ((quotes["bid_size"] > 0) & (quotes["ask_size"] > 0)).all()
    assert quotes.select(pl.struct("symbol", "ts").is_unique().all()).item()
    assert set(trades["side"].unique()) == {-1, 1}
    assert (trades["size"] >= 1).all()
    joined = with_prevailing_quote(trades.lazy().sort("symbol", "ts"), quotes.lazy()).collect()
    at_touch = pl.when(pl.col("side") == 1).then(pl.col("ask")).otherwise(pl.col("bid"))
    assert joined.select((pl.col("price") == at_touch).all()).item()


@pytest.mark.parametrize("timeframe", ["1Min", "5Min", "1H", "1D"])
def test_bars_are_the_aggregation_of_the_trades(timeframe: str) -> None:
    provider = SyntheticProvider(FAST)
    start, end = JAN2, JAN2 + timedelta(days=3)
    bars = collect(provider, DataKind.BARS, ("AAPL", "MSFT"), start, end, timeframe)
    trades = collect(provider, DataKind.TRADES, ("AAPL", "MSFT"), start, end)
    expected = trades_to_bars(trades.lazy().sort("symbol", "ts"), Timeframe.parse(timeframe))
    expected_frame = expected.collect()
    exact = ["symbol", "ts", "open", "high", "low", "close", "volume", "trades"]
    assert bars.select(exact).equals(expected_frame.select(exact))
    assert np.allclose(bars["vwap"], expected_frame["vwap"], rtol=1e-12)
    ok = (
        (pl.col("low") <= pl.min_horizontal("open", "close"))
        & (pl.max_horizontal("open", "close") <= pl.col("high"))
        & pl.col("vwap").is_between(pl.col("low"), pl.col("high"))
        & (pl.col("volume") > 0)
    )
    assert bars.select(ok.all()).item()


def test_bars_across_sessions_match_trades_and_resampled_minutes() -> None:
    provider = SyntheticProvider(SimulatorConfig(trades_per_day=400, calendar="CMES"))
    start, end = JAN2, JAN2 + timedelta(days=2)
    four_hours = Timeframe.parse("4H")
    bars = collect(provider, DataKind.BARS, ("ES",), start, end, "4H")
    trades = collect(
        provider, DataKind.TRADES, ("ES",), start - timedelta(days=1), end + timedelta(days=1)
    )
    expected = trades_to_bars(trades.lazy(), four_hours).filter(
        pl.col("ts").is_between(start, end, closed="left")
    )
    assert bars.drop("vwap").equals(expected.collect().drop("vwap"))
    minutes = collect(provider, DataKind.BARS, ("ES",), start, end + timedelta(hours=4), "1Min")
    resampled = resample_bars(minutes.lazy(), Timeframe.parse("1Min"), four_hours).filter(
        pl.col("ts").is_between(start, end, closed="left")
    )
    assert bars.drop("vwap").equals(resampled.collect().drop("vwap"))


# Stylized facts on the larger sample -----------------------------------------------


def minute_returns(bars: pl.DataFrame) -> pl.DataFrame:
    """1-minute log returns of bar closes within each session."""
    day = pl.col("ts").dt.date()
    return (
        bars.sort("symbol", "ts")
        .with_columns(
            ret=pl.col("close").log().diff().over("symbol", day), tod=pl.col("ts").dt.time()
        )
        .drop_nulls("ret")
    )


def autocorrelation(values: np.ndarray, lag: int) -> float:
    return float(np.corrcoef(values[:-lag], values[lag:])[0, 1])


def test_minute_returns_have_fat_tails(sample: dict[str, pl.DataFrame]) -> None:
    returns = minute_returns(sample["bars"])["ret"].to_numpy()
    assert scipy.stats.kurtosis(returns, fisher=True) > 3.0  # a normal has 0
    assert scipy.stats.jarque_bera(returns).pvalue < 1e-12


def test_volatility_clusters_beyond_the_intraday_pattern(sample: dict[str, pl.DataFrame]) -> None:
    returns = minute_returns(sample["bars"])
    size = (pl.col("ret") - pl.col("ret").mean()).abs()
    deseasoned = returns.with_columns(size=size / size.mean().over("tod"))["size"].to_numpy()
    bound = 4.0 / np.sqrt(deseasoned.shape[0])  # four standard errors under no dependence
    for lag in (1, 5, 15):
        assert autocorrelation(deseasoned, lag) > bound


def test_volume_and_spread_are_u_shaped(sample: dict[str, pl.DataFrame]) -> None:
    new_york = pl.col("ts").dt.convert_time_zone("America/New_York").dt.time()

    def period(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(
            part=pl.when(new_york < datetime(2024, 1, 1, 10).time())
            .then(pl.lit("open"))
            .when(new_york >= datetime(2024, 1, 1, 15, 30).time())
            .then(pl.lit("close"))
            .when(
                new_york.is_between(
                    datetime(2024, 1, 1, 12).time(), datetime(2024, 1, 1, 13, 30).time(), "left"
                )
            )
            .then(pl.lit("midday"))
        ).drop_nulls("part")

    volume = dict(period(sample["bars"]).group_by("part").agg(pl.col("volume").mean()).iter_rows())
    spread = (pl.col("ask") - pl.col("bid")) / (pl.col("ask") + pl.col("bid")) * 2
    spreads = dict(period(sample["quotes"]).group_by("part").agg(spread.mean()).iter_rows())
    for values in (volume, spreads):
        assert values["open"] > 1.3 * values["midday"]
        assert values["close"] > 1.3 * values["midday"]


def test_trade_prices_bounce_between_bid_and_ask(sample: dict[str, pl.DataFrame]) -> None:
    for _, trades in sample["trades"].sort("symbol", "ts").group_by("symbol"):
        changes = np.diff(trades["price"].to_numpy())
        assert autocorrelation(changes, 1) < -5.0 / np.sqrt(changes.shape[0])


def imbalance_and_next_return(trades: pl.DataFrame, quotes: pl.DataFrame) -> pl.DataFrame:
    """Signed-volume imbalance of each minute and the mid-quote return of the next one."""
    minute = pl.col("ts").dt.truncate("1m").alias("minute")
    flow = trades.group_by("symbol", minute).agg(
        imbalance=(pl.col("side") * pl.col("size")).sum() / pl.col("size").sum()
    )
    mids = quotes.group_by("symbol", minute).agg(mid=((pl.col("bid") + pl.col("ask")) / 2).last())
    day = pl.col("minute").dt.date()
    return (
        flow.join(mids, on=["symbol", "minute"])
        .sort("symbol", "minute")
        .with_columns(ret=pl.col("mid").log().diff().over("symbol", day))
        .with_columns(next_ret=pl.col("ret").shift(-1).over("symbol", day))
        .drop_nulls()
    )


def test_order_flow_imbalance_predicts_the_next_return(sample: dict[str, pl.DataFrame]) -> None:
    pairs = imbalance_and_next_return(sample["trades"], sample["quotes"])
    signal = scipy.stats.pearsonr(pairs["imbalance"], pairs["next_ret"])
    assert signal.statistic > 0.03
    assert signal.pvalue < 1e-6
    # The same market without the signal: the correlation is gone.
    quiet = SyntheticProvider(SimulatorConfig(imbalance_signal=0.0))
    trades = collect(quiet, DataKind.TRADES, SAMPLE, *SAMPLE_RANGE)
    quotes = collect(quiet, DataKind.QUOTES, SAMPLE, *SAMPLE_RANGE)
    control = imbalance_and_next_return(trades, quotes)
    baseline = scipy.stats.pearsonr(control["imbalance"], control["next_ret"]).statistic
    assert baseline < 0.03
    assert signal.statistic - baseline > 4.0 * np.sqrt(2.0 / pairs.height)


@pytest.mark.parametrize("anchor", [date(2024, 1, 3), date(2024, 3, 28)])
def test_the_close_before_the_anchor_is_the_start_price(anchor: date) -> None:
    """The walk runs forward and backward from the anchor, continuous across days."""
    config = SimulatorConfig(start_prices=(("AAPL", 190.0),), anchor=anchor, trades_per_day=400)
    bars = collect(
        SyntheticProvider(config),
        DataKind.BARS,
        ("AAPL",),
        JAN2,
        datetime(2024, 4, 1, tzinfo=UTC),
        "1D",
    )
    before = bars.filter(pl.col("ts").dt.date() < anchor)["close"][-1]
    assert abs(np.log(before / 190.0)) < 0.003  # the last trade: a half spread off the mid
    opens, closes = bars["open"].to_numpy(), bars["close"].to_numpy()
    assert np.abs(np.log(opens[1:] / closes[:-1])).max() < 0.1  # overnight gaps
    annual = np.log(closes[1:] / closes[:-1]).std() * np.sqrt(252)
    assert 0.12 < annual < 0.5  # 25% by default, measured on 60 days


# Options and errors ------------------------------------------------------------------


def test_bad_options_say_what_to_do() -> None:
    with pytest.raises(ValidationError, match="unknown option"):
        SimulatorConfig.from_options({"volatilty": 0.2})
    with pytest.raises(ValidationError, match="tail_df"):
        SimulatorConfig.from_options({"tail_df": 2.0})
    with pytest.raises(ValidationError, match="garch_alpha"):
        SimulatorConfig.from_options({"garch_alpha": 0.2, "garch_beta": 0.85})
    with pytest.raises(ValidationError, match="SYMBOL=PRICE"):
        SimulatorConfig.from_options({"start_prices": "AAPL:190"})
    config = SimulatorConfig.from_options(
        {"start_prices": "AAPL=190,MSFT=370", "anchor": "2023-06-01"}
    )
    assert config.price_for("MSFT") == 370.0
    assert config.anchor == date(2023, 6, 1)
    with pytest.raises(ValidationError, match="1971"):
        next(SyntheticProvider().trades(["X"], datetime(1960, 1, 4, tzinfo=UTC), JAN2))
    with pytest.raises(ValidationError, match="time zone"):
        SyntheticProvider().trades(["X"], datetime(2024, 1, 2), datetime(2024, 1, 3))


# Through the registry, the store, the loader and the CLI ---------------------------


def test_registry_provider_writes_readable_rows_to_the_store(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    provider = get_provider("synthetic", settings, seed=7, trades_per_day=400)
    engine = create_db_engine(settings)
    migrate.upgrade(engine)
    store = open_store(settings)
    try:
        generated = collect(provider, DataKind.TRADES, ("AAPL",), JAN2, JAN2 + timedelta(days=3))  # type: ignore[arg-type]
        plan = BackfillPlan(
            provider="synthetic",
            kind=DataKind.TRADES,
            symbols=("AAPL",),
            start=JAN2,
            end=JAN2 + timedelta(days=3),
            chunk=timedelta(hours=7),  # chunks that cut sessions
        )
        result = backfill(provider, store, Checkpoints(session_factory(engine)), plan)
        stored = store.read(DataKind.TRADES, symbols=["AAPL"]).collect()
    finally:
        store.close()
        engine.dispose()
    assert result.rows_written == generated.height
    order = ["ts", "trade_id"]
    assert stored.sort(order).equals(generated.sort(order))


def test_cli_backfill_end_to_end() -> None:
    from cift.cli.app import app

    args = [
        "data",
        "backfill",
        "--provider",
        "synthetic",
        "--symbols",
        "AAPL,MSFT",
        "--kind",
        "bars",
        "--timeframe",
        "1Min",
        "--start",
        "2024-01-02",
        "--end",
        "2024-01-03",
    ]
    first = runner.invoke(app, args)
    assert first.exit_code == 0, first.output
    listed = runner.invoke(app, ["data", "ls", "--json"])
    rows = {r["symbol"]: r["rows"] for r in json.loads(listed.output)}
    trades = collect(
        SyntheticProvider(), DataKind.TRADES, ("AAPL", "MSFT"), JAN2, JAN2 + timedelta(days=2)
    )
    minutes = trades.group_by("symbol").agg(pl.col("ts").dt.truncate("1m").n_unique())
    assert rows == dict(minutes.iter_rows())  # one bar for each minute that traded
    assert all(770 <= n <= 2 * 390 for n in rows.values())  # two sessions, few quiet minutes
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "already done" in again.output
    quality = runner.invoke(app, ["data", "quality", "AAPL", "--json"])
    findings = {f["check"]: f["count"] for f in json.loads(quality.output)["findings"]}
    assert findings["bad_prices"] == 0
    assert findings["duplicates"] == 0


def test_the_feed_builds_its_calendar_when_made_and_streams_from_it() -> None:
    """A stream's clock (``--duration``) starts after the feed is made: the calendar, slow
    to build the first time, is ready by then, and the first session reuses it."""
    import asyncio

    from cift.data.providers.synthetic.sessions import _sessions
    from cift.data.providers.synthetic.stream import SyntheticFeed

    _sessions.cache_clear()
    feed = SyntheticFeed(
        SyntheticProvider(SimulatorConfig()),
        start=datetime(2024, 3, 5, 14, 30, tzinfo=UTC),
        speed=0,
    )
    assert _sessions.cache_info().misses == 1

    async def first() -> tuple[DataKind, pl.DataFrame]:
        async for batch in feed.events(["AAA"], [DataKind.TRADES]):
            return batch
        raise AssertionError("no batch")

    kind, frame = asyncio.run(first())
    assert kind is DataKind.TRADES
    assert frame.height > 0
    assert _sessions.cache_info().misses == 1


def test_the_feed_readies_the_simulators_kernels_when_made() -> None:
    """The simulator's kernels load from the cache (or compile, on a new install) as the
    feed is made, not in its first session: a stream's clock (``--duration``) times the
    stream. Run in a new interpreter: the loaded kernels are per process."""
    script = """
from datetime import UTC, datetime
from cift.data.providers.synthetic import SimulatorConfig, SyntheticProvider, kernels
from cift.data.providers.synthetic.stream import SyntheticFeed
used = (kernels.minute_path, kernels.events)
before = [len(kernel.signatures) for kernel in used]
start = datetime(2024, 3, 9, tzinfo=UTC)  # a Saturday: the first session is Monday's
SyntheticFeed(SyntheticProvider(SimulatorConfig()), start=start, speed=0)
print(before, [len(kernel.signatures) for kernel in used])
"""
    assert fresh_python(script) == ["[0, 0] [1, 1]"]


def test_the_simulator_and_the_bar_closes_share_one_calendar(calendar_builds: list[str]) -> None:
    """A process that simulates bars and then backtests them builds the calendar (about
    0.3 s) once: both read the same decades' schedule."""
    built = calendar_builds
    low = int(datetime(2064, 3, 2, tzinfo=UTC).timestamp() * 1e9)
    simulated = sessions_between("XNYS", low, low + 30 * 86_400 * 10**9)
    assert built == ["XNYS"]
    opens, closes = sessions("XNYS", date(2064, 3, 2), date(2064, 3, 31))
    assert built == ["XNYS"]
    first = int(np.searchsorted(simulated.opens, opens[0]))
    assert simulated.closes[first : first + len(closes)].tolist() == closes.tolist()
