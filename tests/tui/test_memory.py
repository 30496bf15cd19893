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
