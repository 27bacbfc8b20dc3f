"""A fixed-size, thread-safe ring buffer of samples.

The monitor thread appends while front ends read; reads return copies so a reader never
sees the buffer change under it. Old samples fall off the front once it is full.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Iterator
from typing import Generic, TypeVar

T = TypeVar("T")

# One day at 1 Hz; a longer retention at a short interval is capped here so a typo cannot
# make the monitor hold gigabytes (each sample is a few hundred bytes).
MAX_CAPACITY = 86_400


def capacity_for(retention: float, interval: float) -> int:
    """How many samples cover ``retention`` seconds at ``interval`` (at least 1)."""
    return max(1, min(MAX_CAPACITY, math.ceil(retention / interval)))


class RingBuffer(Generic[T]):
    """The last ``capacity`` items, oldest first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._items: deque[T] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    @property
    def capacity(self) -> int:
        """The most items kept."""
        return self._items.maxlen or 0

    def append(self, item: T) -> None:
        """Add ``item``, dropping the oldest when full."""
        with self._lock:
            self._items.append(item)

    def items(self) -> list[T]:
        """A copy of the items, oldest first."""
        with self._lock:
            return list(self._items)

    def latest(self) -> T | None:
        """The newest item, or None when empty."""
        with self._lock:
            return self._items[-1] if self._items else None

    def resize(self, capacity: int) -> None:
        """Keep at most ``capacity`` items from now on (the newest ones survive)."""
        with self._lock:
            self._items = deque(self._items, maxlen=max(1, capacity))

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items())
