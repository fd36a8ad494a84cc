"""Keep a client within a provider's request budget, across threads.

A sliding window: at most ``requests`` request starts in any ``per_seconds`` span, which
is how providers state their limits ("5 requests per minute"). A token bucket would let a
full burst follow a refill and break such a limit.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

from cift.core.errors import ValidationError


class Throttle:
    """Blocks ``acquire`` until one more request fits into the window."""

    def __init__(
        self,
        requests: int,
        per_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if requests < 1 or per_seconds <= 0:
            raise ValidationError(
                f"A request budget needs at least 1 request per positive period; "
                f"got {requests} per {per_seconds} s."
            )
        self.requests = requests
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self) -> float:
        """Book the next free slot and return how long to wait for it (seconds)."""
        with self._lock:
            now = self._clock()
            while self._starts and self._starts[0] <= now - self.per_seconds:
                self._starts.popleft()
            slot = now
            if len(self._starts) >= self.requests:
                slot = self._starts[-self.requests] + self.per_seconds
            self._starts.append(slot)
            return max(0.0, slot - now)

    def acquire(self) -> float:
        """Wait (outside the lock, so other threads can book later slots) for a slot;
        how long it waited (seconds)."""
        wait = self.reserve()
        if wait > 0:
            self._sleep(wait)
        return wait
