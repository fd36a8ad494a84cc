"""The feature catalog for the API."""

from __future__ import annotations

from cift.features.spec import all_specs

from ..schemas.features import FeatureInfo, FeatureParam


def catalog(category: str | None = None) -> list[FeatureInfo]:
    """Every feature (of ``category``, when given) with its parameters' defaults and
    bounds, inputs and outputs."""
    return [
        FeatureInfo(
            name=s.name,
            category=s.category,
            signature=s.signature(),
            inputs=list(s.inputs),
            outputs=list(s.outputs),
            params=[
                FeatureParam(
                    name=p.name,
                    default=p.default,
                    integer=p.integer,
                    minimum=p.minimum,
                    maximum=p.maximum,
                )
                for p in s.params
            ],
            forward_looking=s.forward_looking,
            description=s.description,
        )
        for s in all_specs()
        if category is None or s.category == category
    ]
