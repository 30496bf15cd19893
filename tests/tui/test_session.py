"""An expired session: the sign-in dialog opens over the current screen, and nothing on screen is lost."""

from __future__ import annotations

from textual.widgets import Input, TextArea

from client.sync import Status
from screens.case import CaseScreen
from screens.sign_in import SignInScreen
from tests.tui.helpers import make_app, text_of, wait_until

EXPIRED = Status(online=True, pending=0, failed=0, conflicts=0, blocked=0, last_sync=None, session_expired=True)


async def _case_with_half_a_note(pilot) -> CaseScreen:  # type: ignore[no-untyped-def]
    await pilot.press("enter")
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, CaseScreen)
    await pilot.press("n", *"at his nan's")
    return screen


async def test_sign_in_dialog_over_the_case_keeps_the_note(worker_store, offline_api) -> None:  # type: ignore[no-untyped-def]
    app = make_app(worker_store, offline_api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _case_with_half_a_note(pilot)
        case_id = screen.case_id
        app.handle_sync_event(EXPIRED)
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, SignInScreen)
        assert app.screen_stack[-2] is screen, "the dialog is over the case screen"
        assert dialog.query_one("#sign-in-username", Input).value == "worker"
        assert dialog.query_one("#sign-in-password", Input).has_focus
        assert "signed out" in text_of(screen.query_one(".status-line"))
        # a second expiry while it is open does not stack another dialog
        app.handle_sync_event(EXPIRED)
        await pilot.pause()
        assert sum(isinstance(s, SignInScreen) for s in app.screen_stack) == 1

        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is screen and screen.case_id == case_id
        box = screen.query_one("#note-box", TextArea)
        assert box.text == "at his nan's"
        assert any("Working offline" in str(n.message) for n in app._notifications)
        # and the draft is on the device
        await wait_until(pilot, lambda: worker_store.drafts(case_id), timeout=2, what="the draft")


async def test_signing_in_again(worker_store, live_api) -> None:  # type: ignore[no-untyped-def]
    api = await live_api("worker")
    app = make_app(worker_store, api, "worker")
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await _case_with_half_a_note(pilot)
        app.handle_sync_event(EXPIRED)
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)

        # someone else's name: asked again, and told why
        app.screen.query_one("#sign-in-username", Input).value = "duty"
        await pilot.press(*"demo", "enter")
        await pilot.pause()
        assert isinstance(app.screen, SignInScreen)
        assert "belongs to worker" in text_of(app.screen.query_one("#sign-in-error"))

        await pilot.press(*"demo", "enter")
        await wait_until(pilot, lambda: app.sync_state.signed_in, timeout=5, what="signing in")
        assert app.screen is screen
        assert screen.query_one("#note-box", TextArea).text == "at his nan's"
        assert "signed out" not in text_of(screen.query_one(".status-line"))
