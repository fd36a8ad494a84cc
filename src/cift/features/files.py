"""Features on a plain file, without a store: ``cift features compute --input``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import polars as pl

from cift.core.errors import ValidationError
from cift.data.files.mapping import BUYER_MAKER, FileMapping, find_column
from cift.data.files.reading import read_file
from cift.features.engine import compute
from cift.features.spec import FeatureCall


def compute_for_file(
    path: Path, calls: Sequence[FeatureCall], mapping: FileMapping | None = None
) -> pl.DataFrame:
    """The file's own columns plus one column per feature output.

    Input columns are found by their usual names (``Close`` or ``close``, ``Volume``...) or
    by ``mapping.rename``. Rows are grouped by symbol when the file has a symbol column
    (keeping the file's order within each symbol), which must be time order.
    """
    mapping = mapping or FileMapping()
    raw = read_file(path, mapping)
    needed = sorted({name for call in calls for name in call.spec.inputs})
    if "side" in needed and find_column(raw.columns, "side", mapping.rename) is None:
        raw = raw.with_columns(_aggressor_side(raw.columns))
    found = {name: find_column(raw.columns, name, mapping.rename) for name in needed}
    missing = [name for name, column in found.items() if column is None]
    if missing:
        raise ValidationError(
            f"{path}: the features need column(s) {missing}, which are not among {raw.columns}; "
            "name them with --map FILE_COLUMN=CIFT_COLUMN."
        )
    symbol = find_column(raw.columns, "symbol", mapping.rename)
    if symbol is not None:
        raw = raw.sort(symbol, maintain_order=True)
    inputs = raw.select(
        *([pl.col(symbol).cast(pl.String).alias("symbol")] if symbol else []),
        *[pl.col(str(column)).alias(name) for name, column in found.items()],
    )
    result = compute(inputs, calls)
    outputs = [c for c in result.columns if c not in inputs.columns]
    clashes = sorted(set(outputs) & set(raw.columns))
    if clashes:
        raise ValidationError(
            f"{path}: output column(s) {clashes} already exist in the file; rename the "
            "features with an alias, e.g. x=rsi(14)."
        )
    return pl.concat([raw, result.select(outputs)], how="horizontal")


def _aggressor_side(columns: list[str]) -> pl.Expr:
    """``side`` as the importer derives it: from an exchange's ``buyer_maker`` flag (True:
    the seller was the aggressor), else 0 (unknown)."""
    maker = next((c for c in columns if c.lower() == BUYER_MAKER), None)
    if maker is None:
        return pl.lit(0, dtype=pl.Int8).alias("side")
    flag = pl.col(maker).cast(pl.String).str.to_lowercase()
    return (
        (pl.when(flag == "true").then(-1).when(flag == "false").then(1).otherwise(0))
        .cast(pl.Int8)
        .alias("side")
    )
