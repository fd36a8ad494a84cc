"""Market data responses."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from cift.model import DataKind
from cift.model.fields import Symbol

MAX_PAGE_ROWS = 50_000


class BarRow(BaseModel):
    """One bar; ``ts`` is its open time and it covers ``[ts, ts + timeframe)``."""

    symbol: str
    ts: datetime
    open: float
    high: float
    low: float
    close: float
    volume: float | None
    vwap: float | None
    trades: int | None


class TradeRow(BaseModel):
    """One trade; ``side`` is +1 buyer-initiated, -1 seller-initiated, 0 unknown."""

    symbol: str
    ts: datetime
    price: float
    size: float
    side: int
    trade_id: str
    exchange: str | None
    conditions: str | None


class QuoteRow(BaseModel):
    """Top of book after an update."""

    symbol: str
    ts: datetime
    bid: float
    ask: float
    bid_size: float | None
    ask_size: float | None


class BarsPage(BaseModel):
    rows: list[BarRow]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class TradesPage(BaseModel):
    rows: list[TradeRow]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class QuotesPage(BaseModel):
    rows: list[QuoteRow]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class CoverageRow(BaseModel):
    """What the store holds of one symbol, kind and timeframe."""

    kind: str
    timeframe: str | None
    symbol: str
    first: datetime
    last: datetime
    rows: int


class QualityFinding(BaseModel):
    symbol: str
    check: str
    count: int
    examples: list[str]


class QualityReportOut(BaseModel):
    """Data-quality findings per symbol and check."""

    kind: str
    timeframe: str | None
    calendar: str
    rows: int
    issues: int
    findings: list[QualityFinding]


class PageQuery(BaseModel):
    """Which rows to page through."""

    model_config = ConfigDict(extra="forbid")

    symbol: Symbol = Field(description="e.g. AAPL")
    start: str | None = Field(
        None,
        max_length=40,
        description="First day (YYYY-MM-DD) or ISO time; UTC unless offset given.",
    )
    end: str | None = Field(
        None, max_length=40, description="Last day, inclusive, or an exclusive ISO time."
    )
    limit: int = Field(1000, ge=1, le=MAX_PAGE_ROWS, description="Rows per page.")
    cursor: str | None = Field(None, max_length=200, description="next_cursor of the last page.")


class BarsQuery(PageQuery):
    timeframe: str | None = Field(
        None,
        max_length=10,
        description="Bar length: 1m, 5m, 1h, 1d, ...; default: the one stored for the symbol.",
    )


class QualityQuery(BaseModel):
    """Which stored rows to check."""

    model_config = ConfigDict(extra="forbid")

    kind: DataKind = DataKind.BARS
    symbol: str | None = Field(
        None, max_length=2000, description="One or several, comma-separated; all when absent."
    )
    symbols: str | None = Field(None, max_length=2000, description="The same as ``symbol``.")
    timeframe: str | None = Field(
        None, max_length=10, description="Bar length, for bars; default: the one stored."
    )
    start: str | None = Field(None, max_length=40, description="First day or ISO time.")
    end: str | None = Field(None, max_length=40, description="Last day, inclusive, or ISO time.")
    calendar: str = Field("XNYS", max_length=20, description="XNYS, CMES, 24/5, 24/7, ...")

    def chosen_symbols(self) -> list[str] | None:
        """Every symbol named by ``symbol`` or ``symbols``; None means all."""
        named = [*(self.symbol or "").split(","), *(self.symbols or "").split(",")]
        chosen = [s.strip() for s in named if s.strip()]
        return chosen or None
