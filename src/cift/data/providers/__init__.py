"""Providers of historical market data, one package each, all with one protocol.

Each provider package has a ``create(settings, **options)`` factory; they are imported
only when asked for, so a missing optional client never slows or breaks the others.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from cift.core.errors import ValidationError
from cift.data.providers.base import MarketDataProvider, RateLimit, fetch

if TYPE_CHECKING:
    from cift.core.settings import Settings

PROVIDERS: dict[str, str] = {
    "synthetic": "cift.data.providers.synthetic",
    "files": "cift.data.providers.files",
    "polygon": "cift.data.providers.polygon",
    "alpaca": "cift.data.providers.alpaca",
}


def get_provider(name: str, settings: Settings, **options: Any) -> MarketDataProvider:
    """Create the provider called ``name`` (options go to its factory).

    >>> from cift.core.settings import Settings
    >>> provider = get_provider("synthetic", Settings(_env_file=None))
    >>> provider.name, sorted(kind.value for kind in provider.kinds)
    ('synthetic', ['bars', 'quotes', 'trades'])
    >>> get_provider("bloomberg", Settings(_env_file=None))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cift.core.errors.ValidationError: Unknown provider 'bloomberg'; choose one of synthetic, ...
    """
    if name not in PROVIDERS:
        raise ValidationError(f"Unknown provider {name!r}; choose one of {', '.join(PROVIDERS)}.")
    module = importlib.import_module(PROVIDERS[name])
    provider: MarketDataProvider = module.create(settings, **options)
    return provider


__all__ = ["PROVIDERS", "MarketDataProvider", "RateLimit", "fetch", "get_provider"]
