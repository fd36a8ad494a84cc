"""How hard the property and fuzz tests search: the everyday budget, or a deeper one
(``make test-deep`` sets ``CIFT_TEST_DEPTH``, a multiplier)."""

from __future__ import annotations

import os

DEPTH = max(1, int(os.environ.get("CIFT_TEST_DEPTH", "1")))


def deep(examples: int) -> int:
    """``examples`` times the depth asked for."""
    return examples * DEPTH
