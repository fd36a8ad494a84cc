"""Feature specifications and the registry: names, parameters, inputs, outputs, kernel.

A feature is called by name with parameters, like TA-Lib: ``rsi(14)``,
``macd(12, 26, 9)``, ``bbands(timeperiod=20, nbdevup=2)``; an alias names its outputs:
``fast=sma(10)``.
"""

from __future__ import annotations

import ast
import importlib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cift.core.errors import ValidationError

Kernel = Callable[[Any, np.ndarray, np.ndarray, np.ndarray], None]
"""``kernel(inputs, params, state, out)``: see :mod:`cift.features.kernels` (``inputs``
is a tuple of arrays, which the compiled kernels annotate as their element type)."""
StateSize = Callable[[np.ndarray], int]
"""The length of a kernel's state vector for the given parameters."""
Check = Callable[[np.ndarray], str | None]
"""What is wrong with a combination of parameters (``fast < slow``), or None."""


@dataclass(frozen=True)
class Param:
    """One numeric parameter of a feature."""

    name: str
    default: float
    integer: bool = True
    minimum: float | None = None
    maximum: float | None = None
    description: str = ""

    def check(self, feature: str, value: Any) -> float:
        """``value`` as this parameter's number, or a clear error."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{feature}: {self.name} must be a number, got {value!r}.")
        if not math.isfinite(value):
            raise ValidationError(f"{feature}: {self.name} must be finite, got {value!r}.")
        if self.integer and float(value) != int(value):
            raise ValidationError(f"{feature}: {self.name} must be a whole number, got {value!r}.")
        if self.minimum is not None and value < self.minimum:
            raise ValidationError(
                f"{feature}: {self.name} must be at least {self.minimum:g}, got {value!r}."
            )
        if self.maximum is not None and value > self.maximum:
            raise ValidationError(
                f"{feature}: {self.name} must be at most {self.maximum:g}, got {value!r}."
            )
        return float(value)


@dataclass(frozen=True)
class FeatureSpec:
    """What a feature computes and how."""

    name: str
    category: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: tuple[Param, ...]
    kernel: Kernel
    state_size: StateSize
    description: str
    forward_looking: bool = False
    check: Check | None = None

    def new_state(self, params: np.ndarray) -> np.ndarray:
        """A fresh state vector (all zeros) for one series."""
        return np.zeros(self.state_size(params), dtype=np.float64)

    def signature(self) -> str:
        args = ", ".join(f"{p.name}={p.default:g}" for p in self.params)
        return f"{self.name}({args})"


@dataclass(frozen=True)
class FeatureCall:
    """A feature with concrete parameter values and the names of its output columns."""

    spec: FeatureSpec
    values: tuple[float, ...]
    alias: str | None = None
    columns: tuple[str, ...] = field(default=())

    @property
    def params(self) -> np.ndarray:
        return np.asarray(self.values, dtype=np.float64)

    def text(self) -> str:
        """Canonical call text, e.g. ``macd(12,26,9)``."""
        shown = ",".join(f"{v:g}" for v in self.values)
        prefix = f"{self.alias}=" if self.alias else ""
        return f"{prefix}{self.spec.name}({shown})"


REGISTRY: dict[str, FeatureSpec] = {}


def register(spec: FeatureSpec) -> FeatureSpec:
    """Add ``spec`` to the registry (names are unique)."""
    if spec.name in REGISTRY:
        raise ValueError(f"feature {spec.name!r} registered twice")
    REGISTRY[spec.name] = spec
    return spec


def fixed_state(size: int) -> StateSize:
    """A state size that does not depend on the parameters."""

    def state(params: np.ndarray) -> int:
        return size

    return state


def define(
    category: str,
    name: str,
    kernel: Kernel,
    state: StateSize,
    params: tuple[Param, ...],
    description: str,
    *,
    inputs: tuple[str, ...],
    outputs: tuple[str, ...] | None = None,
    forward_looking: bool = False,
    check: Check | None = None,
) -> FeatureSpec:
    """Register a built-in feature (the catalog modules call this through small wrappers
    that give their category and usual inputs). ``kernel`` is a numba dispatcher."""
    return register(
        FeatureSpec(
            name=name,
            category=category,
            inputs=inputs,
            outputs=outputs or (name,),
            params=params,
            kernel=kernel,
            state_size=state,
            description=description,
            forward_looking=forward_looking,
            check=check,
        )
    )


def lookup(name: str) -> FeatureSpec:
    """The spec called ``name`` (case-insensitive), or an error listing every feature.

    >>> spec = lookup("MACD")
    >>> spec.signature()
    'macd(fastperiod=12, slowperiod=26, signalperiod=9)'
    >>> spec.inputs, spec.outputs
    (('close',), ('macd', 'macd_signal', 'macd_hist'))
    """
    spec = _load_builtins(until=name.lower())
    if spec is None:
        raise ValidationError(
            f"Unknown feature {name!r}; choose from: {', '.join(sorted(REGISTRY))}."
        )
    return spec


def bind(
    spec: FeatureSpec, args: list[Any], kwargs: dict[str, Any], alias: str | None = None
) -> FeatureCall:
    """Check arguments against the spec's parameters and make a call."""
    names = [p.name for p in spec.params]
    if len(args) > len(names):
        raise ValidationError(
            f"{spec.name} takes at most {len(names)} parameter(s): {spec.signature()}."
        )
    given = dict(zip(names, args, strict=False))
    for key, value in kwargs.items():
        if key not in names:
            raise ValidationError(
                f"{spec.name} has no parameter {key!r}; its parameters: {spec.signature()}."
            )
        if key in given:
            raise ValidationError(f"{spec.name}: {key} given twice.")
        given[key] = value
    values = tuple(p.check(spec.name, given.get(p.name, p.default)) for p in spec.params)
    if spec.check is not None:
        problem = spec.check(np.asarray(values, dtype=np.float64))
        if problem:
            raise ValidationError(f"{spec.name}: {problem}.")
    return FeatureCall(spec, values, alias)


_CALL = re.compile(
    r"^\s*(?:(?P<alias>[A-Za-z_]\w*)\s*=\s*)?(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<args>.*)\))?\s*$"
)


def parse_call(text: str) -> FeatureCall:
    """Read ``rsi(14)``, ``bbands(timeperiod=20, nbdevup=2)`` or ``fast=sma(10)``.

    >>> parse_call("rsi(14)").text()
    'rsi(14)'
    >>> call = parse_call("bbands(timeperiod=20, nbdevup=2)")
    >>> call.spec.outputs, call.values[:2]
    (('bbands_upper', 'bbands_middle', 'bbands_lower'), (20.0, 2.0))
    >>> parse_call("fast=sma(10)").text()
    'fast=sma(10)'
    >>> parse_call("rsi(1)")
    Traceback (most recent call last):
    ...
    cift.core.errors.ValidationError: rsi: timeperiod must be at least 2, got 1.
    """
    match = _CALL.match(text)
    if match is None:
        raise ValidationError(f"Cannot read feature {text!r}; write e.g. rsi(14) or macd(12,26,9).")
    spec = lookup(match.group("name"))
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    if match.group("args"):
        try:
            call = ast.parse(f"f({match.group('args')})", mode="eval").body
            assert isinstance(call, ast.Call)
            args = [ast.literal_eval(a) for a in call.args]
            kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg}
        except (SyntaxError, ValueError, AssertionError):
            raise ValidationError(
                f"Cannot read the parameters of {text!r}; use numbers, e.g. {spec.signature()}."
            ) from None
    return bind(spec, args, kwargs, match.group("alias"))


def split_calls(text: str) -> list[str]:
    """Split ``"rsi(14),macd(12,26,9)"`` at the commas outside parentheses.

    >>> split_calls("rsi(14), macd(12,26,9)")
    ['rsi(14)', 'macd(12,26,9)']
    """
    parts: list[str] = []
    current: list[str] = []
    depth = 0
    for char in text:
        depth += char == "("
        depth -= char == ")"
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [p.strip() for p in parts if p.strip()]


def name_columns(calls: list[FeatureCall]) -> list[FeatureCall]:
    """Give each output a column name: the output's own name, suffixed with the
    parameters when two calls would otherwise collide, prefixed by an alias if given."""
    counts: dict[str, int] = {}
    for call in calls:
        if call.alias is None:
            for output in call.spec.outputs:
                counts[output] = counts.get(output, 0) + 1
    named = []
    for call in calls:
        suffix = "_".join(f"{v:g}".replace(".", "p") for v in call.values)
        columns = []
        for output in call.spec.outputs:
            if call.alias is not None:
                rest = output.removeprefix(call.spec.name)
                columns.append(f"{call.alias}{rest}")
            elif counts[output] > 1 and suffix:
                columns.append(f"{output}_{suffix}")
            else:
                columns.append(output)
        named.append(FeatureCall(call.spec, call.values, call.alias, tuple(columns)))
    seen: set[str] = set()
    for call in named:
        for column in call.columns:
            if column in seen:
                raise ValidationError(
                    f"Two features would both write column {column!r}; give one an alias, "
                    f"e.g. x={call.spec.name}(...)."
                )
            seen.add(column)
    return named


def _load_builtins(until: str | None = None) -> FeatureSpec | None:
    """Import the modules of ``cift.features.catalog`` (each registers its features),
    all of them or only until the feature called ``until`` is registered; that
    feature, if found."""
    from cift.features import catalog

    for module in catalog.MODULES:
        if until is not None and until in REGISTRY:
            break
        importlib.import_module(f"{catalog.__name__}.{module}")
    return REGISTRY.get(until) if until is not None else None


def all_specs() -> list[FeatureSpec]:
    """Every registered feature, by name."""
    _load_builtins()
    return [REGISTRY[name] for name in sorted(REGISTRY)]
