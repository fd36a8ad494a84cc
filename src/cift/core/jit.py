"""One numba setup for every compiled kernel in CIFT: import ``njit`` from here.

Compiled machine code is cached on disk (``cache=True`` always) in one folder per numba
version and package source: ``~/.cache/cift/numba/<numba version>-<hash>``, or
``NUMBA_CACHE_DIR`` when that is set. numba's own cache notices edits only to the module
of a kernel, not to the helpers it inlines from other modules, so the folder is named
after a hash of every module that compiles kernels: a changed helper never runs through
stale machine code, and nothing is written beside the sources.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, TypeVar, cast, overload

import numba

PACKAGE = Path(__file__).resolve().parents[1]
MARKER = b"cift.core.jit"
"""What a module that compiles kernels contains (``from cift.core.jit import njit``)."""
F = TypeVar("F", bound=Callable[..., Any])


def source_digest(root: Path = PACKAGE) -> str:
    """A short hash of every module under ``root`` that compiles kernels (those that
    import this one): a change elsewhere in the package keeps the compiled code."""
    digest = hashlib.sha256()
    # Resolved once: rglob under a resolved root yields resolved paths, and resolving
    # each module's path took 0.15 s of every start-up that loads a kernel.
    root, here = root.resolve(), Path(__file__).resolve()
    for path in sorted(root.rglob("*.py")):
        source = path.read_bytes()
        if MARKER in source or path == here:
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(source)
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where this version of the package keeps its compiled kernels."""
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"])
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "cift" / "numba" / f"{numba.__version__}-{source_digest()}"


CACHE_DIR = cache_dir()
numba.config.CACHE_DIR = str(CACHE_DIR)  # type: ignore[attr-defined]


@overload
def njit(function: F, /) -> F: ...


@overload
def njit(
    *, inline: Literal["always", "never"] = "never", nogil: bool = False
) -> Callable[[F], F]: ...


def njit(
    function: F | None = None,
    /,
    *,
    inline: Literal["always", "never"] = "never",
    nogil: bool = False,
) -> F | Callable[[F], F]:
    """``numba.njit`` with the cache on, in :data:`CACHE_DIR`: ``@njit``, or
    ``@njit(inline="always")`` for a helper compiled into its callers, or
    ``@njit(nogil=True)`` for a kernel that runs beside other threads."""

    def compile_(target: F) -> F:
        return cast(F, numba.njit(cache=True, inline=inline, nogil=nogil)(target))

    return compile_ if function is None else compile_(function)
