"""``settled``: what lives before the block is frozen for its length, nested blocks keep
the freeze until the outermost ends, a freeze made before the block outlives it, and
garbage made inside is still collected."""

from __future__ import annotations

import gc
import os
import weakref

from cift.core.heap import settled
from tests.fresh import fresh_python


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None


def _scanned(node: Node) -> bool:
    """Whether the collector scans ``node`` (a frozen object is in no generation)."""
    return any(o is node for o in gc.get_objects())


def test_nested_blocks_keep_the_freeze_until_the_outer_one_ends() -> None:
    before = Node()
    assert gc.get_freeze_count() == 0
    assert _scanned(before)
    with settled():
        assert not _scanned(before)
        with settled():
            pass
        assert not _scanned(before)
    assert gc.get_freeze_count() == 0
    assert _scanned(before)


def test_a_freeze_made_before_the_block_is_left_to_its_owner() -> None:
    """An application that froze its heap (e.g. before forking workers) keeps it frozen
    after a backtest ran inside it."""
    before = Node()
    gc.freeze()
    try:
        with settled():
            during = Node()
        assert not _scanned(before)  # still frozen: the block did not unfreeze it
        assert _scanned(during)  # made inside the block: collected as usual
    finally:
        gc.unfreeze()
    assert _scanned(before)


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


def test_importing_cift_freezes_what_is_alive_at_exit() -> None:
    """The exit handlers leave the collector nothing to take apart (``settle_at_exit``)."""
    script = (
        "import atexit, gc, cift\n"
        "alive = len(gc.get_objects())\n"
        "assert gc.get_freeze_count() == 0\n"
        "atexit._run_exitfuncs()\n"
        "print(gc.get_freeze_count() >= alive, len(gc.get_objects()))\n"
    )
    # Without coverage's own exit handler, which runs after this one and frees objects.
    alone = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    (line,) = fresh_python(script, env=alone)
    frozen_all, left = line.split()
    assert frozen_all == "True"
    assert int(left) < 100  # only what the last lines made
