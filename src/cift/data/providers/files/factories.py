"""Making the files provider."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cift.core.settings import Settings
from cift.data.files import FileMapping

from .provider import FilesProvider


def create(
    settings: Settings, *, paths: Sequence[Path], mapping: FileMapping | None = None
) -> FilesProvider:
    """The files provider over ``paths``."""
    del settings  # files need no credentials or limits
    return FilesProvider(paths, mapping)
