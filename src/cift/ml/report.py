"""Charts of a cross-validation: feature importance by gain and by permutation."""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl


def importance_figure(importance: pl.DataFrame) -> go.Figure:
    """Horizontal bars, the most important feature on top: gain share (left) and the
    test score lost when the feature is shuffled (right)."""
    from plotly.subplots import make_subplots

    ordered = importance.sort("gain")
    names = ordered.get_column("feature").to_list()
    figure = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        subplot_titles=("gain (share of total)", "permutation (test score lost)"),
    )
    figure.add_trace(go.Bar(x=ordered.get_column("gain").to_list(), y=names, orientation="h"), 1, 1)
    figure.add_trace(
        go.Bar(x=ordered.get_column("permutation").to_list(), y=names, orientation="h"), 1, 2
    )
    figure.update_layout(
        title="Feature importance across folds",
        showlegend=False,
        height=max(300, 24 * len(names) + 120),
        template="plotly_white",
    )
    return figure
