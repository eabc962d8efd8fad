"""Python's cycle collector, paused while a stage piles up objects that hold no cycles.

The corpus-wide stages make hundreds of thousands of records, sets and dictionaries that
live until the stage ends and are never part of a cycle; each automatic collection of the
oldest generation would scan them all again, which at a million words took as long as the
work itself. Pausing the collector leaves reference counting to free them.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, then as it was."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
