"""A server process settles its heap once its app is built (``entrypoints.serving``)."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from entrypoints.serving import YOUNG_COLLECTION_THRESHOLD, settle_heap


@pytest.fixture
def restored_collector() -> Iterator[None]:
    threshold = gc.get_threshold()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*threshold)


@pytest.mark.usefixtures("restored_collector")
def test_what_the_app_built_is_frozen_and_young_collections_come_later() -> None:
    built = [object() for _ in range(100)]
    older = gc.get_threshold()[1:]
    settle_heap()
    assert gc.get_freeze_count() >= len(built)
    assert gc.get_threshold() == (YOUNG_COLLECTION_THRESHOLD, *older)


@pytest.mark.usefixtures("restored_collector")
def test_garbage_cycles_are_collected_before_freezing() -> None:
    class Node:
        def __init__(self) -> None:
            self.me = self

    gc.disable()  # no collection before settle_heap's own
    try:
        cycle = weakref.ref(Node())  # unreachable at once: only the collector frees it
        assert cycle() is not None
        settle_heap()
    finally:
        gc.enable()
    assert cycle() is None
