"""The local tracking store before anything is trained: reads find nothing, make nothing."""

from __future__ import annotations

import shutil
import uuid

import pytest

from cift.backtest.demo import MODEL
from cift.core.errors import NotFoundError
from cift.ml import tracking
from tests.conftest import SettingsFactory
from tests.demo_home import demo_home
from tests.fresh import fresh_python


def test_reads_of_a_store_never_made_find_nothing_and_make_no_store(
    make_settings: SettingsFactory,
) -> None:
    settings = make_settings()
    assert tracking.nothing_tracked(settings)
    assert tracking.registered_models(settings) == []
    assert tracking.runs_tagged(settings, "data_hash", "abc") == []
    assert tracking.versions_of_run(settings, "0" * 32) == []
    for read in (
        lambda: tracking.model_versions(settings, "alpha"),
        lambda: tracking.resolve_version(settings, "alpha", "champion"),
        lambda: tracking.owned_by(settings, "alpha", uuid.uuid4()),
        lambda: tracking.promote(settings, "alpha", 1),
    ):
        with pytest.raises(NotFoundError, match="No registered model 'alpha'"):
            read()
    assert not tracking.local_store(settings).exists()


def test_a_made_store_is_read_through_mlflow(
    make_settings: SettingsFactory, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The demo's store (copied: making one takes seconds) holds its champion."""
    settings = make_settings()
    shutil.copytree(demo_home(tmp_path_factory) / "mlflow", settings.home / "mlflow")
    assert not tracking.nothing_tracked(settings)
    name = str(MODEL["name"])
    assert [m["name"] for m in tracking.registered_models(settings)] == [name]
    assert tracking.resolve_version(settings, name, "champion").version == 1
    with pytest.raises(NotFoundError, match="No registered model 'beta'"):
        tracking.model_versions(settings, "beta")


def test_listing_models_on_a_new_home_loads_no_mlflow(make_settings: SettingsFactory) -> None:
    """``cift ml models ls`` on a new installation answers at once: importing MLflow and
    migrating a new store would take seconds to say there is nothing."""
    home = make_settings().home
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from cift.cli.app import app\n"
        "done = CliRunner().invoke(app, ['ml', 'models', 'ls', '--json'],"
        " env={'CIFT_HOME': sys.argv[1]})\n"
        "print(done.exit_code, done.stdout.strip())\n"
        "print('mlflow' in sys.modules)\n"
    )
    assert fresh_python(script, str(home)) == ["0 []", "False"]
    assert not (home / "mlflow" / "mlflow.db").exists()
