"""How well a model's scores predict: classification metrics, information coefficients.

The information coefficient (IC) is the correlation, within each period (a UTC day),
between the scores and the realised forward returns; the rank IC is Spearman's. Their
means over periods, with the ratio of mean to standard deviation (IC IR), say whether
a model ranks outcomes consistently rather than on a few lucky days. The hit rate is the
fraction of rows with a non-zero outcome whose sign the signal got right.
"""

from __future__ import annotations

import math

import numpy as np
import polars as pl

MIN_ROWS_PER_PERIOD = 3


def information_coefficients(ts: pl.Series, score: np.ndarray, fwd_ret: np.ndarray) -> pl.DataFrame:
    """``period, rows, ic, rank_ic`` per UTC day with at least three rows that vary."""
    frame = pl.DataFrame({"ts": ts, "score": score, "ret": fwd_ret})
    return (
        frame.group_by(pl.col("ts").dt.date().alias("period"))
        .agg(
            pl.len().alias("rows"),
            pl.corr("score", "ret").alias("ic"),
            pl.corr("score", "ret", method="spearman").alias("rank_ic"),
        )
        .filter(
            (pl.col("rows") >= MIN_ROWS_PER_PERIOD)
            & pl.col("ic").is_finite()
            & pl.col("rank_ic").is_finite()
        )
        .sort("period")
    )


def score_metrics(
    classifies: bool,
    ts: pl.Series,
    score: np.ndarray,
    target: np.ndarray,
    fwd_ret: np.ndarray,
) -> dict[str, float]:
    """Metrics of ``score`` against ``target`` (what the learner predicts) and the
    forward returns: AUC, log-loss and accuracy for classifiers, RMSE and R² for
    regressors; IC, rank IC, IC IR and the hit rate for both."""
    from sklearn import metrics as sk

    out: dict[str, float] = {}
    if classifies:
        both = np.unique(target).size == 2
        out["auc"] = float(sk.roc_auc_score(target, score)) if both else math.nan
        out["log_loss"] = float(
            sk.log_loss(target, np.clip(score, 1e-15, 1 - 1e-15), labels=[0, 1])
        )
        out["accuracy"] = float(sk.accuracy_score(target, score > 0.5))
        direction = np.sign(score - 0.5)
    else:
        out["rmse"] = float(math.sqrt(sk.mean_squared_error(target, score)))
        out["r2"] = float(sk.r2_score(target, score))
        direction = np.sign(score)
    moved = fwd_ret != 0
    out["hit_rate"] = (
        float(np.mean(direction[moved] == np.sign(fwd_ret[moved]))) if moved.any() else math.nan
    )
    periods = information_coefficients(ts, score, fwd_ret)
    ic = periods.get_column("ic")
    out["ic"] = float(ic.mean()) if periods.height else math.nan  # type: ignore[arg-type]
    out["rank_ic"] = float(periods.get_column("rank_ic").mean()) if periods.height else math.nan  # type: ignore[arg-type]
    spread = float(ic.std()) if periods.height > 1 else math.nan  # type: ignore[arg-type]
    out["ic_ir"] = out["ic"] / spread if spread and math.isfinite(spread) else math.nan
    out["ic_periods"] = float(periods.height)
    return out
