"""The feature catalog as Markdown (``docs/feature-catalog.md``), from the registry."""

from __future__ import annotations

from itertools import groupby

from cift.features.spec import FeatureSpec, all_specs

TITLES = {
    "technical": "Technical indicators",
    "order_flow": "Order flow",
    "microstructure": "Microstructure",
    "transforms": "Transforms",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _row(spec: FeatureSpec) -> str:
    params = ", ".join(f"`{p.name}={p.default:g}`" for p in spec.params) or "none"
    outputs = ", ".join(f"`{o}`" for o in spec.outputs)
    marker = " **(forward-looking)**" if spec.forward_looking else ""
    inputs = ", ".join(spec.inputs) or "none"
    return (
        f"| `{spec.name}` | {params} | {inputs} | {outputs} | {_cell(spec.description)}{marker} |"
    )


def catalog_markdown() -> str:
    """Every registered feature by category: parameters with defaults, inputs, outputs."""
    specs = sorted(all_specs(), key=lambda s: (s.category, s.name))
    lines = [
        "# Feature catalog",
        "",
        "Generated from the feature registry by `cift features docs`; do not edit by hand.",
        f"{len(specs)} features. Call one as `name(param, ...)` or `name(param=value)`; "
        "see [features.md](features.md).",
    ]
    for category, group in groupby(specs, key=lambda s: s.category):
        lines += [
            "",
            f"## {TITLES.get(category, category.replace('_', ' ').capitalize())}",
            "",
            "| feature | parameters (defaults) | inputs | outputs | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        lines += [_row(spec) for spec in group]
    return "\n".join(lines) + "\n"
