"""``cift data``: backfill, import, list, show, export and compact market data."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from cift.core.errors import NothingMatchedError
from cift.core.timeutil import parse_when, range_end
from cift.data.datasets import bar_timeframe, pick_dataset
from cift.data.export import export_frame
from cift.data.importer import ImportSummary, import_file
from cift.data.loader import BackfillPlan, BackfillResult, Checkpoints, Chunk, backfill
from cift.data.providers import PROVIDERS, MarketDataProvider, get_provider
from cift.data.quality import check_store
from cift.data.store import MarketStore
from cift.db.opening import metadata_sessions
from cift.model import DataKind, Timeframe

from .console import console, print_json
from .context import (
    MetricsPortOption,
    cli_settings,
    file_mapping,
    market_store,
    optional_timeframe,
    serve_metrics,
    split_symbols,
)
from .entries import summary
from .render import frame_records, frame_table, report_rows

app = typer.Typer(help=summary("data"))

START_HELP = "First day (YYYY-MM-DD) or time (UTC unless it carries an offset)."
END_HELP = "Last day, inclusive (YYYY-MM-DD), or an exclusive end time."
TIMEFRAME_HELP = "Bar length (bars only), e.g. 1Min or 1D; default: the one stored."


@app.command("backfill")
def backfill_command(
    provider: str = typer.Option(..., help=f"Data source: {', '.join(PROVIDERS)}."),
    symbols: str = typer.Option(..., help="Comma-separated symbols, e.g. AAPL,MSFT."),
    kind: DataKind = typer.Option(DataKind.BARS, help="bars, trades or quotes."),
    timeframe: str = typer.Option("1Min", help="Bar length (bars only): 1Min, 5Min, 1H, 1D."),
    start: str = typer.Option(..., help=START_HELP),
    end: str = typer.Option(..., help=END_HELP),
    chunk: str | None = typer.Option(None, help="Length of each resumable chunk, e.g. 1D, 7D."),
    concurrency: int = typer.Option(4, min=1, max=64, help="Chunks fetched at once."),
    path: list[Path] | None = typer.Option(None, help="Files to read (--provider files)."),
    metrics_port: int = MetricsPortOption,
) -> None:
    """Fetch history from a provider into the store; run it again to resume.

    Each symbol's range is cut into chunks and every finished chunk is recorded, so an
    interrupted run (Ctrl-C, a crash, a kill) resumes where it stopped with no gap and
    no duplicate. Example:

      cift data backfill --provider synthetic --symbols AAPL,MSFT --kind bars
      --timeframe 1Min --start 2024-01-02 --end 2024-01-31
    """
    settings = cli_settings()
    serve_metrics(settings, metrics_port)
    plan = BackfillPlan(
        provider=provider,
        kind=kind,
        symbols=tuple(split_symbols(symbols)),
        start=parse_when(start),
        end=parse_when(end, end=True),
        timeframe=Timeframe.parse(timeframe) if kind is DataKind.BARS else None,
        chunk=timedelta(microseconds=Timeframe.parse(chunk).nanos // 1000) if chunk else None,
    )
    source = get_provider(provider, settings, **({"paths": list(path)} if path else {}))
    stop = threading.Event()
    try:
        with metadata_sessions(settings) as db, market_store(settings) as store:
            checkpoints = Checkpoints(db)
            result = _run_with_progress(
                plan, source, store, checkpoints=checkpoints, concurrency=concurrency, stop=stop
            )
    except KeyboardInterrupt:
        stop.set()
        console.print("[yellow]Interrupted.[/] Run the same command again to resume.")
        raise typer.Exit(130) from None
    finally:
        source.close()
    _print_backfill(result)


def _run_with_progress(
    plan: BackfillPlan,
    source: MarketDataProvider,
    store: MarketStore,
    *,
    checkpoints: Checkpoints,
    concurrency: int,
    stop: threading.Event,
) -> BackfillResult:
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,.0f}/{task.total:,.0f} chunks"),
        TextColumn("{task.fields[rows]:,} rows · {task.fields[speed]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    total = len(plan.chunks())
    rows = 0
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(
            f"{plan.provider} {plan.kind.value}", total=total, rows=0, speed=""
        )

        def on_progress(chunk: Chunk, page_rows: int, finished: bool) -> None:
            nonlocal rows
            rows += page_rows
            elapsed = progress.tasks[task].elapsed or 1e-9
            speed = f"{rows / elapsed:,.0f} rows/s"
            progress.update(task, advance=1 if finished else 0, rows=rows, speed=speed)

        result = backfill(
            source,
            store,
            checkpoints,
            plan,
            concurrency=concurrency,
            on_progress=on_progress,
            stop=stop,
        )
        progress.update(task, completed=total)
    return result


def _print_backfill(result: BackfillResult) -> None:
    table = Table(title="Backfill", show_header=False)
    table.add_row(
        "chunks", f"{result.chunks_done:,} fetched, {result.chunks_skipped:,} already done"
    )
    table.add_row("rows stored", f"{result.rows_written:,}")
    table.add_row("rows already stored", f"{result.rows_existing:,}")
    for name, value in report_rows(result.report):
        table.add_row(name, value)
    console.print(table)


@app.command("import")
def import_command(
    files: list[Path] = typer.Argument(..., help="CSV (.csv, .csv.gz, .tsv) or Parquet files."),
    symbol: str | None = typer.Option(
        None, help="Symbol of every row (default: a symbol column, else the file name)."
    ),
    kind: DataKind | None = typer.Option(
        None, help="bars, trades or quotes (default: guessed from the columns)."
    ),
    map_: str | None = typer.Option(
        None, "--map", help="Rename columns: FILE_COLUMN=CIFT_COLUMN,... e.g. Last=close."
    ),
    columns: str | None = typer.Option(
        None, help="Comma-separated names for every column, replacing the header line."
    ),
    tz: str = typer.Option("UTC", "--tz", help="Time zone of times written without an offset."),
    timestamp_format: str | None = typer.Option(
        None, help="strftime format of the times, e.g. '%Y%m%d %H:%M:%S' (default: guessed)."
    ),
    date_column: str | None = typer.Option(None, help="Date column, when date and time are apart."),
    time_column: str | None = typer.Option(None, help="Time-of-day column, with --date-column."),
    timeframe: str | None = typer.Option(
        None, help="Bar length of a bar file (default: the most common spacing)."
    ),
    separator: str = typer.Option(",", help="CSV field separator."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON."),
) -> None:
    """Load files into the store; importing a file again stores nothing new.

    Columns are recognised by their usual names (timestamp, date, time, open, high,
    low, close, volume, price, size, bid, ask, ...). Bad rows are counted per reason
    and never stored. Example for separate date and time columns in exchange time:

      cift data import fdax.csv --columns Date,Time,Open,High,Low,Close,Volume,OI
      --tz Europe/Berlin --symbol FDAX
    """
    mapping = file_mapping(
        map_=map_,
        columns=columns,
        tz=tz,
        symbol=symbol,
        kind=kind,
        date_column=date_column,
        time_column=time_column,
        timestamp_format=timestamp_format,
        timeframe=optional_timeframe(timeframe),
        separator=separator,
    )
    with market_store(cli_settings()) as store:
        summaries = []
        for file in files:
            summary = import_file(store, file, mapping)
            summaries.append(summary)
            if not as_json:
                _print_import(summary)
    if as_json:
        print_json([s.to_dict() for s in summaries])


def _print_import(summary: ImportSummary) -> None:
    table = Table(title=summary.file, show_header=False)
    table.add_row("kind", f"{summary.kind} {summary.timeframe or ''}".strip())
    table.add_row("symbols", f"{', '.join(summary.symbols)} (from the {summary.symbol_from})")
    for name, value in report_rows(summary.report):
        table.add_row(name, value)
    table.add_row("rows stored", f"{summary.rows_stored:,}")
    table.add_row("rows already stored", f"{summary.rows_already_stored:,}")
    if summary.ignored_columns:
        table.add_row("columns not used", ", ".join(summary.ignored_columns))
    console.print(table)


@app.command("ls")
def list_command(
    kind: DataKind | None = typer.Option(None, help="Only this kind."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """List what the store holds: kind, timeframe, symbol, first and last time, rows;
    then the stored feature values (also in 'cift features ls')."""
    with market_store(cli_settings()) as store:
        coverage = store.coverage(kind)
        features = store.feature_sets() if kind is None and not as_json else None
    if as_json:
        print_json(frame_records(coverage))
    elif coverage.is_empty():
        console.print(
            "The store is empty. Add data with 'cift data import' or 'cift data backfill'."
        )
    else:
        console.print(frame_table(coverage, title="Stored market data"))
    if features is not None and not features.is_empty():
        console.print(frame_table(features, title="Stored feature values"))


@app.command("show")
def show_command(
    symbol: str = typer.Argument(..., help="The symbol to show."),
    kind: DataKind | None = typer.Option(
        None, help="bars, trades or quotes (default: what is stored)."
    ),
    timeframe: str | None = typer.Option(None, help="Bar length, when several are stored."),
    start: str | None = typer.Option(None, help=START_HELP),
    end: str | None = typer.Option(None, help=END_HELP),
    limit: int = typer.Option(20, min=1, help="Rows to show."),
    tail: bool = typer.Option(False, help="Show the last rows instead of the first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Print a symbol's stored rows (the first ones, or the last with --tail)."""
    with market_store(cli_settings()) as store:
        chosen_kind, chosen_tf = pick_dataset(store, symbol, kind, optional_timeframe(timeframe))
        rows = store.read(
            chosen_kind,
            symbols=[symbol],
            start=parse_when(start) if start else None,
            end=range_end(start, end),
            timeframe=chosen_tf,
        )
        frame = (rows.tail(limit) if tail else rows.head(limit)).collect()
    if frame.is_empty():
        raise NothingMatchedError(
            f"No {chosen_kind.value} of {symbol} {_between(start, end)}; 'cift data ls' shows "
            "the stored range."
        )
    if as_json:
        print_json(frame_records(frame))
        return
    title = f"{symbol} {chosen_kind.value} {chosen_tf or ''} (UTC)".replace("  ", " ")
    console.print(frame_table(frame.drop("symbol"), title=title))


def _between(start: str | None, end: str | None) -> str:
    """The asked range in words."""
    if start and end:
        return f"from {start} to {end}"
    if start:
        return f"from {start} on"
    return f"up to {end}" if end else "at all"


@app.command("export")
def export_command(
    symbols: str = typer.Argument(..., help="Comma-separated symbols."),
    output: Path = typer.Option(..., "--output", "-o", help="A .parquet or .csv file."),
    kind: DataKind = typer.Option(DataKind.BARS, help="bars, trades or quotes."),
    timeframe: str | None = typer.Option(None, help=TIMEFRAME_HELP),
    start: str | None = typer.Option(None, help=START_HELP),
    end: str | None = typer.Option(None, help=END_HELP),
) -> None:
    """Write stored rows to a Parquet or CSV file (written whole or not at all)."""
    chosen = split_symbols(symbols)
    with market_store(cli_settings()) as store:
        tf = _bar_timeframe(store, kind, chosen, timeframe)
        rows = store.read(
            kind,
            symbols=chosen,
            start=parse_when(start) if start else None,
            end=range_end(start, end),
            timeframe=tf,
        )
        count = export_frame(rows, output)
    console.print(f"wrote {count:,} rows to {output}")


def _bar_timeframe(
    store: MarketStore, kind: DataKind, symbols: list[str] | None, timeframe: str | None
) -> Timeframe | None:
    if kind is not DataKind.BARS:
        return None
    return bar_timeframe(store, symbols, optional_timeframe(timeframe))


@app.command("compact")
def compact_command(
    kind: DataKind | None = typer.Option(None, help="Only this kind."),
) -> None:
    """Merge partitions held in many small files, and remove files no longer used."""
    with market_store(cli_settings()) as store:
        result = store.compact(kind)
    console.print(
        f"compacted {result.partitions:,} partitions: {result.files_before:,} files -> "
        f"{result.files_after:,} ({result.rows:,} rows)"
    )


@app.command("quality")
def quality_command(
    symbols: str | None = typer.Argument(None, help="Comma-separated symbols (default: all)."),
    kind: DataKind = typer.Option(DataKind.BARS, help="bars, trades or quotes."),
    timeframe: str | None = typer.Option(None, help=TIMEFRAME_HELP),
    start: str | None = typer.Option(None, help=START_HELP),
    end: str | None = typer.Option(None, help=END_HELP),
    calendar: str = typer.Option(
        "XNYS", help="Exchange calendar for missing bars: XNYS, XLON, CMES, 24/5, 24/7, ..."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
) -> None:
    """Check stored data: missing bars against the exchange calendar, duplicates,
    return outliers, zero or negative prices, crossed, locked and stale quotes."""
    chosen = split_symbols(symbols) if symbols else None
    with market_store(cli_settings()) as store:
        tf = _bar_timeframe(store, kind, chosen, timeframe)
        report = check_store(
            store,
            kind,
            symbols=chosen,
            timeframe=tf,
            start=parse_when(start) if start else None,
            end=range_end(start, end),
            calendar=calendar,
        )
    if not report.rows:
        length = timeframe or tf
        stored = f"{kind.value} of {length}" if kind is DataKind.BARS and length else kind.value
        raise NothingMatchedError(
            f"No {stored} stored for {symbols or 'any symbol'} {_between(start, end)}; "
            "'cift data ls' shows what is stored (pick its --timeframe)."
        )
    if as_json:
        print_json(report.to_dict())
        return
    title = f"Quality of {report.rows:,} {kind.value} rows ({report.calendar} calendar)"
    table = Table(title=title)
    for column in ("symbol", "check", "count", "examples"):
        table.add_column(column, justify="right" if column == "count" else "left")
    for finding in report.findings:
        style = "green" if finding.ok else "yellow"
        examples = ", ".join(finding.examples[:3])
        table.add_row(finding.symbol, finding.check, f"[{style}]{finding.count:,}[/]", examples)
    console.print(table)
