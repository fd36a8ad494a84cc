"""The ``polygon`` provider: Polygon (Massive) aggregates, trades and quotes over REST."""

from cift.data.providers.polygon.factories import create
from cift.data.providers.polygon.parse import parse_page
from cift.data.providers.polygon.provider import PolygonProvider

__all__ = ["PolygonProvider", "create", "parse_page"]
