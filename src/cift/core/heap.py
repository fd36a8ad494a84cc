"""Keep the cyclic garbage collector off what a long loop only reads.

CPython's collector re-scans every tracked object at each full collection. A backtest
loop allocates orders and fills steadily, which triggers full collections over the
hundreds of thousands of objects that imports and set-up left behind; none of them can
become garbage inside the loop. ``settled()`` moves them out of the collector's view for
the block (``gc.freeze``) and back afterwards: objects made inside the block are
collected as usual. Blocks may nest or overlap across threads: the first to enter
freezes, the last to leave unfreezes. A heap frozen already when the first enters (by
the application, e.g. before forking workers) is left as it is: that freeze is its
owner's to undo, and freezing more would keep objects that die later from ever being
collected.

``settle_at_exit()`` does the same for the interpreter's own shutdown, which otherwise
takes every object of every imported module apart in one last collection.
"""

from __future__ import annotations

import atexit
import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class _Blocks:
    """The ``settled`` blocks open now, across threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open = 0
        self.frozen_before = False


_BLOCKS = _Blocks()


@contextmanager
def settled() -> Iterator[None]:
    """Objects alive now are not scanned by the collector until the block ends.

    >>> import gc
    >>> with settled():
    ...     gc.get_freeze_count() > 0
    True
    """
    with _BLOCKS.lock:
        if _BLOCKS.open == 0:
            _BLOCKS.frozen_before = gc.get_freeze_count() > 0
            if not _BLOCKS.frozen_before:
                gc.freeze()
        _BLOCKS.open += 1
    try:
        yield
    finally:
        with _BLOCKS.lock:
            _BLOCKS.open -= 1
            if _BLOCKS.open == 0 and not _BLOCKS.frozen_before:
                gc.unfreeze()


def settle_at_exit() -> None:
    """At interpreter exit, leave the objects alive then to the operating system.

    Python's shutdown ends with a collection that takes apart, one by one, every object
    the imports made: about 0.8 s for the whole CLI and 0.3 s after a numba kernel ran,
    paid by every ``cift`` command and every script that runs a backtest. Freezing
    them at exit skips that work. Objects are still released by reference counting as
    modules are cleared, and every other exit handler still runs; only garbage caught
    in reference cycles at that moment is left to the operating system, as on a kill,
    which every writer in CIFT survives (writes are atomic, the bus and the store
    replay from their last acknowledged offset).
    """
    atexit.register(gc.freeze)
