"""The tearsheet's tables and page: metrics beside the benchmark's, formatted as people
read them (percent, currency, ratios, days), yearly returns, the worst drawdown spells
and the trade list."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from cift.backtest import analysis
from cift.backtest.engine import BacktestResult
from cift.backtest.metrics import Metrics

Kind = Literal["percent", "money", "ratio", "days", "count", "text"]
WORST_SPELLS = 10
MAX_TRADE_ROWS = 500
MISSING = "—"


@dataclass(frozen=True)
class Row:
    """One line of the metrics table; ``benchmark`` is ``None`` where it has no meaning."""

    label: str
    strategy: Any
    benchmark: Any
    kind: Kind


FORMATS: dict[Kind, str] = {
    "percent": "{:.2%}",
    "money": "{:,.2f}",
    "ratio": "{:,.2f}",
    "days": "{:,.0f}",
    "count": "{:,}",
    "text": "{}",
}


def fmt(value: Any, kind: Kind) -> str:
    """``value`` as the report shows it; missing, NaN and infinite values are spelled."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if isinstance(value, float) and math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return FORMATS[kind].format(value)


def sections(report: analysis.Analysis) -> list[tuple[str, list[Row]]]:
    """The metrics table, section by section."""
    m, b = report.metrics, report.benchmark_stats or {}
    returns = report.returns
    mine = analysis.distribution(returns, "strategy")
    theirs = analysis.distribution(returns, "benchmark") if report.has_benchmark else {}
    period = returns.period
    corr = analysis.correlation(returns)

    def row(label: str, key: str, kind: Kind, ours: dict[str, Any], other: dict[str, Any]) -> Row:
        return Row(label, ours.get(key), other.get(key), kind)

    headline = m.to_dict()
    return [
        (
            "Returns",
            [
                row("Cumulative return", "total_return", "percent", headline, b),
                row("CAGR", "annual_return", "percent", headline, b),
                row("Final equity", "final_equity", "money", headline, b),
                Row("Time in market", m.exposure, None, "percent"),
            ],
        ),
        (
            "Risk",
            [
                row("Sharpe", "sharpe", "ratio", headline, b),
                row("Sortino", "sortino", "ratio", headline, b),
                row("Calmar", "calmar", "ratio", headline, b),
                row("Volatility (annualised)", "annual_volatility", "percent", headline, b),
                row("Max drawdown", "max_drawdown", "percent", headline, b),
                row("Longest drawdown (days)", "max_drawdown_days", "days", headline, b),
                row("Skew", "skew", "ratio", mine, theirs),
                row("Kurtosis (excess)", "kurtosis", "ratio", mine, theirs),
                row(f"Value at risk (95%, {period})", "value_at_risk", "percent", mine, theirs),
                row(
                    f"Expected shortfall ({period})", "expected_shortfall", "percent", mine, theirs
                ),
            ],
        ),
        (
            "Best and worst",
            [
                row(f"Best {period}", "best_period", "percent", mine, theirs),
                row(f"Worst {period}", "worst_period", "percent", mine, theirs),
                row("Best month", "best_month", "percent", mine, theirs),
                row("Worst month", "worst_month", "percent", mine, theirs),
                row("Best year", "best_year", "percent", mine, theirs),
                row("Worst year", "worst_year", "percent", mine, theirs),
                row(f"Winning {period}s", "winning_periods", "percent", mine, theirs),
                row("Winning months", "winning_months", "percent", mine, theirs),
                row("Winning years", "winning_years", "percent", mine, theirs),
            ],
        ),
        (
            "Against the benchmark",
            [
                Row("Alpha (annualised)", m.alpha, None, "percent"),
                Row("Beta", m.beta, None, "ratio"),
                Row("Correlation", corr, None, "ratio"),
                Row("R²", corr * corr, None, "ratio"),
            ],
        ),
        (
            "Trading",
            [
                Row("Round trips", m.trades, None, "count"),
                Row("Hit rate", m.hit_rate, None, "percent"),
                Row("Profit factor", m.profit_factor, None, "ratio"),
                Row("Average trade", m.average_trade, None, "money"),
                Row("Average win", m.average_win, None, "money"),
                Row("Average loss", m.average_loss, None, "money"),
                Row("Commission paid", m.commission, None, "money"),
                Row("Turnover (per year, x equity)", m.turnover, None, "ratio"),
                Row("Average gross exposure", m.average_gross_exposure, None, "percent"),
            ],
        ),
    ]


def subtitle(result: BacktestResult, metrics: Metrics) -> str:
    symbols = ", ".join(result.symbols[:8]) + (" ..." if len(result.symbols) > 8 else "")
    span = f"{(metrics.start or '')[:10]} to {(metrics.end or '')[:10]}"
    return f"{symbols} · {span} · initial cash {fmt(metrics.initial_cash, 'money')}"


def tables_html(report: analysis.Analysis) -> str:
    return "\n".join((_metrics_html(report), _yearly_html(report), _spells_html(report.spells)))


def _metrics_html(report: analysis.Analysis) -> str:
    columns = ["", "Strategy"] + (["Benchmark"] if report.has_benchmark else [])
    body = []
    for title, rows in sections(report):
        body.append(f'<tr class="section"><th colspan="{len(columns)}">{title}</th></tr>')
        for row in rows:
            cells = [fmt(row.strategy, row.kind)]
            if report.has_benchmark:
                cells.append(fmt(row.benchmark, row.kind) if row.benchmark is not None else "")
            body.append(_row(row.label, cells))
    return _table("Key metrics", "metrics", columns, body)


def _yearly_html(report: analysis.Analysis) -> str:
    frame = analysis.yearly_returns(report)
    columns = ["Year", *(name.title() for name in frame.columns[1:])]
    kinds: dict[str, Kind] = {"multiplier": "ratio", "won": "text"}
    body = [
        _row(
            str(values["year"]),
            [
                ("+" if v else "-") if name == "won" else fmt(v, kinds.get(name, "percent"))
                for name, v in values.items()
                if name != "year"
            ],
        )
        for values in frame.iter_rows(named=True)
    ]
    return _table("Returns by year", "yearly", columns, body)


def _spells_html(spells: pl.DataFrame) -> str:
    columns = ["Started", "Valley", "Recovered", "Drawdown", "Days"]
    body = [
        _row(
            started.date().isoformat(),
            [
                valley.date().isoformat(),
                recovered.date().isoformat() if recovered else "not yet",
                fmt(depth, "percent"),
                fmt(days, "days"),
            ],
        )
        for started, valley, recovered, depth, days in spells.head(WORST_SPELLS).iter_rows()
    ]
    return _table(f"The {WORST_SPELLS} worst drawdowns", "drawdowns", columns, body)


def trades_html(trades: pl.DataFrame) -> str:
    """The round trips, the latest ``MAX_TRADE_ROWS`` when there are more."""
    shown = trades.tail(MAX_TRADE_ROWS)
    columns = [
        "Symbol",
        "Side",
        "Entry",
        "Exit",
        "Quantity",
        "Entry price",
        "Exit price",
        "P&L",
        "Return",
        "Commission",
    ]
    body = [
        _row(
            t["symbol"],
            [
                "long" if t["side"] > 0 else "short",
                t["entry_ts"].isoformat(sep=" ", timespec="seconds")[:19],
                t["exit_ts"].isoformat(sep=" ", timespec="seconds")[:19],
                fmt(t["quantity"], "ratio"),
                fmt(t["entry_price"], "money"),
                fmt(t["exit_price"], "money"),
                fmt(t["pnl"], "money"),
                fmt(t["return"], "percent"),
                fmt(t["commission"], "money"),
            ],
        )
        for t in shown.iter_rows(named=True)
    ]
    caption = f"Trades ({trades.height:,} round trips"
    if trades.height > MAX_TRADE_ROWS:
        caption += f"; the last {MAX_TRADE_ROWS:,} shown, all in trades.parquet"
    return _table(caption + ")", "trades", columns, body)


def _row(label: str, cells: list[str]) -> str:
    tds = "".join(f"<td>{html.escape(c)}</td>" for c in cells)
    return f"<tr><th>{html.escape(label)}</th>{tds}</tr>"


def _table(caption: str, css: str, columns: list[str], body: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    return (
        f'<table class="{css}"><caption>{html.escape(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CIFT backtest: {title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; }}
h1 {{ margin-bottom: 0.2rem; }} p.subtitle {{ color: #666; margin-top: 0; }}
.tables {{ display: flex; flex-wrap: wrap; gap: 2rem; align-items: flex-start; }}
table {{ border-collapse: collapse; font-variant-numeric: tabular-nums; margin-top: 1rem; }}
caption {{ text-align: left; font-weight: 600; padding-bottom: 4px; }}
th, td {{ padding: 2px 10px; border-bottom: 1px solid #eee; }}
tbody th {{ text-align: left; font-weight: 400; }} td {{ text-align: right; }}
thead th {{ text-align: right; }} thead th:first-child {{ text-align: left; }}
tr.section th {{ font-weight: 600; padding-top: 10px; border-bottom: 1px solid #999; }}
table.trades {{ font-size: 0.85rem; }}
section.chart {{ margin-top: 1rem; }}
</style></head>
<body><h1>{title}</h1>
<p class="subtitle">{subtitle}</p>
<div class="tables">
{tables}
</div>
{charts}
{trades}
</body></html>
"""
