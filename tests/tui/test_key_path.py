"""Nothing a key press does waits for the store's writer (the sync engine may be holding it for a big page), and no
answer from the server is worked on inside a key press."""

from __future__ import annotations

import threading
import time

from screens.case import CaseScreen
from screens.caseload import CaseList
from tests.tui.helpers import make_app, wait_until
from tui.app import TYPING_GAP_S


async def test_a_case_opens_while_a_sync_write_holds_the_store(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    held, release = threading.Event(), threading.Event()

    def long_write() -> None:
        # what SyncEngine._put does with a 5,000-event chronology: a write in a thread, holding the store's lock
        with worker_store._write(False):  # noqa: SLF001
            held.set()
            release.wait(10)

    async with app.run_test(size=(120, 40)) as pilot:
        case_id = worker_store.caseload("worker")[app.screen.query_one(CaseList).cursor].id
        writer = threading.Thread(target=long_write)
        writer.start()
        assert held.wait(5)
        try:
            started = time.monotonic()
            await pilot.press("enter")
            await wait_until(pilot, lambda: isinstance(app.screen, CaseScreen) and app.screen.case_id == case_id,
                             timeout=5, what="the case screen")
            assert time.monotonic() - started < 2, "opening the case waited for the store's writer"
            assert not [v for v in worker_store.pending_views() if v.case_id == case_id]  # not yet: it waits
        finally:
            release.set()
            writer.join()
        # the view is recorded (for the server's audit trail) once the writer is free
        await wait_until(pilot, lambda: [v for v in worker_store.pending_views() if v.case_id == case_id],
                         what="the view to be recorded")


async def test_a_server_answer_waits_for_the_frame_of_the_key_in_hand(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """On a slow network answers come at any moment: one that comes while a key is being handled is decoded and
    used after that key's frame has gone out (``CaseAPI.hold_answers``), not inside it."""
    import asyncio

    from textual import events

    from tests.tui.helpers import watch_frames

    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert offline_api._answer_gate is not None  # noqa: SLF001 - the App holds the API's answers
        frames: list[str] = []
        watch_frames(app, frames.append)
        handed_on: list[tuple[int, int]] = []  # (frames written when the key was handled, when the answer went on)
        answers: list[asyncio.Task[None]] = []
        handle = app.on_event

        async def answer(frames_then: int) -> None:
            await offline_api._through_gate()  # noqa: SLF001 - what each answer awaits
            handed_on.append((frames_then, len(frames)))

        async def spy(event: events.Event) -> None:
            await handle(event)
            if isinstance(event, events.Key):  # handled, its frame not yet written: an answer comes now
                answers.append(asyncio.create_task(answer(len(frames))))

        app.on_event = spy  # type: ignore[method-assign]
        await pilot.press("j")
        await pilot.pause()
        await asyncio.gather(*answers)
        assert handed_on  # (the App sees a key twice: on its way to the focused widget, and bubbling back)
        assert all(after > then for then, after in handed_on), "an answer went on before the key's frame"
        # with no key in hand, and none for a typing gap, an answer goes straight on
        await asyncio.sleep(TYPING_GAP_S)
        await asyncio.wait_for(offline_api._through_gate(), 0.05)  # noqa: SLF001
    assert offline_api._answer_gate is None  # noqa: SLF001 - let go when the App closes


async def test_an_answer_between_two_keys_goes_on_after_the_next_keys_frame(worker_store, offline_api,
                                                                          monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Someone is typing: an answer that comes in the gap after a key's frame is worked on after the next key's
    frame, the moment furthest from the key after that; with no next key, once the gap has lasted TYPING_GAP_S."""
    import asyncio

    from tests.tui.helpers import watch_frames
    from tui import app as app_module

    monkeypatch.setattr(app_module, "TYPING_GAP_S", 2.0)  # a slow test machine's gaps still count as typing
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        frames: list[str] = []
        watch_frames(app, frames.append)
        went_on_at: list[int] = []

        async def answer() -> None:
            await offline_api._through_gate()  # noqa: SLF001 - what each answer awaits
            went_on_at.append(len(frames))

        await pilot.press("j")
        await wait_until(pilot, app._key_drawn.is_set, what="the key's frame")  # noqa: SLF001
        waiting = asyncio.create_task(answer())
        await asyncio.sleep(0.05)
        assert not waiting.done(), "an answer in a typing gap went straight on"
        before_next = len(frames)
        await pilot.press("j")
        await asyncio.wait_for(waiting, 1.0)
        assert went_on_at[0] > before_next, "the answer went on before the next key's frame"
        # no next key: it goes on once the gap is over
        monkeypatch.setattr(app_module, "TYPING_GAP_S", 0.2)
        await asyncio.wait_for(offline_api._through_gate(), 1.0)  # noqa: SLF001
        assert app._collector.quiet_for() >= 0.19  # noqa: SLF001


async def test_a_key_that_draws_nothing_holds_answers_back_once(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    import asyncio

    from tui.app import KEY_FRAME_WAIT_S

    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app._key_drawn.clear()  # a key handled, and no frame after it
        started = time.monotonic()
        await offline_api._through_gate()  # noqa: SLF001
        assert time.monotonic() - started >= KEY_FRAME_WAIT_S * 0.9
        # taken as drawn: the next answer goes straight on
        await asyncio.wait_for(offline_api._through_gate(), KEY_FRAME_WAIT_S / 2)  # noqa: SLF001


async def test_a_frame_written_while_a_key_is_handled_is_not_its_frame(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    """An action that awaits lets other frames out before its own: answers wait for the key's own frame."""
    import asyncio

    from screens.widgets.status import StatusLine
    from tests.tui.helpers import watch_frames

    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        case_list = app.screen.query_one(CaseList)
        seen_mid_key: list[bool] = []
        frames: list[str] = []
        watch_frames(app, frames.append)

        async def slow_move() -> None:
            written = len(frames)
            app.screen.query_one(StatusLine).refresh()  # something else wants a frame meanwhile
            for _ in range(200):  # (the app is busy with this key: no pilot here)
                if len(frames) > written:
                    break
                await asyncio.sleep(0.01)
            assert len(frames) > written, "no frame was written during the key"
            seen_mid_key.append(app._key_drawn.is_set())  # noqa: SLF001
            move()

        move = case_list.action_cursor_down
        case_list.action_cursor_down = slow_move  # type: ignore[method-assign]
        await pilot.press("j")
        await wait_until(pilot, lambda: bool(seen_mid_key), what="the key to be handled")
        assert seen_mid_key == [False], "a frame written mid-key counted as the key's frame"
        await wait_until(pilot, app._key_drawn.is_set, what="the key's own frame")  # noqa: SLF001
