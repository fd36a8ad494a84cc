"""One numba setup: every kernel comes from ``cift.core.jit.njit``, caches its machine
code in one folder named after the package's sources, and nothing lands beside them."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import numba
import pytest

from cift.core import jit
from tests.fresh import fresh_python

SRC = Path(jit.__file__).resolve().parents[1]


def test_every_kernel_is_compiled_through_the_one_setup() -> None:
    direct = []
    for path in sorted(SRC.rglob("*.py")):
        if path == Path(jit.__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [node.module] if isinstance(node, ast.ImportFrom) else []
            names += [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if "numba" in names:
                direct.append(str(path.relative_to(SRC)))
    assert direct == []


def test_the_cache_folder_follows_every_kernel_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pkg").mkdir()
    helper = tmp_path / "pkg" / "helper.py"
    helper.write_text("from cift.core.jit import njit\n\n@njit\ndef f(): return 1\n")
    other = tmp_path / "pkg" / "other.py"
    other.write_text("X = 1\n")
    before = jit.source_digest(tmp_path)
    other.write_text("X = 2\n")  # no kernel: the compiled code stays
    assert jit.source_digest(tmp_path) == before
    helper.write_text(helper.read_text().replace("1", "2"))  # an inlined helper changes
    assert jit.source_digest(tmp_path) != before
    monkeypatch.delenv("NUMBA_CACHE_DIR", raising=False)  # (a developer's own folder)
    assert jit.cache_dir().name == f"{numba.__version__}-{jit.source_digest()}"
    assert str(jit.CACHE_DIR) == numba.config.CACHE_DIR  # type: ignore[attr-defined]
    assert SRC not in jit.CACHE_DIR.parents


def test_compiled_kernels_are_cached_in_that_folder_not_beside_the_sources(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_CACHE_DIR"}
    env["XDG_CACHE_HOME"] = str(tmp_path)
    before = set(SRC.rglob("*.nbi"))
    script = (
        "import numpy as np\n"
        "from cift.core.jit import CACHE_DIR\n"
        "from cift.backtest.curve import equity_curve\n"
        "from cift.features.kernels.averages import sma_kernel\n"
        "out = np.empty((1, 5))\n"
        "sma_kernel((np.arange(5.0),), np.array([2.0]), np.zeros(8), out)\n"
        "print(CACHE_DIR)\n"
    )
    (printed,) = fresh_python(script, env=env)
    folder = Path(printed)
    assert folder.is_relative_to(tmp_path / "cift" / "numba")
    assert any(folder.rglob("*sma_kernel*.nbi"))
    assert set(SRC.rglob("*.nbi")) == before  # nothing new beside the sources
