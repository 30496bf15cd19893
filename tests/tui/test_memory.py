"""The idle collector: full collections in pauses in the typing, never under a key."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from tui import memory


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def thawed() -> Iterator[None]:
    yield
    gc.unfreeze()


def test_collects_only_when_idle_and_not_too_often(thawed: None) -> None:
    clock = Clock()
    collector = memory.IdleCollector(clock)
    clock.now += memory.MIN_GAP_S + 1
    collector.input_seen()
    clock.now += memory.IDLE_AFTER_S / 2
    assert not collector.maybe_collect()  # someone is typing
    clock.now += memory.IDLE_AFTER_S
    assert collector.maybe_collect()
    assert gc.get_freeze_count() > 0  # what survived is frozen again
    clock.now += memory.MIN_GAP_S / 2
    assert not collector.maybe_collect()  # too soon after the last
    clock.now += memory.MIN_GAP_S
    assert collector.maybe_collect()


def test_cyclic_garbage_that_was_frozen_is_reclaimed(thawed: None) -> None:
    class Node:
        pass

    collected: list[str] = []
    node = Node()
    node.self = node  # type: ignore[attr-defined]  # a cycle: only the cyclic collector frees it

    ref = weakref.ref(node, lambda _r: collected.append("gone"))
    gc.freeze()
    del node
    gc.collect()
    assert ref() is not None  # frozen: a collection does not see it
    clock = Clock()
    collector = memory.IdleCollector(clock)
    clock.now += memory.MIN_GAP_S + memory.IDLE_AFTER_S
    assert collector.maybe_collect()
    assert ref() is None and collected == ["gone"]


def test_after_a_frame_the_young_generation_is_collected_if_it_is_worth_it(thawed: None) -> None:
    thresholds = gc.get_threshold()
    memory.tune_for_interaction()  # the collector's own trigger out of the way, as in the app
    try:
        _young_collected_after_a_frame()
    finally:
        gc.set_threshold(*thresholds)


def _young_collected_after_a_frame() -> None:
    collector = memory.IdleCollector(Clock())
    gc.collect()
    assert collector.after_frame() is None  # nothing to collect
    garbage = [[n] for n in range(memory.YOUNG_AFTER_FRAME * 2)]
    assert collector.after_frame() == 0
    assert gc.get_count()[0] < memory.YOUNG_AFTER_FRAME
    del garbage


async def test_a_keys_garbage_is_collected_after_its_frame_is_written(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """The collection runs once the key's frame has gone to the terminal, never between the key and its frame."""
    from tests.tui.helpers import make_app, watch_frames

    app = make_app(worker_store, offline_api, "worker")
    events: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        def collected(phase: str, info: dict[str, int]) -> None:
            if phase == "start":
                events.append(f"gc{info['generation']}")

        watch_frames(app, lambda _text: events.append("frame"))
        gc.callbacks.append(collected)
        try:
            for key in ("enter", "escape", "j", "enter", "escape"):
                events.append(key)
                await pilot.press(key)
                await pilot.pause()
        finally:
            gc.callbacks.remove(collected)
    keys = [n for n, e in enumerate(events) if e in ("enter", "escape", "j")]
    for start, end in zip(keys, [*keys[1:], len(events)]):
        after_key = events[start + 1:end]
        assert "frame" in after_key, events
        before_frame = after_key[:after_key.index("frame")]
        assert not any(e.startswith("gc") for e in before_frame), events
    assert any(e.startswith("gc") for e in events), "the frames' garbage was collected"
