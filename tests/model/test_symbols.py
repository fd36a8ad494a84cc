"""One spelling per instrument: what a venue writes maps to the symbol CIFT stores."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cift.model.symbols import canonical_symbol, canonical_symbols, is_symbol
from tests.budget import deep

SPELLINGS = {
    "BTC/USDT": ["BTCUSDT", "btcusdt", "BTC-USDT", "btc_usdt", "BTC/USDT", " BTC/USDT "],
    "BTC/USD": ["X:BTCUSD", "BTC-USD", "BTCUSD", "btc/usd"],
    "ETH/BTC": ["ETHBTC", "ETH-BTC"],
    "EUR/USD": ["EURUSD", "C:EURUSD", "EUR/USD", "eur_usd"],
    "USD/JPY": ["USDJPY", "USD/JPY"],
    "AAPL": ["AAPL", "aapl"],
    "BRK.B": ["BRK.B", "brk.b"],
    "BRK-B": ["BRK-B"],  # a share class, not a currency pair
    "^GSPC": ["^GSPC"],
    "ES:CME": ["ES:CME"],
    "AUSD": ["AUSD"],  # a one-letter base is a ticker, not a pair
    "SPY": ["SPY"],
}


@pytest.mark.parametrize("canonical", sorted(SPELLINGS))
def test_every_spelling_maps_to_one_symbol(canonical: str) -> None:
    assert {canonical_symbol(s) for s in SPELLINGS[canonical]} == {canonical}


SYMBOLS = st.from_regex(r"[A-Za-z0-9.\-_/:^]{1,32}", fullmatch=True).filter(is_symbol)


@given(SYMBOLS)
@settings(max_examples=deep(200), deadline=None)
def test_canonical_is_a_fixed_point_and_stays_a_symbol(symbol: str) -> None:
    once = canonical_symbol(symbol)
    assert canonical_symbol(once) == once
    assert is_symbol(once)


def test_a_column_is_mapped_value_by_value() -> None:
    column = pl.Series("symbol", ["btcusdt", None, "AAPL", "BTC-USDT"])
    assert canonical_symbols(column).to_list() == ["BTC/USDT", None, "AAPL", "BTC/USDT"]
