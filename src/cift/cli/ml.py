"""``cift ml``: model configurations, datasets, cross-validation, training, predictions."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import typer
import yaml
from rich.table import Table
from sqlalchemy.orm import Session, sessionmaker

from cift.backtest.model_paths import path_report
from cift.core.errors import ValidationError
from cift.core.settings import Settings
from cift.core.timeutil import parse_when, range_end
from cift.data.export import export_frame
from cift.db.models import ModelConfiguration
from cift.ml import configurations
from cift.ml.crossval import Scheme, ValidationPlan
from cift.ml.datasets import DatasetSpec, build_configured, dataset_root, list_datasets
from cift.ml.inference import load_model
from cift.ml.training import TrainingOutcome, dataset_spec, find_configuration, run_training
from cift.model import DataKind, Timeframe

from . import ml_models
from .backtest_options import parse_params
from .console import console, print_json
from .context import cli_settings, market_store, metadata_db, owner_id, split_symbols
from .entries import summary
from .progress import Steps
from .render import frame_records, frame_table

app = typer.Typer(help=summary("ml"))
config_app = typer.Typer(help="Model configurations: what a model learns from and how.")
dataset_app = typer.Typer(help="Point-in-time datasets of features and labels.")
app.add_typer(config_app, name="config")
app.add_typer(dataset_app, name="dataset")
app.add_typer(ml_models.app, name="models")

OWNER = typer.Option("local", "--user", help="Owner: username, e-mail or id.")
CONFIG = typer.Option(..., "--config", "-c", help="A saved model configuration's name.")
SYMBOLS = typer.Option(..., help="Comma-separated symbols with stored bars.")
START = typer.Option(None, help="First row's day (YYYY-MM-DD) or time, UTC.")
END = typer.Option(None, help="Last day of bars read (inclusive); labels never look past it.")
JSON = typer.Option(False, "--json", help="Print JSON.")


@config_app.command("save")
def config_save(
    file: Path | None = typer.Argument(
        None, help="A YAML file: name, model_type, features, label."
    ),
    name: str | None = typer.Option(None, help="Its name (instead of a file)."),
    model_type: str = typer.Option("lightgbm_classifier", "--type", help="The algorithm."),
    features: str | None = typer.Option(None, help='Catalog calls, e.g. "rsi(14),macd".'),
    timeframe: str = typer.Option("1m", help="Bars the features are computed on."),
    label: str = typer.Option("triple_barrier", help="forward_return or triple_barrier."),
    horizon: int = typer.Option(20, help="Bars ahead (the vertical barrier)."),
    profit_taking: float = typer.Option(2.0, help="triple_barrier: upper barrier, in vols."),
    stop_loss: float = typer.Option(1.0, help="triple_barrier: lower barrier, in vols."),
    param: list[str] | None = typer.Option(None, help="Hyper-parameter name=value; repeat it."),
    user: str = OWNER,
    as_json: bool = JSON,
) -> None:
    """Save a configuration (a new version when the name exists).

    cift ml config save --name trend --features "rsi(14),macd,bbands(20,2,2)" --horizon 30

    cift ml config save model.yaml
    """
    if file is not None:
        try:
            document = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ValidationError(f"{file}: cannot read the configuration ({exc}).") from None
    elif name and features:
        barriers = {"profit_taking": profit_taking, "stop_loss": stop_loss}
        document = {
            "name": name,
            "model_type": model_type,
            "features": [f.strip() for f in features.split(",") if f.strip()],
            "timeframe": timeframe,
            "label": {"kind": label, "horizon": horizon}
            | (barriers if label == "triple_barrier" else {}),
            "hyperparameters": parse_params(param),
        }
    else:
        raise ValidationError("Give a YAML file, or --name and --features.")
    spec = configurations.ModelSpec.model_validate(document)
    with metadata_db() as (_, db):
        row = configurations.save_configuration(db, owner_id(db, user), spec)
    summary = {"id": str(row.id), "name": row.name, "version": row.version}
    if as_json:
        print_json(summary | {"parameters": row.parameters})
        return
    console.print(f"saved [bold]{row.name}[/] version {row.version} ({row.model_type})")


@config_app.command("ls")
def config_ls(user: str = OWNER, as_json: bool = JSON) -> None:
    """List your configurations, newest first."""
    with metadata_db() as (_, db):
        rows = configurations.configurations(db).list(owner_id(db, user))
    records = [
        {
            "name": r.name,
            "version": r.version,
            "model_type": r.model_type,
            "features": len(r.parameters["features"]["features"]),
            "status": r.status.value,
            "mlflow_run_id": r.mlflow_run_id or "",
        }
        for r in rows
    ]
    if as_json:
        print_json(records)
        return
    console.print(frame_table(pl.DataFrame(records), title="Model configurations"))


@contextmanager
def _configured(
    user: str, config: str, symbols: str, start: str | None, end: str | None
) -> Iterator[tuple[Settings, sessionmaker[Session], ModelConfiguration, DatasetSpec]]:
    """Settings, the metadata database, the owner's configuration and the dataset spec
    it asks for over ``symbols`` and the range."""
    with metadata_db() as (settings, db):
        row = find_configuration(db, owner_id(db, user), config)
        spec = dataset_spec(
            row,
            split_symbols(symbols),
            parse_when(start) if start else None,
            range_end(start, end),
        )
        yield settings, db, row, spec


@dataset_app.command("build")
def dataset_build(
    config: str = CONFIG,
    symbols: str = SYMBOLS,
    start: str | None = START,
    end: str | None = END,
    user: str = OWNER,
    as_json: bool = JSON,
) -> None:
    """Build (or find cached) the dataset a configuration learns from.

    cift ml dataset build --config trend --symbols AAPL,MSFT --start 2024-01-02
    """
    with (
        _configured(user, config, symbols, start, end) as (settings, _, _, spec),
        Steps(quiet=as_json) as tell,
    ):
        dataset = build_configured(settings, spec, lambda d, n: tell("dataset", d / n))
    manifest = dataset.manifest()
    if as_json:
        print_json(manifest)
        return
    console.print(
        f"dataset [bold]{dataset.dataset_hash[:12]}[/]: {dataset.rows:,} rows, "
        f"{len(dataset.features)} features, {len(dataset.symbols)} symbols "
        f"(data {dataset.data_hash[:12]}, features {dataset.feature_set_sha[:12]})"
    )


@dataset_app.command("ls")
def dataset_ls(as_json: bool = JSON) -> None:
    """List the datasets built on this machine, newest first."""
    manifests = list_datasets(dataset_root(cli_settings()))
    records = [
        {
            "dataset": m["dataset_hash"][:12],
            "rows": m["rows"],
            "features": len(m["features"]),
            "symbols": ",".join(m["symbols"]),
            "label": m["spec"]["label"]["kind"],
            "data": m["data_hash"][:12],
        }
        for m in manifests
    ]
    if as_json:
        print_json(manifests)
        return
    console.print(frame_table(pl.DataFrame(records), title="Datasets"))


SCHEME = typer.Option(Scheme.PURGED_KFOLD, help="purged_kfold, cpcv or walk_forward.")
FOLDS = typer.Option(5, help="Groups of the timeline: K (purged K-fold) or N (CPCV).")
TEST_GROUPS = typer.Option(2, help="CPCV: groups tested at once (k).")
EMBARGO = typer.Option(0.01, help="Fraction of the timeline embargoed after each test block.")
TRAIN = typer.Option("0", "--train", help="Walk-forward: train length, bars (5000) or 30d.")
TEST = typer.Option("0", "--test", help="Walk-forward: test length, bars or a duration.")
ANCHORED = typer.Option(False, help="Walk-forward: grow the train window from the start.")
REPEATS = typer.Option(3, help="Permutations per feature for permutation importance (0: off).")
PARALLEL = typer.Option(
    False, "--parallel/--serial", help="Folds on Dask workers (CIFT_DASK_*), or one by one here."
)


def _training_command(register: bool, doc: str) -> Callable[..., None]:
    """``cift ml cv`` (``register`` False) or ``cift ml train``: the same options."""

    def command(
        config: str = CONFIG,
        symbols: str = SYMBOLS,
        start: str | None = START,
        end: str | None = END,
        scheme: Scheme = SCHEME,
        folds: int = FOLDS,
        test_groups: int = TEST_GROUPS,
        embargo: float = EMBARGO,
        train: str = TRAIN,
        test: str = TEST,
        anchored: bool = ANCHORED,
        repeats: int = REPEATS,
        parallel: bool = PARALLEL,
        user: str = OWNER,
        as_json: bool = JSON,
    ) -> None:
        plan = ValidationPlan(
            scheme=scheme,
            folds=folds,
            test_groups=test_groups,
            embargo=embargo,
            train=train,
            test=test,
            anchored=anchored,
            importance_repeats=repeats,
        )
        with (
            _configured(user, config, symbols, start, end) as (settings, db, row, spec),
            Steps(quiet=as_json) as tell,
        ):
            outcome = run_training(
                settings,
                db,
                row,
                spec,
                plan,
                register=register,
                parallel=parallel,
                progress=tell,
                judge=path_report,
            )
        if as_json:
            print_json(outcome.to_dict())
            return
        _print_outcome(outcome)

    command.__doc__ = doc
    return command


app.command("cv")(
    _training_command(
        False,
        """Cross-validate a configuration with purged splits and log the run in MLflow.

      cift ml cv --config trend --symbols AAPL,MSFT --scheme cpcv --folds 6 --test-groups 2
    """,
    )
)
app.command("train")(
    _training_command(
        True,
        """Cross-validate, fit the final model on every row, log it in MLflow and register
    it under the configuration's name (alias challenger; 'cift ml models promote' makes
    it the champion).

      cift ml train --config trend --symbols AAPL,MSFT,NVDA --start 2024-01-02
    """,
    )
)


@app.command("predict")
def predict_command(
    model: str = typer.Argument(..., help="A registered model's name."),
    version: str = typer.Option("champion", help="Its version number or alias."),
    symbols: str = SYMBOLS,
    start: str | None = START,
    end: str | None = END,
    output: Path | None = typer.Option(None, "-o", "--output", help="Write .parquet or .csv."),
    as_json: bool = JSON,
) -> None:
    """Score stored bars with a registered model (features computed from each symbol's
    full history, so warm-ups match training).

      cift ml predict trend --symbols AAPL --start 2024-03-01 -o scores.parquet
    """
    settings = cli_settings()
    trained = load_model(settings, model, version)
    timeframe = trained.feature_set.timeframe or Timeframe.parse("1m")
    with market_store(settings) as store:
        bars = store.read(
            DataKind.BARS,
            symbols=split_symbols(symbols),
            end=range_end(start, end),
            timeframe=timeframe,
        ).collect()
    scores = trained.score(bars)
    if start:
        scores = scores.filter(pl.col("ts") >= parse_when(start))
    if output is not None:
        rows = export_frame(scores, output)
        console.print(f"wrote {rows:,} scores of {model} v{trained.version.version} to {output}")
    elif as_json:
        print_json(frame_records(scores))
    else:
        console.print(frame_table(scores.tail(20), title=f"{model} v{trained.version.version}"))


def _print_outcome(outcome: TrainingOutcome) -> None:
    summary = outcome.to_dict()
    metrics = {k: v for k, v in summary["metrics"].items() if k.startswith(("oos_", "cpcv_"))}
    table = Table(title=f"{outcome.configuration.name}: {outcome.cv.plan.scheme} out-of-sample")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in metrics.items():
        table.add_row(key.removeprefix("oos_"), "—" if value is None else f"{value:.4f}")
    console.print(table)
    console.print(frame_table(outcome.cv.importance().head(10), title="Importance (top 10)"))
    registered = (
        f", registered as {outcome.configuration.name} v{outcome.model_version} (challenger)"
        if outcome.model_version
        else ""
    )
    console.print(
        f"{outcome.dataset.rows:,} rows, {len(outcome.cv.folds)} folds; MLflow run "
        f"{outcome.run_id}{registered}"
    )
