"""What a model learns to predict: a label spec, and the labels it gives a frame of bars.

Every label row keeps the interval its outcome depends on: ``label_start`` (the bar it
is made at) and ``label_end`` (the bar whose close settles it). Cross-validation purges
training rows whose interval overlaps a test row's, so this interval is what makes
leakage through overlapping labels detectable at all.
"""

from __future__ import annotations

from typing import Any, Literal, Self

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

LABEL_COLUMNS = ("label_start", "label_end", "fwd_ret", "fwd_label")
"""What every labelled row carries besides ``symbol, ts`` and the features."""


class LabelSpec(BaseModel):
    """The target: the forward return over ``horizon`` bars, or its triple-barrier sign."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["forward_return", "triple_barrier"]
    horizon: int = Field(ge=1, le=100_000, description="Bars ahead (the vertical barrier).")
    profit_taking: float | None = Field(None, gt=0, le=100, description="Upper barrier, in vols.")
    stop_loss: float | None = Field(None, gt=0, le=100, description="Lower barrier, in vols.")
    volatility_span: int = Field(
        100, ge=2, le=100_000, description="Bars of the EWMA volatility the barriers scale by."
    )

    @model_validator(mode="after")
    def _barriers(self) -> Self:
        barriers = (self.profit_taking, self.stop_loss)
        if self.kind == "triple_barrier" and None in barriers:
            raise ValueError("a triple_barrier label needs profit_taking and stop_loss")
        if self.kind == "forward_return" and barriers != (None, None):
            raise ValueError("a forward_return label has no barriers")
        return self

    @property
    def content(self) -> dict[str, Any]:
        """The canonical form: what the label values depend on (a forward return does
        not depend on the volatility span)."""
        unused = {"volatility_span"} if self.kind == "forward_return" else set()
        return self.model_dump(exclude_none=True, exclude=unused)

    @property
    def breakeven(self) -> float:
        """The probability of a positive outcome at which a long bet breaks even: with
        barriers ``pt`` and ``sl`` a win pays ``pt`` and a loss costs ``sl`` (in vols),
        so it is ``sl / (pt + sl)``; a forward return's sign is symmetric (½)."""
        if self.profit_taking is None or self.stop_loss is None:
            return 0.5
        return self.stop_loss / (self.profit_taking + self.stop_loss)

    def text(self) -> str:
        """Short and readable, e.g. ``triple_barrier(h=20, pt=2, sl=1)``."""
        if self.kind == "forward_return":
            return f"forward_return(h={self.horizon})"
        return (
            f"triple_barrier(h={self.horizon}, pt={self.profit_taking:g}, "
            f"sl={self.stop_loss:g}, span={self.volatility_span})"
        )


def label_bars(bars: pl.DataFrame, spec: LabelSpec) -> pl.DataFrame:
    """FORWARD-LOOKING: ``symbol, ts`` and :data:`LABEL_COLUMNS` for each bar whose label
    the data settles (rows near the end, whose outcome lies past the last bar, are left
    out rather than labelled from a cut path). ``fwd_label`` is the outcome's sign.
    The labels' kernels load here: the spec alone (an API schema) needs no numba."""
    from cift.features.labels import forward_returns, volatility_barrier_labels

    if spec.kind == "forward_return":
        column = f"fwd_ret_{spec.horizon}"
        labelled = forward_returns(bars, spec.horizon).select(
            "symbol",
            "ts",
            pl.col("ts").alias("label_start"),
            pl.col("ts").shift(-spec.horizon).over("symbol").alias("label_end"),
            pl.col(column).alias("fwd_ret"),
        )
        settled = labelled.filter(pl.col("fwd_ret").is_not_null())
        signed = pl.col("fwd_ret").sign().cast(pl.Int8).alias("fwd_label")
        return settled.with_columns(signed).collect()
    assert spec.profit_taking is not None
    assert spec.stop_loss is not None
    barriers = volatility_barrier_labels(
        bars,
        horizon=spec.horizon,
        pt=spec.profit_taking,
        sl=spec.stop_loss,
        span=spec.volatility_span,
    )
    return (
        barriers.filter(pl.col("fwd_barrier") != "end")
        .select(
            "symbol",
            "ts",
            pl.col("ts").alias("label_start"),
            pl.col("fwd_t1").alias("label_end"),
            "fwd_ret",
            "fwd_label",
        )
        .collect()
    )
