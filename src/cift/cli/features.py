"""``cift features``: list, compute and show features."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer
from rich.table import Table

from cift.core.errors import ValidationError
from cift.core.timeutil import parse_when, range_end
from cift.data.export import export_frame
from cift.data.files import FileMapping, load
from cift.features.bars import KINDS, BarKind, imbalance_bars, standard_bars
from cift.features.catalog_docs import catalog_markdown
from cift.features.compiling import compile_features
from cift.features.files import compute_for_file
from cift.features.labels import volatility_barrier_labels
from cift.features.pipeline import compute_and_store, stored_set_id
from cift.features.spec import all_specs, parse_call, split_calls
from cift.model import DataKind, Timeframe

from .console import console, print_json
from .context import cli_settings, file_mapping, market_store, split_symbols
from .entries import summary
from .feature_options import FEATURES_HELP, feature_set_from
from .progress import Steps
from .render import frame_records, frame_table

app = typer.Typer(help=summary("features"))


@app.command("ls")
def list_command(
    category: str | None = typer.Option(None, help="Only this category, e.g. technical."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List every feature (name, parameters with defaults, inputs, outputs) and the
    feature sets stored so far."""
    specs = [s for s in all_specs() if category is None or s.category == category]
    with market_store(cli_settings()) as store:
        stored = store.feature_sets()
    if as_json:
        print_json(
            {
                "features": [
                    {
                        "name": s.name,
                        "category": s.category,
                        "signature": s.signature(),
                        "inputs": list(s.inputs),
                        "outputs": list(s.outputs),
                        "forward_looking": s.forward_looking,
                        "description": s.description,
                    }
                    for s in specs
                ],
                "stored_sets": frame_records(stored),
            }
        )
        return
    table = Table(title=f"{len(specs)} features")
    for column in ("feature", "category", "inputs", "outputs", "description"):
        table.add_column(column, overflow="fold")
    for spec in specs:
        table.add_row(
            spec.signature(),
            spec.category,
            ", ".join(spec.inputs),
            ", ".join(spec.outputs),
            spec.description,
        )
    console.print(table)
    if not stored.is_empty():
        console.print(frame_table(stored, title="Stored feature sets"))


@app.command("docs")
def docs_command(
    output: Path = typer.Option(
        Path("docs/feature-catalog.md"), "--output", "-o", help="Where to write the catalog."
    ),
) -> None:
    """Regenerate docs/feature-catalog.md from the feature registry."""
    output.write_text(catalog_markdown(), encoding="utf-8")
    console.print(f"wrote {output}")


@app.command("compile")
def compile_command() -> None:
    """Compile every feature's kernel now and cache it on disk (under two minutes on a
    new install, seconds after), so no computation, backtest or live run waits for it."""
    with Steps(quiet=False) as steps:
        count = compile_features(lambda _, done: steps("compiling feature kernels", done))
    console.print(f"{count} feature kernels ready (compiled code cached on disk)")


@app.command("compute")
def compute_command(
    features: str | None = typer.Option(None, help=FEATURES_HELP),
    feature_set: str | None = typer.Option(
        None, "--set", help="'default' or a YAML feature-set file (instead of --features)."
    ),
    input_file: Path | None = typer.Option(
        None, "--input", help="Compute on this CSV/Parquet file of bars instead of the store."
    ),
    output: Path | None = typer.Option(
        None, "--output", "-o", help="Where to write the file result (.parquet or .csv)."
    ),
    map_: str | None = typer.Option(None, "--map", help="FILE_COLUMN=CIFT_COLUMN,... for --input."),
    columns: str | None = typer.Option(
        None, help="Names for every column of --input, replacing its header line."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of --input times without an offset."),
    name: str = typer.Option("adhoc", help="Name of the set made from --features."),
    symbols: str | None = typer.Option(None, help="Comma-separated symbols (default: all stored)."),
    timeframe: str = typer.Option("1Min", help="Bar length of the stored bars to use."),
    start: str | None = typer.Option(None, help="First day to store values for."),
    end: str | None = typer.Option(None, help="Last day (inclusive)."),
) -> None:
    """Compute features on a file (--input ... --output ...) or on stored bars (values
    go to the store under the set's content id).

      cift features compute --input bars.csv --features "rsi(14),macd(12,26,9)" -o out.parquet
      cift features compute --set default --symbols AAPL,MSFT --timeframe 1Min
    """
    if input_file is not None:
        if output is None:
            raise ValidationError("With --input, name the result file with --output.")
        calls = [parse_call(t) for t in split_calls(features or "")]
        if not calls:
            raise ValidationError(f"Name the features with --features: {FEATURES_HELP}")
        mapping = file_mapping(map_=map_, columns=columns, tz=tz)
        rows = export_frame(compute_for_file(input_file, calls, mapping), output)
        console.print(f"wrote {rows:,} rows with {len(calls)} feature(s) to {output}")
        return
    chosen = feature_set_from(features, feature_set, name, Timeframe.parse(timeframe))
    with market_store(cli_settings()) as store:
        result = compute_and_store(
            store,
            chosen,
            symbols=split_symbols(symbols) if symbols else None,
            start=parse_when(start) if start else None,
            end=range_end(start, end),
        )
    console.print(
        f"feature set [bold]{result.set_id}[/]: {result.rows:,} rows for {result.symbols} "
        f"symbol(s), {result.written:,} newly stored"
    )


@app.command("show")
def show_command(
    set_id: str = typer.Argument(
        ..., help="A stored set id from 'cift features ls', or its name when one is stored."
    ),
    symbol: str = typer.Argument(..., help="The symbol."),
    limit: int = typer.Option(20, min=1, help="Rows to show."),
    tail: bool = typer.Option(False, help="Show the last rows instead of the first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print stored feature values of one symbol."""
    with market_store(cli_settings()) as store:
        set_id = stored_set_id(store, set_id)
        rows = store.read_features(set_id, symbols=[symbol])
        frame = (rows.tail(limit) if tail else rows.head(limit)).collect()
    if as_json:
        print_json(frame_records(frame))
    else:
        console.print(frame_table(frame.drop("symbol"), title=f"{set_id} {symbol} (UTC)"))


@app.command("bars")
def bars_command(
    input_file: Path = typer.Option(..., "--input", help="CSV/Parquet file of trades."),
    output: Path = typer.Option(..., "--output", "-o", help="Bars file (.parquet or .csv)."),
    kind: str = typer.Option("volume", help=f"What a bar samples: {', '.join(KINDS)}."),
    threshold: float | None = typer.Option(
        None, help="Trades, volume or traded value (price x size) per bar."
    ),
    imbalance: float | None = typer.Option(
        None,
        "--imbalance",
        metavar="EXPECTED_TICKS",
        help="Imbalance bars instead, expecting this many trades in the first bar.",
    ),
    symbol: str | None = typer.Option(None, help="Symbol, if the file has no symbol column."),
    map_: str | None = typer.Option(None, "--map", help="FILE_COLUMN=CIFT_COLUMN,..."),
) -> None:
    """Sample trades into tick, volume, dollar or imbalance bars (first trade time as ts).

    cift features bars --input trades.parquet --kind volume --threshold 1000 -o bars.parquet
    cift features bars --input trades.parquet --kind tick --imbalance 50 -o tib.parquet
    """
    if (threshold is None) == (imbalance is None):
        raise ValidationError("Give --threshold (standard bars) or --imbalance (imbalance bars).")
    mapping = file_mapping(map_=map_, symbol=symbol, kind=DataKind.TRADES)
    trades = load(input_file, mapping).frame
    bar_kind = cast(BarKind, kind)  # checked by the bar builders
    if imbalance is not None:
        bars = imbalance_bars(trades, bar_kind, expected_ticks=imbalance)
    else:
        bars = standard_bars(trades, bar_kind, threshold or 0.0)
    rows = export_frame(bars, output)
    console.print(f"wrote {rows:,} {kind} bars from {trades.height:,} trades to {output}")


@app.command("label")
def label_command(
    input_file: Path = typer.Option(..., "--input", help="CSV/Parquet file of bars."),
    output: Path = typer.Option(..., "--output", "-o", help="Labels file (.parquet or .csv)."),
    horizon: str = typer.Option(..., help="Vertical barrier: a number of bars, or e.g. 1d."),
    pt: float = typer.Option(1.0, help="Profit-taking barrier in volatilities (0: none)."),
    sl: float = typer.Option(1.0, help="Stop-loss barrier in volatilities (0: none)."),
    span: int = typer.Option(100, help="EWMA span (bars) of the volatility target."),
    cusum: float | None = typer.Option(
        None, help="Label only CUSUM events of this log-price threshold (default: all bars)."
    ),
    zero_vertical: bool = typer.Option(
        False, "--zero-vertical", help="Label 0 when the vertical barrier ends an event."
    ),
    symbol: str | None = typer.Option(None, help="Symbol, if the file has no symbol column."),
) -> None:
    """Triple-barrier labels (forward-looking: fwd_* columns) of the bars in a file.

    cift features label --input bars.parquet --horizon 20 --cusum 0.01 -o labels.parquet
    """
    # Labels do not depend on a bar length, and tick/volume/dollar bars have none: naming
    # one skips its inference from the spacing of the bars.
    untimed = FileMapping(kind=DataKind.BARS, symbol=symbol, timeframe=Timeframe.parse("1s"))
    bars = load(input_file, untimed).frame
    labels = volatility_barrier_labels(
        bars,
        horizon=int(horizon) if horizon.isdigit() else horizon,
        pt=pt,
        sl=sl,
        span=span,
        cusum=cusum,
        vertical="zero" if zero_vertical else "sign",
    )
    rows = export_frame(labels, output)
    console.print(f"wrote {rows:,} labels of {bars.height:,} bars to {output}")
