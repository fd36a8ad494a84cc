"""``settled``: what lives before the block is frozen for its length, nested blocks keep
the freeze until the outermost ends, and garbage made inside is still collected."""

from __future__ import annotations

import gc
import weakref

from cift.core.heap import settled


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def test_nested_blocks_keep_the_freeze_until_the_outer_one_ends() -> None:
    assert gc.get_freeze_count() == 0
    with settled():
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with settled():
            pass
        assert gc.get_freeze_count() == frozen
    assert gc.get_freeze_count() == 0


def test_a_cycle_made_inside_the_block_is_collected() -> None:
    with settled():
        a, b = Node(), Node()
        a.other, b.other = b, a
        alive = weakref.ref(a)
        del a, b
        gc.collect()
        assert alive() is None


def test_the_freeze_ends_when_the_block_raises() -> None:
    try:
        with settled():
            raise RuntimeError("inside")
    except RuntimeError:
        pass
    assert gc.get_freeze_count() == 0
