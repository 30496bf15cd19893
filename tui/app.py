"""The casework App: screens built once and kept mounted, a store on this device, sync in the background."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.dom import DOMNode
from textual.screen import Screen

from client.errors import CaseworkError, SignInFailed
from client.paths import StoreError
from client.store import Store
from client.sync import ME, Changed, Notice, Progress, Status, SyncEngine, SyncEvent
from screens.case import CaseScreen
from screens.caseload import CaseloadScreen
from screens.kept import KeptScreen
from screens.keys import bind
from screens.messages import CaseAhead, CaseViewed, CaseWanted, ExportWanted, OpenCase, OutboxChanged
from screens.note_editor import NoteEditorScreen, NoteSaved, NotesScreen, OpenNoteEditor, OpenNotes
from screens.search import SearchScreen
from screens.seen import mark_seen
from screens.sync_screen import SyncScreen
from screens.tasks import TasksScreen
from screens.widgets.line_list import LineList
from screens.widgets.status import StatusLine, SyncState
from tui import memory
from tui.keymap import Keymap

if TYPE_CHECKING:
    from client.api import CaseAPI
    from client.export import ExportResult

#: screens only a key brings up: imported then, not on the way to the first frame (~15 ms of a cold start)
ON_DEMAND_SCREENS = ("screens.admin", "screens.export_dialog", "screens.help", "screens.sign_in")

log = logging.getLogger(__name__)

ADMIN_ROLES = ("admin", "manager")
#: built in the background after the first frame, most used first (see ``CaseworkApp._build_ahead``)
BUILT_AHEAD = ("case", "search", "tasks", "caseload")
BUILD_AHEAD_GAP_S = 0.05
#: steps of BUILD_AHEAD_GAP_S to wait for a built screen to finish mounting before laying it out
BUILD_AHEAD_WAIT_STEPS = 40
#: a hidden screen with changes waiting re-reads them once the keys have been still this long (checked this often)
CATCH_UP_AFTER_S = 1.0
CATCH_UP_EVERY_S = 0.5
#: the longest an answer from the server waits for the frame of a key being handled (one that draws nothing)
KEY_FRAME_WAIT_S = 0.1
#: keys closer together than this are typing: an answer that comes in the gap waits for the frame of the next key,
#: or until the gap is this long
TYPING_GAP_S = 0.15
#: set (to 1) in each browser tab's TUI by ``casework web``: the app then opens nothing until its user signs in
WEB_ENV = "CASEWORK_WEB"
#: what works while the sign-in gate is up: signing in and leaving
_GATE_ACTIONS = frozenset({"quit"})


class CaseworkApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "casework"
    ENABLE_COMMAND_PALETTE = True
    COMMAND_PALETTE_BINDING = "ctrl+p"
    BINDINGS = [
        bind("app.quit", "quit", "Quit", show=False, priority=True),
        bind("app.help", "help", "Help"),
        bind("app.caseload", "show_caseload", "My cases"),
        bind("app.search", "show_search", "Search"),
        bind("app.tasks", "show_tasks", "Tasks"),
        bind("app.sync", "show_sync", "Sync"),
        bind("app.admin", "show_admin", "Admin", show=False),
        bind("app.refresh", "sync_now", "Refresh", show=False),
        bind("app.back", "back", "Back", show=False),
        bind("app.command_palette", "command_palette", "Commands", show=False),
    ]

    def __init__(self, *, store: Store, api: CaseAPI, username: str, keymap: Keymap,
                 sync: SyncEngine | None = None, start_screen: str | None = None,
                 require_sign_in: bool | None = None) -> None:
        super().__init__()
        # ``casework web``: whoever reaches the port must prove they are this user before any record is shown
        self.gated = os.environ.get(WEB_ENV) == "1" if require_sign_in is None else require_sign_in
        self.store = store
        self.api = api
        self.username = username
        self.keymap_in_force = keymap
        self.sync = sync
        self.start_screen = start_screen
        self.sync_state = SyncState()
        self._sign_in_open = False
        # animations cost a frame each over SSH
        self.animation_level = "none"
        memory.tune_for_interaction()
        self._collector = memory.IdleCollector()
        self._collect_after_frame = False
        self._key_drawn = asyncio.Event()  # cleared by a key or click, set once the frame after it is out
        self._key_drawn.set()
        self._keys_in_hand = 0  # keys and clicks being handled now
        self._next_key_frame: asyncio.Future[None] | None = None  # what answers in a typing gap wait for

    # --- start-up -----------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_keymap(self.keymap_in_force.overrides())
        self.api.hold_answers(self._after_key_frame)
        if self.gated:
            # only the sign-in dialog, over the empty default screen: no screen reads the store until then
            self.ask_to_sign_in(f"casework in a browser: sign in as {self.username} to see the records.")
            return
        self._open()

    def _open(self) -> None:
        """Install the screens, show the first, start the sync."""
        self.install_screen(CaseloadScreen(self.store, self.username), "caseload")
        self.install_screen(SearchScreen(self.store), "search")
        self.install_screen(CaseScreen(self.store), "case")
        self.install_screen(NoteEditorScreen(self.store), "note")
        self.install_screen(NotesScreen(self.store), "notes")
        self.install_screen(TasksScreen(self.store, self.username), "tasks")
        self.install_screen(SyncScreen(self.store, self.username), "sync")
        # duty workers start where they work: search; admins on administration; everyone else their cases
        start = self.start_screen or {"duty": "search", "admin": "admin"}.get(self.role, "caseload")
        if start == "admin":
            self._install_admin(self.role or "admin")
        self.push_screen(start)
        self.call_after_refresh(self._build_ahead, [name for name in BUILT_AHEAD if name != start])
        for problem in self.keymap_in_force.problems:
            self.notify(str(problem), title="keybindings.toml", severity="warning", timeout=15)
        self._update_counts()
        if self.sync is not None:
            # after the first frame: its first pass loads httpx and makes requests, ~90 ms of a cold start
            self.call_after_refresh(self._run_sync)

    def _run_sync(self) -> None:
        self.run_worker(self._start_sync(), name="sync", group="sync")

    def _build_ahead(self, names: list[str], built: Screen[Any] | None = None, waited: int = 0) -> None:
        """Compose and style one main screen that has not been shown yet, then the next a moment later.

        Done after the first frame, one screen per idle moment: the first visit to a screen then costs what
        every later visit does, instead of building it under the key press (80-150 ms for the case screen).
        It is what ``push_screen`` does on a first visit, without showing the screen.
        """
        if self._exit or self._closing or not self.is_running:  # closing (run_test's shutdown sets only the last)
            return
        if built is not None and not built.is_mounted and waited < BUILD_AHEAD_WAIT_STEPS:
            # still mounting (a first sync keeps the loop busy): its layout comes first
            self.set_timer(BUILD_AHEAD_GAP_S, partial(self._build_ahead, names, built, waited + 1))
            return
        if built is not None:
            self._lay_out_hidden(built, first=True)
            caseload = self._installed_screens.get("caseload")
            if isinstance(built, CaseScreen) and isinstance(caseload, CaseloadScreen) and caseload.on_top:
                caseload.read_ahead_soon()  # the case under the cursor the app opened on, like any other
        screen: Screen[Any] | None = None
        while names:
            name = names.pop(0)
            if not self.is_screen_installed(name):
                continue
            candidate = self.get_screen(name)
            if not candidate.is_running:
                self._load_screen_css(candidate)
                self._register(self, candidate)
                screen = candidate
                break
        if names or screen is not None:
            self.set_timer(BUILD_AHEAD_GAP_S, partial(self._build_ahead, names, screen))
        else:
            self.set_timer(BUILD_AHEAD_GAP_S, self._start_idle_collection)

    def _lay_out_hidden(self, screen: Screen[Any], *, first: bool = False) -> None:
        """Arrange and render a screen at the terminal's size while it is hidden: when it is built, so its first
        showing costs what every later one does (the first case opened was laid out twice, 11 + 4.6 ms, then
        rendered afresh), and once a case has been read into it ahead, so the enter that shows it only puts
        cached lines together (open case p50 5.5 -> 3.7 ms).

        Nothing reaches the terminal: the frame rendered here only fills the widgets' line caches. ``first``:
        the screen's update timer is set going too. A Textual timer's first tick comes a whole period (1/60 s)
        after it is first resumed, and a screen makes its timer on its first layout, so the first showing waited
        ~17 ms for its frame; its one tick now comes while the screen is hidden, which draws nothing and pauses
        it again. (Only then: resumed at any other time, its next tick could land under the key that shows it.)
        (Textual 8.2's ``Screen._refresh_layout``, ``_layout_required``, ``_compositor`` and ``_update_timer``;
        pinned.)"""
        if screen.is_mounted and screen not in self.screen_stack:
            screen._refresh_layout(self.size)
            screen._layout_required = False  # as Screen._on_timer_update does after a layout
            screen._compositor.render_full_update()
            if first:
                screen._update_timer.resume()

    def _start_idle_collection(self) -> None:
        memory.settle_long_lived()
        self.set_interval(memory.CHECK_EVERY_S, self._collector.maybe_collect)
        self.set_interval(CATCH_UP_EVERY_S, self._catch_up_hidden)

    def _catch_up_hidden(self) -> None:
        """In a pause in the typing, one hidden screen re-reads what changed while it was hidden, so showing it
        later has nothing to read first."""
        if self._collector.quiet_for() < CATCH_UP_AFTER_S:
            return
        for screen in self._installed_screens.values():
            if isinstance(screen, KeptScreen) and screen.is_mounted and screen.behind and not screen.on_top:
                screen.catch_up()
                return

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown)):
            self._collector.input_seen()
            self._collect_after_frame = True
            self._key_drawn.clear()
            # a frame written while the key is still being handled (an action that awaits) is not its frame
            self._keys_in_hand += 1
            try:
                await super().on_event(event)
            finally:
                self._keys_in_hand -= 1
            return
        await super().on_event(event)

    def _display(self, screen: Screen[Any], renderable: RenderableType | None) -> None:
        # (Textual 8.2's one place a frame goes to the terminal; pinned) the garbage a key's frame leaves is
        # collected once that frame is out, in the pause before the next key, not under a later one
        super()._display(screen, renderable)
        if renderable is not None and self._collect_after_frame and not self._batch_count and not self._keys_in_hand:
            self._collect_after_frame = False
            self._key_drawn.set()
            if self._next_key_frame is not None:
                self._next_key_frame.set_result(None)
                self._next_key_frame = None
            self.call_later(self._collector.after_frame)

    async def _after_key_frame(self) -> None:
        """What each answer from the server waits for (``CaseAPI.hold_answers``): the frame of a key being
        handled goes out first. On a slow network answers come hundreds of ms after they were asked for, so at
        any moment; decoding one, storing it and the screens' re-reads had landed inside later keys (measured:
        ~2.5 ms in a case opened). A key that draws nothing holds answers back for ``KEY_FRAME_WAIT_S`` once, and
        is then taken as drawn, so the answers after it do not each wait as long.

        An answer that comes between two keys of someone typing waits for the frame of the next key, or until no
        key has come for ``TYPING_GAP_S``: the moment after a frame is the furthest there is from the next key.
        Worked on as it came, at any moment of the gap, it could still be running when the next key came."""
        if not self._key_drawn.is_set():
            try:
                await asyncio.wait_for(self._key_drawn.wait(), KEY_FRAME_WAIT_S)
            except TimeoutError:
                self._key_drawn.set()
            return
        gap_left = TYPING_GAP_S - self._collector.quiet_for()
        if gap_left <= 0:
            return
        if self._next_key_frame is None:
            self._next_key_frame = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._next_key_frame), gap_left)

    # --- navigation ---------------------------------------------------------------------------

    def _go(self, name: str) -> None:
        """Show one of the main screens, which are always mounted: no rebuild, no spinner."""
        if self.screen.name == name:
            return
        stack = [s.name for s in self.screen_stack]
        if name in stack:
            while self.screen.name != name:
                self.pop_screen()
        else:
            self.push_screen(name)

    def action_show_caseload(self) -> None:
        self._go("caseload")

    def action_show_search(self) -> None:
        self._go("search")

    def action_show_tasks(self) -> None:
        self._go("tasks")

    def action_show_sync(self) -> None:
        self._go("sync")

    def action_show_admin(self) -> None:
        # the role is known once the first sync has recorded who signed in
        if "admin" not in self._installed_screens and self.role in ADMIN_ROLES:
            self._install_admin(self.role)
        if "admin" in self._installed_screens:
            self._go("admin")
        else:
            self.notify("Administration is for managers and admins.", severity="warning")

    def _install_admin(self, role: str) -> None:
        from screens.admin import AdminScreen

        self.install_screen(AdminScreen(self.api, self.store, role), "admin")

    @property
    def role(self) -> str:
        """The signed-in user's role, as the last sync recorded it ("" before the first sync)."""
        try:
            return str(json.loads(self.store.get_meta(ME) or "{}").get("role", ""))
        except ValueError:
            return ""

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if self.gated and action not in _GATE_ACTIONS:
            return False  # no screen to go to, no palette, no help over the records until signed in
        return True

    def action_back(self) -> None:
        if len(self.screen_stack) > 2:
            self.pop_screen()

    def action_help(self) -> None:
        from screens.help import HelpScreen

        descriptions = self._descriptions()
        rows = [(action_id, ", ".join(self.get_key_display(Binding(k, "")) for k in keys.split(",")),
                 descriptions.get(action_id, "")) for action_id, keys in self.keymap_in_force.keys.items()]
        self.push_screen(HelpScreen(rows, [str(p) for p in self.keymap_in_force.problems]))

    def _descriptions(self) -> dict[str, str]:
        """What each action id does, from every class of ours that binds keys (dialogs included)."""
        import importlib

        for module in ON_DEMAND_SCREENS:  # their classes' bindings are described too
            importlib.import_module(module)
        out: dict[str, str] = {}
        pending: list[type] = [DOMNode]
        while pending:
            cls = pending.pop()
            pending.extend(cls.__subclasses__())
            if cls.__module__.split(".")[0] not in ("screens", "tui"):
                continue
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id and binding.description:
                    out.setdefault(binding.id, binding.description)
        return out

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """The palette lists every action that works where you are, with its id and keys."""
        if self.gated:
            return
        yield from super().get_system_commands(screen)
        owners: list[Any] = [self, screen]
        focused = screen.focused
        if isinstance(focused, LineList):
            owners.append(focused)
        seen: set[str] = set()
        for owner in owners:
            for binding in getattr(type(owner), "BINDINGS", []):
                action_id = getattr(binding, "id", None)
                if not action_id or action_id in seen or action_id == "app.command_palette":
                    continue
                seen.add(action_id)
                keys = ", ".join(self.get_key_display(Binding(k, "")) for k in
                                 self.keymap_in_force.keys.get(action_id, binding.key).split(","))
                yield SystemCommand(binding.description, f"{action_id}  ({keys})",
                                    partial(self.run_action, binding.action, owner))

    def on_open_case(self, message: OpenCase) -> None:
        case_screen = self.get_screen("case")
        assert isinstance(case_screen, CaseScreen)
        case_screen.show(message.case_id, message.siblings)
        self._go("case")

    def on_case_ahead(self, message: CaseAhead) -> None:
        case_screen = self.get_screen("case")
        # only while it is out of the stack: one under the screen on top would come back, on escape, showing
        # a case nobody opened (and no view of it audited)
        if isinstance(case_screen, CaseScreen) and case_screen not in self.screen_stack:
            case_screen.prepare(message.case_id, message.siblings)
            self._lay_out_hidden(case_screen)

    def on_case_viewed(self, message: CaseViewed) -> None:
        # in a thread, off the key's path: the sync engine writes big pages in a thread of its own while holding
        # the store's lock, and waiting for it here held up the case being drawn (up to a second, measured)
        self.run_worker(partial(self._record_view, message.case_id, message.what), thread=True, group="views",
                        exit_on_error=False)

    def _record_view(self, case_id: int, what: str) -> None:
        try:
            self.store.record_view(case_id, what)
            mark_seen(self.store, case_id)
        except (StoreError, sqlite3.Error):  # closing: the store may be shut under a late view
            log.warning("could not record the view of case %s", case_id, exc_info=True)

    def on_open_note_editor(self, message: OpenNoteEditor) -> None:
        editor = self.get_screen("note")
        assert isinstance(editor, NoteEditorScreen)
        editor.open(message.case_id, kind=message.kind, amends=message.amends, draft_id=message.draft_id)
        if self.screen is not editor:
            self.push_screen("note")

    def on_open_notes(self, message: OpenNotes) -> None:
        notes = self.get_screen("notes")
        assert isinstance(notes, NotesScreen)
        notes.open(message.case_id)
        if self.screen is not notes:
            self.push_screen("notes")

    def on_export_wanted(self, message: ExportWanted) -> None:
        from screens.export_dialog import ExportDialog

        self.push_screen(ExportDialog(self.store, message.case_id), self._exported)

    def _exported(self, result: ExportResult | None) -> None:
        if result is not None:
            self.notify(f"{result.markdown}\n{result.pdf}", title=f"Chronology exported ({result.events:,} events)",
                        timeout=20)

    def on_note_saved(self, message: NoteSaved) -> None:
        case_screen = self._installed_screens.get("case")
        if isinstance(case_screen, CaseScreen) and case_screen.is_mounted:
            case_screen.records_changed(frozenset({message.case_id}))

    def on_case_wanted(self, message: CaseWanted) -> None:
        if self.sync is not None:
            # after the frame that shows the case: building the requests and reading the answers is CPU on this
            # loop, and done before the paint it delayed every `]` by milliseconds (more with the server slow)
            self.call_after_refresh(self.sync.prefetch, [message.case_id, *message.neighbours])

    def on_outbox_changed(self, message: OutboxChanged) -> None:
        self._update_counts()
        # my own change (a task done, a note written) can change a case's row: next task due, last visit
        caseload = self._installed_screens.get("caseload")
        if isinstance(caseload, CaseloadScreen) and caseload.is_mounted:
            caseload.when_shown("records", caseload.reload)
        if self.sync is not None:
            self.sync.wake()

    def action_sync_now(self) -> None:
        if self.sync is not None:
            self.sync.wake()
            self.notify("Syncing with the server…", timeout=2)

    # --- sync ------------------------------------------------------------------------------------

    async def _start_sync(self) -> None:
        assert self.sync is not None
        self.sync.subscribe(self.handle_sync_event)
        await self.sync.start()

    def handle_sync_event(self, event: SyncEvent) -> None:
        """Called on the event loop by the sync engine: update screens in place, cursor and scroll kept."""
        if isinstance(event, Changed):
            self._records_changed(event)
        elif isinstance(event, Progress):
            done = event.phase == "done"
            self._set_state(phase=None if done else event.phase, done=event.done, total=event.total or 0)
        elif isinstance(event, Status):
            self._set_state(online=event.online, last_sync=event.last_sync, signed_in=not event.session_expired)
            if event.session_expired:
                self.ask_to_sign_in("Your session has ended.")
        elif isinstance(event, Notice):
            severity = {"info": "information", "warning": "warning", "error": "error"}.get(event.level, "warning")
            self.notify(event.message, severity=severity, timeout=12)  # type: ignore[arg-type]
        self._update_counts()
        sync_screen = self._installed_screens.get("sync")
        if isinstance(sync_screen, SyncScreen):
            sync_screen.sync_event(event)

    def _records_changed(self, event: Changed) -> None:
        """Each mounted screen that shows a changed record re-reads it: the screen on top now, a hidden one when
        it is next shown or the App is idle (``KeptScreen.when_shown``), so a sync's pages of changes cost the
        key presses on another screen nothing. A case purged (access ended) leaves every screen at once: a hidden
        one must not go on holding what the user may no longer see."""
        now = bool(event.purged)
        case_screen = self._installed_screens.get("case")
        if isinstance(case_screen, CaseScreen) and case_screen.is_mounted and case_screen.case_id is not None:
            shown = case_screen.case_id
            if shown in event.cases or shown in event.purged or event.tasks:
                case_screen.when_shown("records", partial(case_screen.records_changed, frozenset({shown})),
                                       at_once=now)
            elif shown in event.timelines:
                case_screen.when_shown("timeline", partial(case_screen.records_changed, frozenset({shown}),
                                                           chronology_only=True), at_once=now)
            elif shown in event.confirmed:
                case_screen.when_shown("as_of", partial(case_screen.as_of_moved, shown))
        caseload = self._installed_screens.get("caseload")
        if isinstance(caseload, CaseloadScreen) and caseload.is_mounted and (
                event.caseload or event.cases or event.tasks or event.purged):
            caseload.when_shown("records", caseload.reload, at_once=now)
        search = self._installed_screens.get("search")
        if isinstance(search, SearchScreen) and search.is_mounted and (event.directory or event.purged):
            search.when_shown("records", search.records_changed, at_once=now)
        tasks = self._installed_screens.get("tasks")
        if isinstance(tasks, TasksScreen) and tasks.is_mounted and (
                event.tasks or event.cases or event.caseload or event.purged):
            tasks.when_shown("records", tasks.records_changed, at_once=now)
        touched_notes = frozenset(event.cases | event.timelines | event.purged)
        for name in ("note", "notes"):
            screen = self._installed_screens.get(name)
            if isinstance(screen, (NoteEditorScreen, NotesScreen)) and screen.is_mounted and touched_notes:
                # hidden, it re-reads whatever case it holds (None), however many changes came meanwhile
                screen.when_shown("records", partial(screen.records_changed, touched_notes if screen.on_top
                                                     else None), at_once=now)
        admin = self._installed_screens.get("admin")
        if admin is None:
            return
        from screens.admin import AdminScreen  # loaded already: it is installed

        if isinstance(admin, AdminScreen) and admin.is_mounted and event.users and admin.section == "users":
            admin.load_users()

    def _set_state(self, **changes: Any) -> None:
        self.sync_state = replace(self.sync_state, **changes)

    def _update_counts(self) -> None:
        counts = self.store.outbox_counts()
        self._set_state(pending=counts.get("pending", 0), failed=counts.get("failed", 0),
                        conflicts=counts.get("conflicts", 0))
        for screen in {*self._installed_screens.values(), *self.screen_stack}:
            if isinstance(screen, Screen) and screen.is_mounted:
                for line in screen.query(StatusLine):
                    line.show(self.sync_state)

    # --- signing in again ---------------------------------------------------------------------

    def ask_to_sign_in(self, reason: str, error: str = "") -> None:
        if self._sign_in_open:
            return
        self._sign_in_open = True
        self._set_state(signed_in=False)
        self._update_counts()
        from screens.sign_in import SignInScreen

        self.push_screen(SignInScreen(self.username, reason, error), self._signed_in)

    def _signed_in(self, answer: tuple[str, str] | None) -> None:
        self._sign_in_open = False
        if answer is None and self.gated:
            self.ask_to_sign_in("Sign in to see the records; there is no offline view here.")
            return
        if answer is None:
            self.notify("Working offline. Your notes and changes wait on this device until you sign in.",
                        timeout=8)
            return
        username, password = answer
        if username != self.username:
            self.ask_to_sign_in("Sign in as the same user; the store on this device is theirs.",
                                f"This device's data belongs to {self.username}.")
            return
        self.run_worker(self._sign_in(password), group="sign-in")

    async def _sign_in(self, password: str) -> None:
        try:
            await self.api.sign_in(self.username, password)
        except SignInFailed as error:
            self.ask_to_sign_in("Sign in to carry on.", str(error))
            return
        except CaseworkError as error:
            if self.gated:
                # never open this device's copy of the records on a password the server has not checked
                self.ask_to_sign_in("The records open only once the server has checked your password.",
                                    f"{error} The records are not opened offline here.")
                return
            self.ask_to_sign_in("Sign in to carry on.", str(error))
            return
        if self.gated:
            self.gated = False
            self._open()
            return
        self._set_state(signed_in=True)
        self._update_counts()
        self.notify("Signed in. Sending what was waiting.", timeout=4)
        if self.sync is not None:
            self.sync.signed_in_again()

    # --- leaving -------------------------------------------------------------------------------

    async def action_quit(self) -> None:
        self._flush_screens()
        if self.sync is not None:
            await self.sync.stop()
        self.exit()

    def _flush_screens(self) -> None:
        """What a screen still holds in hand (the last keystrokes of a draft, a commit in flight) goes to the
        store before the store is closed."""
        for name in ("case", "note", "tasks"):
            screen = self._installed_screens.get(name)
            if isinstance(screen, (CaseScreen, NoteEditorScreen, TasksScreen)):
                screen.flush()

    async def on_unmount(self) -> None:
        """Stop sync and close the HTTP client on this event loop, which owns their connections: closing
        them after ``run()`` returns (on a new loop) raised "Event loop is closed" and exited 1."""
        self.api.hold_answers(None)
        if self.sync is not None:
            await self.sync.stop()
        await self.api.aclose()
        memory.release_long_lived()
