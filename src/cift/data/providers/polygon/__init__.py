"""The ``polygon`` provider: Polygon (Massive) aggregates, trades and quotes over REST."""

from cift.data.providers.polygon.parse import parse_page
from cift.data.providers.polygon.provider import PolygonProvider, create

__all__ = ["PolygonProvider", "create", "parse_page"]
