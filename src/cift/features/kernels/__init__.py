"""Compiled streaming kernels: each takes its state and returns it updated.

A kernel has the signature ``kernel(inputs, params, state, out)``: ``inputs`` is a
tuple of ``k`` float64 arrays of equal length (one per input column), ``params`` a
float64 array, ``state`` a float64 vector it updates in place, and ``out`` an
``(m, rows)`` array in which it must write every row (NaN during warm-up: the array is
not initialised).

Compiled code is cached on disk in a folder named after a hash of these sources:
numba's own cache only notices edits to a kernel's module, not to the helpers it
inlines, so a changed helper must never run through stale machine code.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numba


def _cache_dir() -> Path:
    sources = sorted(Path(__file__).parent.glob("*.py"))
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "cift" / "numba" / f"{numba.__version__}-{digest}"


if not os.environ.get("NUMBA_CACHE_DIR"):
    numba.config.CACHE_DIR = str(_cache_dir())  # type: ignore[attr-defined]
