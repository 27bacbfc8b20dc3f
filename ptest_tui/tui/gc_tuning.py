"""Short garbage-collector pauses while the app runs.

Widgets, styles, themes and imported modules live as long as the app; a full collection
walked all of them (300,000 objects, up to 200 ms with the screen frozen) whenever enough
new objects had piled up. Once the app has settled they are collected once, then frozen
out of later passes. A larger youngest generation lets the short-lived objects of each
frame die there instead of being promoted into full passes.
"""

from __future__ import annotations

import gc

GC_THRESHOLDS = (5_000, 20, 20)  # the collector's generation thresholds while running


def freeze_startup_objects() -> tuple[int, int, int]:
    """Collect, freeze what survives, raise the thresholds; returns the old thresholds."""
    gc.collect()
    gc.freeze()
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    return before


def thaw(before: tuple[int, int, int]) -> None:
    """Undo :func:`freeze_startup_objects` (an app inside a longer process: tests)."""
    gc.set_threshold(*before)
    gc.unfreeze()
