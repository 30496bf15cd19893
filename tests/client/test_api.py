"""CaseAPI against the real reference server: every endpoint, every error mapping, token refresh."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import ssl
import stat
from pathlib import Path

import httpx
import pytest
import sqlalchemy

from client import errors
from client.api import CaseAPI, NotModified, Reply, Timeouts, new_idempotency_key
from client.credentials import FileTokenStore, MemoryTokenStore, Tokens, credentials_path
from client.models import Case, CaseSummary, Change, ChronologyEvent, DirectoryEntry, Note, Page, Task, User
from tests.client.conftest import BASE_URL, CountingTransport, expire_access_tokens
from tests.server.dataset import IDS, PASSWORD


async def _all(api: CaseAPI, fetch, *args, **kwargs) -> list:  # type: ignore[no-untyped-def]
    items: list = []
    async for page in api.every(fetch, *args, **kwargs):
        items.extend(page.items)
    return items


# --- auth ---------------------------------------------------------------------------------------------------

async def test_health_needs_no_sign_in(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(None)
    health = await api.health()
    assert health.status == "ok" and health.database == "sqlite" and health.version


async def test_held_answers_wait_for_the_gate(make_api) -> None:  # type: ignore[no-untyped-def]
    """``hold_answers``: an answer that has come waits for the gate before it is decoded and handed on."""
    api = await make_api(None)
    gate = asyncio.Event()
    waited: list[str] = []

    async def until_open() -> None:
        waited.append("answer")
        await gate.wait()

    api.hold_answers(until_open)
    asking = asyncio.create_task(api.health())
    for _ in range(200):
        if waited:
            break
        await asyncio.sleep(0.005)
    await asyncio.sleep(0.05)
    assert waited == ["answer"] and not asking.done(), "the answer went on past a closed gate"
    gate.set()
    assert (await asking).status == "ok"
    api.hold_answers(None)  # no gate: answers go straight on
    assert (await api.health()).status == "ok" and waited == ["answer"]



class _BodyInPieces(httpx.AsyncByteStream):
    """An answer's body as the network delivers it: in pieces, each noted as it is taken; ``broken``: the
    connection drops after the first piece."""

    def __init__(self, body: bytes, taken: list[int], broken: bool = False) -> None:
        self.body, self.taken, self.broken = body, taken, broken

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        for at in range(0, len(self.body), 16):
            if self.broken and at:
                raise httpx.ReadError("connection reset mid-body")
            self.taken.append(at)
            yield self.body[at: at + 16]


class _PiecesTransport(httpx.AsyncBaseTransport):
    def __init__(self, inner: httpx.AsyncBaseTransport, taken: list[int], broken: bool = False) -> None:
        self.inner, self.taken, self.broken = inner, taken, broken

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        body = await answer.aread()
        return httpx.Response(answer.status_code, headers=answer.headers,
                              stream=_BodyInPieces(body, self.taken, self.broken))


async def test_an_answers_body_is_read_only_once_the_gate_opens(make_api, transport) -> None:  # type: ignore[no-untyped-def]
    """On a slow network a big answer is read in many loop steps: they wait with the rest for the gate."""
    taken: list[int] = []
    api = await make_api(None, transport_=_PiecesTransport(transport, taken))
    gate = asyncio.Event()
    at_gate = asyncio.Event()

    async def until_open() -> None:
        at_gate.set()
        await gate.wait()

    api.hold_answers(until_open)
    asking = asyncio.create_task(api.health())
    await asyncio.wait_for(at_gate.wait(), 5)
    await asyncio.sleep(0.02)
    assert taken == [] and not asking.done(), "the body was read past a closed gate"
    gate.set()
    assert (await asking).status == "ok" and len(taken) > 1


async def test_a_connection_lost_mid_body_is_offline(make_api, transport) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(None, transport_=_PiecesTransport(transport, [], broken=True))
    with pytest.raises(errors.Offline) as raised:
        await api.health()
    assert "ReadError" in (raised.value.detail or "")

async def test_sign_in_me_and_conditional_me(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    reply = await api.me()
    assert isinstance(reply, Reply) and isinstance(reply.value, User)
    assert reply.value.username == "pat" and reply.value.role == "practitioner" and reply.etag
    assert isinstance(await api.me(etag=reply.etag), NotModified)


async def test_wrong_password_and_disabled_account(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(None)
    with pytest.raises(errors.SignInFailed, match="not right"):
        await api.sign_in("pat", "wrong password")
    with pytest.raises(errors.SignInFailed, match="disabled"):
        await api.sign_in("gone", PASSWORD)
    assert not api.signed_in
    with pytest.raises(errors.SessionExpired):
        await api.me()  # never signed in: the sign-in dialog, not a crash


async def test_expired_access_token_is_refreshed_once_for_concurrent_requests(
        make_api, transport, server_engine) -> None:  # type: ignore[no-untyped-def]
    counting = CountingTransport(transport)
    store = MemoryTokenStore()
    api = await make_api("pat", transport_=counting, tokens=store)
    first = store.load()
    expire_access_tokens(server_engine)
    results = await asyncio.gather(*(api.case(IDS.open_case) for _ in range(6)), api.me(), api.tasks())
    assert all(not isinstance(r, NotModified) for r in results)
    assert counting.paths("POST").count("/v1/auth/refresh") == 1  # single-flight: refresh tokens rotate
    renewed = store.load()
    assert renewed is not None and first is not None
    assert renewed.access_token != first.access_token and renewed.refresh_token != first.refresh_token
    assert renewed.expires_at is not None


async def test_refresh_refused_means_session_expired(make_api, server_engine) -> None:  # type: ignore[no-untyped-def]
    store = MemoryTokenStore()
    api = await make_api("pat", tokens=store)
    expire_access_tokens(server_engine, refresh_too=True)
    with pytest.raises(errors.SessionExpired) as caught:
        await api.case(IDS.open_case)
    assert "Sign in again" in str(caught.value)
    assert store.load() is None and not api.signed_in
    # signing in again carries on
    await api.sign_in("pat", PASSWORD)
    assert not isinstance(await api.case(IDS.open_case), NotModified)


async def test_explicit_refresh_and_logout(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    before = api.token_store.load()
    after = await api.refresh()
    assert before is not None and after.refresh_token != before.refresh_token
    await api.logout()
    assert not api.signed_in
    with pytest.raises(errors.SessionExpired):
        await api.me()


async def test_logout_ends_the_session_on_the_server(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    other = await make_api(None, tokens=MemoryTokenStore(api.token_store.load()))
    await other.me()
    await api.logout()
    with pytest.raises(errors.SessionExpired):
        await other.me()  # the refresh token was revoked with the rest


# --- cases ----------------------------------------------------------------------------------------------------

async def test_caseload_scopes_and_revalidation(make_api) -> None:  # type: ignore[no-untyped-def]
    pat = await make_api("pat")
    mine = await pat.cases("mine")
    assert isinstance(mine, Page) and all(isinstance(c, CaseSummary) for c in mine.items)
    assert {c.id for c in mine.items} == {IDS.open_case, IDS.restricted_case}
    assert len(mine.raw) == len(mine.items) and mine.raw[0]["id"] == mine.items[0].id
    assert isinstance(await pat.cases("mine", etag=mine.etag), NotModified)
    closed = await pat.cases("mine", status="closed")
    assert isinstance(closed, Page) and [c.id for c in closed.items] == [IDS.closed_case]
    everything = await pat.cases("all", limit=1)
    assert isinstance(everything, Page) and len(everything.items) == 1 and everything.next_cursor
    pages = [p async for p in pat.every(pat.cases, "all", limit=1)]
    assert {c.id for p in pages for c in p.items} == {1, 2, 3}
    team = await make_api("max")
    north = await team.cases("team")
    assert isinstance(north, Page) and {c.id for c in north.items} == {IDS.open_case, IDS.restricted_case}


async def test_whole_case_with_etag(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    reply = await api.case(IDS.open_case)
    assert isinstance(reply, Reply) and isinstance(reply.value, Case)
    case = reply.value
    assert case.person.given_name == "Mohammed" and case.person.aliases == ("Mo Smith",)
    assert [f.code for f in case.flags] == ["CPP"] and len(case.key_contacts) == 2
    assert reply.etag == f'"{case.version}"' and reply.json["id"] == IDS.open_case
    assert isinstance(await api.case(IDS.open_case, etag=reply.etag), NotModified)
    assert isinstance(await api.case(IDS.open_case, etag='"999"'), Reply)


async def test_restricted_case_names_whom_to_contact(make_api) -> None:  # type: ignore[no-untyped-def]
    pam = await make_api("pam")
    with pytest.raises(errors.AccessDenied) as caught:
        await pam.case(IDS.restricted_case)
    message = str(caught.value)
    assert message.startswith("You do not have access to this record.")
    assert "North team manager" in message and caught.value.status == 403
    pat = await make_api("pat")  # on the access list
    assert isinstance(await pat.case(IDS.restricted_case), Reply)


async def test_admin_reads_no_case_records(make_api) -> None:  # type: ignore[no-untyped-def]
    ada = await make_api("ada")
    for call in (ada.cases(), ada.case(IDS.open_case), ada.tasks(), ada.search("Smith"), ada.directory()):
        with pytest.raises(errors.AccessDenied):
            await call


async def test_missing_case_is_not_found(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    with pytest.raises(errors.NotFound) as caught:
        await api.case(999_999)
    assert caught.value.status == 404 and "could not be found" in str(caught.value)


async def test_chronology_pages_and_filters(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    events = await _all(api, api.chronology, IDS.open_case, limit=100)
    assert len(events) == 251 and all(isinstance(e, ChronologyEvent) for e in events)
    assert [e.occurred_at for e in events] == sorted((e.occurred_at for e in events), reverse=True)
    key = await _all(api, api.chronology, IDS.open_case, key_only=True, limit=1000)
    assert key and all(e.key_event for e in key)
    police = await _all(api, api.chronology, IDS.open_case, kinds=["police_notification", "school"], limit=1000)
    assert {e.kind for e in police} == {"police_notification", "school"}
    found = await _all(api, api.chronology, IDS.open_case, q="seen alone")
    assert [e.note_id for e in found] == [IDS.note]
    first = await api.chronology(IDS.open_case, limit=1000)
    assert isinstance(first, Page) and isinstance(await api.chronology(IDS.open_case, limit=1000, etag=first.etag),
                                                  NotModified)
    with pytest.raises(errors.Invalid) as caught:
        await api.chronology(IDS.open_case, kinds=["tea_party"])
    assert caught.value.status == 422 and "tea_party" in str(caught.value)


async def test_notes_read_add_replay_and_misuse(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    page = await api.notes(IDS.open_case)
    assert isinstance(page, Page) and [n.id for n in page.items] == [IDS.note]
    key = new_idempotency_key()
    added = await api.add_note(IDS.open_case, "home_visit", "Seen with mum.\nAll well.", idempotency_key=key,
                               occurred_at=dt.datetime(2026, 1, 2, 10, 30, tzinfo=dt.timezone.utc))
    assert isinstance(added.value, Note) and not added.replayed
    assert added.value.occurred_at == "2026-01-02T10:30:00Z" and added.value.author == "pat"
    again = await api.add_note(IDS.open_case, "home_visit", "Seen with mum.\nAll well.", idempotency_key=key,
                               occurred_at="2026-01-02T10:30:00Z")
    assert again.replayed and again.value.id == added.value.id  # a resend does not add it twice
    with pytest.raises(errors.Invalid) as caught:
        await api.add_note(IDS.open_case, "home_visit", "Something else", idempotency_key=key)
    assert caught.value.status == 422 and "different request" in str(caught.value)
    amendment = await api.add_note(IDS.open_case, "case_note", "Correction: seen with dad.", amends=added.value.id,
                                   idempotency_key=new_idempotency_key())
    assert amendment.value.amends == added.value.id
    one = await api.note(IDS.open_case, added.value.id)
    assert isinstance(one, Reply) and one.value.body == "Seen with mum.\nAll well."
    with pytest.raises(errors.NotFound):
        await api.note(IDS.open_case, 999_999)
    with pytest.raises(errors.Invalid) as future:
        await api.add_note(IDS.open_case, "case_note", "From the future", idempotency_key=new_idempotency_key(),
                           occurred_at=dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=2))
    assert "future" in str(future.value)
    with pytest.raises(errors.Invalid) as bad_kind:
        await api.add_note(IDS.open_case, "gossip", "x", idempotency_key=new_idempotency_key())
    assert bad_kind.value.errors and bad_kind.value.errors[0].field == "kind"
    with pytest.raises(errors.AccessDenied):
        await (await make_api("pam")).add_note(IDS.restricted_case, "case_note", "x",
                                               idempotency_key=new_idempotency_key())


async def test_tasks_tray_case_tasks_and_patch(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    tray = await api.tasks()
    assert isinstance(tray, Page) and {t.id for t in tray.items} == {IDS.pat_task, IDS.restricted_task,
                                                                      IDS.overdue_task}
    overdue = await api.tasks(due_before=dt.date.today())
    assert isinstance(overdue, Page) and [t.id for t in overdue.items] == [IDS.overdue_task]
    on_case = await api.case_tasks(IDS.open_case)
    assert isinstance(on_case, Page) and all(isinstance(t, Task) and t.case_id == IDS.open_case for t in on_case.items)
    one = await api.task(IDS.pat_task)
    assert isinstance(one, Reply) and one.etag == one.value.etag == '"1"'
    assert isinstance(await api.task(IDS.pat_task, etag=one.etag), NotModified)
    done = await api.patch_task(IDS.pat_task, {"status": "done"}, if_match=one.value.etag)
    assert done.value.status == "done" and done.value.completed_at and done.etag == '"2"'
    with pytest.raises(errors.Conflict) as stale:
        await api.patch_task(IDS.pat_task, {"status": "open"}, if_match='"1"')
    assert stale.value.status == 412 and stale.value.current_etag == '"2"'
    assert "Nothing has been overwritten" in str(stale.value)
    tomorrow = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    snoozed = await api.patch_task(IDS.pat_task, {"status": "snoozed", "snoozed_until": tomorrow}, if_match='"2"')
    assert snoozed.value.snoozed_until == tomorrow
    with pytest.raises(errors.Invalid) as bad:
        await api.patch_task(IDS.pat_task, {"status": "snoozed"}, if_match='"3"')
    assert bad.value.status == 422 and "snoozed_until" in str(bad.value)
    reassigned = await api.patch_task(IDS.pat_task, {"assignee": "pam"}, if_match='"3"')
    assert reassigned.value.assignee == "pam"
    with pytest.raises(errors.AccessDenied):
        await (await make_api("pam")).patch_task(IDS.overdue_task, {"status": "done"}, if_match='"1"')
    with pytest.raises(errors.NotFound):
        await api.task(999_999)


# --- search, directory, changes, audit -------------------------------------------------------------------------

async def test_search_with_misspelling_and_restricted_stub(make_api) -> None:  # type: ignore[no-untyped-def]
    pam = await make_api("pam")
    found = await pam.search("Mohamed Smyth")
    assert isinstance(found.items[0], DirectoryEntry) and found.items[0].case_id == IDS.open_case
    sealed = await pam.search("Secret Sealed")
    stubs = [hit for hit in sealed.items if hit.restricted]
    assert stubs and stubs[0].is_stub and stubs[0].given_name is None and "Contact" in (stubs[0].message or "")


async def test_directory_pages_and_revalidation(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("dot")
    entries = await _all(api, api.directory, limit=3)
    assert len(entries) == 4 and all(isinstance(e, DirectoryEntry) for e in entries)
    stub = next(e for e in entries if e.case_id == IDS.restricted_case)
    assert stub.is_stub and stub.family_name is None
    whole = await api.directory(limit=5000)
    assert isinstance(whole, Page) and isinstance(await api.directory(limit=5000, etag=whole.etag), NotModified)


async def test_changes_feed_head_then_items(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api("pat")
    head = await api.changes()
    assert head.items == () and head.next_cursor
    added = await api.add_note(IDS.open_case, "case_note", "Phoned school.", idempotency_key=new_idempotency_key())
    await api.patch_task(IDS.pat_task, {"status": "done"}, if_match='"1"')
    delta = await api.changes(head.next_cursor)
    assert [(c.type, c.id) for c in delta.items] == [("note", added.value.id), ("task", IDS.pat_task)]
    assert all(isinstance(c, Change) for c in delta.items) and delta.items[1].case_id == IDS.open_case
    assert (await api.changes(delta.next_cursor)).items == ()
    with pytest.raises(errors.Invalid) as bad:
        await api.changes("not-a-cursor")
    assert bad.value.status == 400


async def test_cached_views_upload_and_audit_trail(make_api) -> None:  # type: ignore[no-untyped-def]
    pat = await make_api("pat")
    key = new_idempotency_key()
    views = [{"case_id": IDS.open_case, "viewed_at": dt.datetime.now(dt.timezone.utc), "what": "chronology"},
             {"case_id": IDS.open_case, "viewed_at": "2026-01-01T09:00:00Z"}]
    assert await pat.upload_views(views, idempotency_key=key) == 2
    assert await pat.upload_views(views, idempotency_key=key) == 2  # a replay, not two more rows
    with pytest.raises(errors.NotFound):
        await pat.upload_views([{"case_id": 999_999, "viewed_at": "2026-01-01T09:00:00Z"}],
                               idempotency_key=new_idempotency_key())
    with pytest.raises(errors.AccessDenied, match="may not read the audit trail"):
        await pat.audit()
    manager = await make_api("max")
    trail = await manager.audit(case_id=IDS.open_case, user="pat", from_=dt.date(2025, 12, 1))
    assert isinstance(trail, Page)
    cached = [e for e in trail.items if e.source == "cache"]
    assert len(cached) == 2 and {e.action for e in cached} == {"chronology.read", "case.read"}
    with pytest.raises(errors.Invalid):
        await manager.audit(from_=dt.date(2026, 2, 1), to=dt.date(2026, 1, 1))


# --- users ---------------------------------------------------------------------------------------------------------

async def test_users_list_get_add_patch(make_api) -> None:  # type: ignore[no-untyped-def]
    pat = await make_api("pat")
    listed = await pat.users(active=True)
    assert isinstance(listed, Page) and "gone" not in {u.username for u in listed.items}
    one = await pat.user(1)
    assert isinstance(one, Reply) and one.value.username == "pat"
    assert isinstance(await pat.user(1, etag=one.etag), NotModified)
    with pytest.raises(errors.AccessDenied):
        await pat.add_user(username="newbie", display_name="New Bie", role="practitioner", team="North",
                           password="long enough")
    ada = await make_api("ada")
    key = new_idempotency_key()
    made = await ada.add_user(username="newbie", display_name="New Bie", role="practitioner", team="North",
                              password="long enough", idempotency_key=key)
    assert made.value.username == "newbie" and not made.replayed
    with pytest.raises(errors.Conflict) as taken:
        await ada.add_user(username="newbie", display_name="Again", role="practitioner", team="North",
                           password="long enough")
    assert taken.value.status == 409 and "taken" in str(taken.value)
    changed = await ada.patch_user(made.value.id, {"team": "South"}, if_match=f'"{made.value.version}"')
    assert changed.value.team == "South" and changed.value.version == 2
    with pytest.raises(errors.Conflict):
        await ada.patch_user(made.value.id, {"team": "East"}, if_match='"1"')
    with pytest.raises(errors.Invalid) as short:
        await ada.add_user(username="x", display_name="X", role="practitioner", team="North", password="short")
    assert {e.field for e in short.value.errors} >= {"username", "password"}
    with pytest.raises(errors.NotFound):
        await ada.user(999_999)


# --- the network and odd answers --------------------------------------------------------------------------------

class _Down(httpx.AsyncBaseTransport):
    def __init__(self, error: type[httpx.TransportError]) -> None:
        self.error = error

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        raise self.error("simulated", request=request)


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.ReadTimeout, httpx.ReadError])
async def test_network_failures_are_offline(make_api, failure) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(None, transport_=_Down(failure), tokens=MemoryTokenStore(Tokens("a", "r")))
    with pytest.raises(errors.Offline) as caught:
        await api.add_note(1, "case_note", "x", idempotency_key="k")
    assert str(caught.value) == ("The server could not be reached; your note is saved and will be sent when it can.")
    with pytest.raises(errors.Offline, match="showing what is saved on this device"):
        await api.case(1)
    with pytest.raises(errors.Offline, match="cannot sign in"):
        await api.sign_in("pat", PASSWORD)
    with pytest.raises(errors.Offline):
        await api.health()


def _answering(status: int, body: bytes, content_type: str = "application/problem+json",
               headers: dict[str, str] | None = None) -> httpx.MockTransport:
    return httpx.MockTransport(lambda request: httpx.Response(
        status, content=body, headers={"content-type": content_type, **(headers or {})}))


@pytest.mark.parametrize("status,headers,expected,extra", [
    (500, {}, errors.ServerError, None),
    (503, {"retry-after": "7"}, errors.ServerError, 7.0),
    (429, {"retry-after": "2"}, errors.RateLimited, 2.0),
    (410, {}, errors.NotFound, None),
    (413, {}, errors.Invalid, None),
    (428, {}, errors.Invalid, None),
    (409, {}, errors.Conflict, None),
])
async def test_every_problem_status_maps_to_an_error(make_api, status, headers, expected,
                                                      extra) -> None:  # type: ignore[no-untyped-def]
    body = b'{"type":"about:blank","title":"x","status":%d,"detail":"The server says why."}' % status
    api = await make_api(None, transport_=_answering(status, body, headers=headers),
                         tokens=MemoryTokenStore(Tokens("a", "r")))
    with pytest.raises(expected) as caught:
        await api.case(1)
    assert caught.value.status == status and caught.value.detail == "The server says why."
    assert str(caught.value)  # always something a person can read
    if extra is not None:
        assert caught.value.retry_after == extra  # type: ignore[attr-defined]


async def test_a_proxy_error_page_is_a_server_error(make_api) -> None:  # type: ignore[no-untyped-def]
    api = await make_api(None, transport_=_answering(502, b"<html>Bad Gateway</html>", "text/html"),
                         tokens=MemoryTokenStore(Tokens("a", "r")))
    with pytest.raises(errors.ServerError) as caught:
        await api.case(1)
    assert caught.value.status == 502 and "could not do this just now" in str(caught.value)
    garbled = await make_api(None, transport_=_answering(200, b"not json", "application/json"),
                             tokens=MemoryTokenStore(Tokens("a", "r")))
    with pytest.raises(errors.ServerError):
        await garbled.case(1)


def test_timeouts_are_configurable() -> None:
    timeout = Timeouts(connect=1.5, read=4).httpx()
    assert timeout.connect == 1.5 and timeout.read == 4
    assert Timeouts().connect == 3.0 and Timeouts().read == 10.0
    api = CaseAPI("http://example.test/v1/", timeouts=Timeouts(connect=1.5))
    assert api.base_url == "http://example.test" and api._http.timeout.connect == 1.5
    asyncio.run(api.aclose())


def test_the_http_client_is_made_on_the_first_request_and_closing_before_then_works() -> None:
    api = CaseAPI("http://example.test")
    assert api._client is None  # nothing of httpx yet: see tests/test_imports.py
    asyncio.run(api.aclose())
    with pytest.raises(RuntimeError, match="closed"):
        asyncio.run(api.health())  # as httpx refuses a closed client


def test_only_an_https_server_costs_a_ca_bundle_and_both_verify() -> None:
    def tls(url: str) -> ssl.SSLContext:
        api = CaseAPI(url)
        try:
            return api._http._transport._pool._ssl_context  # type: ignore[attr-defined]
        finally:
            asyncio.run(api.aclose())

    secure = tls("https://casework.example.test")
    assert secure.verify_mode == ssl.CERT_REQUIRED and secure.check_hostname
    assert secure.cert_store_stats()["x509_ca"] > 0  # httpx's default: certifi's bundle
    plain = tls("http://casework.example.test")  # never used: requests go to the http base URL only
    assert plain.verify_mode == ssl.CERT_REQUIRED and plain.check_hostname
    assert plain.cert_store_stats()["x509_ca"] == 0  # trusts nobody, so TLS reached by mistake fails closed


async def test_end_to_end_over_loopback(live_server) -> None:  # type: ignore[no-untyped-def]
    async with CaseAPI(live_server) as api:
        assert (await api.health()).status == "ok"
        await api.sign_in("pat", PASSWORD)
        reply = await api.case(IDS.open_case)
        assert isinstance(reply, Reply) and isinstance(await api.case(IDS.open_case, etag=reply.etag), NotModified)
        note = await api.add_note(IDS.open_case, "case_note", "Over the wire.", idempotency_key="loopback-1")
        assert note.value.body == "Over the wire."


# --- the token file ------------------------------------------------------------------------------------------------

def test_token_file_is_private_and_round_trips(tmp_path: Path) -> None:
    base = tmp_path / "state" / "credentials"
    store = FileTokenStore(BASE_URL, "pat", base_dir=base)
    assert store.load() is None
    store.save(Tokens("access", "refresh", "2030-01-01T00:00:00Z"))
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert store.load() == Tokens("access", "refresh", "2030-01-01T00:00:00Z")
    assert FileTokenStore(BASE_URL, "pam", base_dir=base).path != store.path  # one per user
    assert credentials_path("http://other.test", "pat", base) != store.path  # and per server
    store.clear()
    assert store.load() is None
    store.clear()  # twice is fine


def test_loosened_token_file_is_not_trusted(tmp_path: Path) -> None:
    store = FileTokenStore(BASE_URL, "pat", base_dir=tmp_path)
    store.save(Tokens("access", "refresh"))
    os.chmod(store.path, 0o644)
    assert store.load() is None and not store.path.exists()


async def test_file_token_store_keeps_rotated_tokens(make_api, tmp_path: Path,
                                                     server_engine: sqlalchemy.Engine) -> None:  # type: ignore[no-untyped-def]
    store = FileTokenStore(BASE_URL, "pat", base_dir=tmp_path)
    api = await make_api("pat", tokens=store)  # type: ignore[arg-type]
    expire_access_tokens(server_engine)
    await api.me()
    saved = FileTokenStore(BASE_URL, "pat", base_dir=tmp_path).load()
    assert saved is not None and saved == api.token_store.load()
    # a new process with the saved tokens carries on without the password
    again = await make_api(None, tokens=FileTokenStore(BASE_URL, "pat", base_dir=tmp_path))  # type: ignore[arg-type]
    assert isinstance(await again.me(), Reply)
