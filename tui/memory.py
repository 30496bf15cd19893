"""Garbage collection tuned for an interactive app.

Python's cyclic collector runs when enough container objects have been allocated,
which in a Textual app is every few frames (each frame makes thousands of segments
and strips). Measured opening cases in the benchmark's app (100,000-entry directory):
1,176 young collections and 9 full ones in 44 key presses, the full ones up to 130 ms,
each landing on whatever key was being handled. So:

* once start-up is over, everything alive (modules, classes, the screens built ahead)
  is moved out of the collector's sight with ``gc.freeze()``: it lives as long as the
  process, and a collection no longer walks it;
* the young generation is collected after each key's frame is out (``after_frame``),
  before the next key comes: a frame leaves ~2,000 objects in reference cycles
  (Textual's strips hold caches that hold them), and a collection of them, 1-14 ms
  measured, used to land on every other key. The collector's own trigger is kept
  only as a safety net, at 50,000 allocations, which no single key reaches;
* full collections are put off (100 middle-generation collections instead of 10,
  minutes of typing) and run instead by ``IdleCollector`` when nobody has pressed a
  key for a while, which also thaws and re-freezes what start-up froze, so cyclic
  garbage among it is still reclaimed.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

YOUNG_THRESHOLD = 50_000
OLD_THRESHOLD = 100
#: after a frame, the young generation is collected if it holds this many objects, the middle one after this many
#: young collections (each survivor of one moves to the middle generation)
YOUNG_AFTER_FRAME = 500
MIDDLE_AFTER_FRAME = 10
#: no key or click for this long counts as idle
IDLE_AFTER_S = 2.0
#: at most one full collection per this many seconds
MIN_GAP_S = 30.0
#: how often the App asks
CHECK_EVERY_S = 5.0


def tune_for_interaction() -> None:
    _young, middle, _old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, OLD_THRESHOLD)


def settle_long_lived() -> None:
    """Call when start-up is over: what is alive now lives as long as the app."""
    gc.collect()
    gc.freeze()


def release_long_lived() -> None:
    """Call when the app closes: what was frozen may be collected again (a process that runs many apps,
    as the tests do, would otherwise keep every closed app's objects)."""
    gc.unfreeze()


class IdleCollector:
    """Runs the full collection in a pause in the typing, not under a key press."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self.last_input = clock()
        self.last_collect = clock()

    def input_seen(self) -> None:
        self.last_input = self._clock()

    def after_frame(self) -> int | None:
        """Collect the young generation (and now and then the middle one) in the pause after a key's frame:
        returns the generation collected, or None if there was too little to bother."""
        young, middle, _old = gc.get_count()
        if middle >= MIDDLE_AFTER_FRAME:
            gc.collect(1)
            return 1
        if young >= YOUNG_AFTER_FRAME:
            gc.collect(0)
            return 0
        return None

    def quiet_for(self) -> float:
        """Seconds since the last key or click."""
        return self._clock() - self.last_input

    def maybe_collect(self) -> bool:
        """Collect everything (what was frozen too) and freeze the survivors, if the user is idle and the
        last time was long enough ago; returns whether it did."""
        now = self._clock()
        if now - self.last_input < IDLE_AFTER_S or now - self.last_collect < MIN_GAP_S:
            return False
        gc.unfreeze()
        settle_long_lived()
        self.last_collect = self._clock()
        return True
