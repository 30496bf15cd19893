"""``CaseAPI``: an async client for every endpoint of the Case API, v1.

It speaks only what ``server/openapi.json`` promises, so it works against any
server that honours it. Every answer comes back as the typed records of
``client.models``; every failure as one of ``client.errors``.

- Bearer auth. An access token that has expired is renewed with the refresh
  token and the request tried once more. Refreshing is single-flight: when ten
  requests find the token expired together, one refresh runs and all ten wait
  for it (refresh tokens rotate, so a second refresh would fail and sign the
  user out). If the refresh itself is refused the session is over:
  ``SessionExpired``, and the UI shows the sign-in dialog.
- Conditional reads: pass the ETag you hold as ``etag=`` and a ``304`` comes
  back as ``NotModified`` rather than the body.
- Writes: ``PATCH`` takes ``if_match``; ``POST`` takes ``idempotency_key``.
  The outbox keeps the key with the item, so a resend after a lost answer
  cannot create the note twice.
- ``transport=`` is passed to httpx, so tests run this against the real server
  in process (``httpx.ASGITransport``) and through fault-injecting wrappers.
- ``hold_answers(gate)``: each answer waits for ``await gate()`` before it is
  read and handed on. The TUI passes "until the frame of the key being handled
  is out": an answer that arrives mid-key (on a slow network, hundreds of ms
  after it was asked for) is decoded, stored and shown after that frame, not
  inside it.
- Nothing of httpx is loaded until the first request: the app draws the caseload
  from the store before it needs the network, and httpx with its connection pool
  and a TLS context cost ~80 ms of a cold start (``tests/test_imports.py``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json as jsonlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from client.credentials import MemoryTokenStore, Tokens, TokenStore
from client.errors import CaseworkError, Offline, ServerError, SessionExpired, from_response
from client.models import (AuditEvent, Case, CaseSummary, Change, ChronologyEvent, DirectoryEntry, Health, Note,
                           Page, Task, User)

if TYPE_CHECKING:
    import ssl

    import httpx

T = TypeVar("T")

USER_AGENT = "casework-client/0.1"


@dataclass(frozen=True, slots=True)
class Timeouts:
    """Seconds. A short connect timeout so that "offline" shows quickly; reads get longer for big pages."""

    connect: float = 3.0
    read: float = 10.0
    write: float = 10.0
    pool: float = 5.0

    def httpx(self) -> httpx.Timeout:
        import httpx

        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


@dataclass(frozen=True, slots=True)
class NotModified:
    """A 304: what you hold (the ETag you sent) is still current."""

    etag: str | None = None


@dataclass(frozen=True, slots=True)
class Reply(Generic[T]):
    """One resource: the typed value, its ETag, and the JSON as sent (the store keeps JSON)."""

    value: T
    etag: str | None
    json: Mapping[str, Any]
    #: a POST answered from the server's idempotency record: it had already been done
    replayed: bool = False


def _iso(moment: dt.datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters without the unset ones (None), booleans spelt as the server expects."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or value == () or value == []:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value
    return out


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


def _tls_verify(root: str) -> ssl.SSLContext | bool:
    """What httpx checks servers' certificates with: its default (certifi's CA bundle) for https.

    A plain-http server is never spoken to over TLS (every request goes to ``base_url`` and redirects are not
    followed; a proxy's own TLS has its own context), yet httpx would load the CA bundle anyway, tens of ms of
    a cold start. It gets a context that trusts nothing instead, so TLS reached by some mistake fails closed."""
    if not root.lower().startswith("http://"):
        return True
    import ssl

    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class CaseAPI:
    """One signed-in (or signing-in) session with one Case API server."""

    def __init__(
        self,
        base_url: str,
        *,
        tokens: TokenStore | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeouts: Timeouts = Timeouts(),
    ) -> None:
        # accept "https://host", "https://host/" and "https://host/v1" alike
        root = base_url.rstrip("/")
        if root.endswith("/v1"):
            root = root[: -len("/v1")]
        self.base_url = root
        self.token_store: TokenStore = tokens if tokens is not None else MemoryTokenStore()
        self._tokens: Tokens | None = self.token_store.load()
        self._refresh_lock = asyncio.Lock()
        self._transport = transport
        self._timeouts = timeouts
        self._client: httpx.AsyncClient | None = None
        self._closed = False
        self._answer_gate: Callable[[], Awaitable[None]] | None = None

    @property
    def _http(self) -> httpx.AsyncClient:
        """The HTTP client, made on the first request, not with the API: see the module's docstring."""
        if self._client is None:
            if self._closed:
                # what httpx says when a closed client is used
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            import httpx

            self._client = httpx.AsyncClient(base_url=self.base_url + "/v1", transport=self._transport,
                                             timeout=self._timeouts.httpx(), verify=_tls_verify(self.base_url),
                                             headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        return self._client

    # --- lifecycle -----------------------------------------------------------------------------------

    async def aclose(self) -> None:
        self._closed = True
        if self._client is not None:
            await self._client.aclose()

    async def __aenter__(self) -> CaseAPI:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    @property
    def signed_in(self) -> bool:
        return self._tokens is not None

    def hold_answers(self, gate: Callable[[], Awaitable[None]] | None) -> None:
        """From now on each answer (or failure to connect), once it has come, waits for ``await gate()`` before
        it is handed on to be decoded and used (``None``: not at all). The gate must not wait long: the request
        waits with it."""
        self._answer_gate = gate

    # --- the HTTP core ---------------------------------------------------------------------------------

    async def _send(self, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                    body: Any = None, headers: Mapping[str, str] | None = None, auth: bool = True,
                    operation: str | None = None) -> httpx.Response:
        """Send, renewing an expired access token once. Network failures become ``Offline``."""
        for attempt in range(2):
            sent_token = self._tokens.access_token if self._tokens else None
            if auth and sent_token is None:
                raise SessionExpired("Not signed in.")
            all_headers = dict(headers or {})
            if auth:
                all_headers["Authorization"] = f"Bearer {sent_token}"
            content = None
            if body is not None:
                content = jsonlib.dumps(body).encode()
                all_headers["Content-Type"] = "application/json"
            response = await self._wire(method, path, operation, params=params, headers=all_headers,
                                        content=content)
            if response.status_code == 401 and auth and attempt == 0:
                await self._renew(sent_token)
                continue
            return response
        return response  # the retry also said 401: the caller maps it to SessionExpired

    async def _wire(self, method: str, path: str, operation: str | None, **kwargs: Any) -> httpx.Response:
        """One request as it is; a failure of the network (connect, read, write, timeout, protocol) is ``Offline``."""
        client = self._http
        import httpx  # already loaded by the client: only the name is needed here

        try:
            # the head only: the gate comes before the body is read. A big answer (a 1,000-event chronology page
            # is ~380 KB) is read in dozens of loop steps, which on a slow network had landed under the keys of
            # whoever was typing when it came
            response = await client.send(client.build_request(method, path, **kwargs), stream=True)
        except httpx.TransportError as error:
            await self._through_gate()  # a refused connection is an answer too: the UI shows it
            raise Offline(operation, cause=f"{type(error).__name__}: {error}") from error
        try:
            await self._through_gate()
            await response.aread()
        except httpx.TransportError as error:
            await response.aclose()
            raise Offline(operation, cause=f"{type(error).__name__}: {error}") from error
        except BaseException:
            await response.aclose()
            raise
        return response

    async def _through_gate(self) -> None:
        if self._answer_gate is not None:
            await self._answer_gate()

    async def _renew(self, stale_access: str | None) -> None:
        """Single-flight refresh: whoever gets the lock first refreshes; the rest see the new token."""
        async with self._refresh_lock:
            current = self._tokens
            if current is None or current.access_token != stale_access:
                return  # already renewed (or already given up) while we waited
            response = await self._wire("POST", "/auth/refresh", None,
                                        json={"refresh_token": current.refresh_token})
            if response.status_code == 200:
                self._keep(response.json())
                return
            if response.status_code in (400, 401, 403, 422):
                # the refresh token is spent, expired or revoked: only the password will do now
                self._forget()
                raise SessionExpired(_detail(response))
            raise _error(response)

    def _keep(self, pair: Mapping[str, Any]) -> Tokens:
        expires_in = int(pair.get("expires_in") or 0)
        expires_at = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=expires_in)).strftime(
            "%Y-%m-%dT%H:%M:%SZ") if expires_in else None
        tokens = Tokens(pair["access_token"], pair["refresh_token"], expires_at)
        self._tokens = tokens
        self.token_store.save(tokens)  # at once: the old refresh token no longer works
        return tokens

    def _forget(self) -> None:
        self._tokens = None
        self.token_store.clear()

    async def _json(self, method: str, path: str, *, expect: Iterable[int] = (200,), **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        if response.status_code not in expect:
            raise _error(response)
        return _body(response)

    async def _get(self, path: str, etag: str | None, params: Mapping[str, Any] | None = None,
                   operation: str = "read") -> tuple[Any, str | None] | NotModified:
        headers = {"If-None-Match": etag} if etag else None
        response = await self._send("GET", path, params=params, headers=headers, operation=operation)
        if response.status_code == 304:
            return NotModified(response.headers.get("etag") or etag)
        if response.status_code != 200:
            raise _error(response)
        return _body(response), response.headers.get("etag")

    async def _one(self, path: str, etag: str | None, build: Callable[[Mapping[str, Any]], T],
                   params: Mapping[str, Any] | None = None) -> Reply[T] | NotModified:
        got = await self._get(path, etag, params)
        if isinstance(got, NotModified):
            return got
        data, tag = got
        return Reply(build(data), tag, data)

    async def _page(self, path: str, etag: str | None, build: Callable[[Mapping[str, Any]], Any],
                    params: Mapping[str, Any] | None = None, operation: str = "read") -> Page | NotModified:
        got = await self._get(path, etag, params, operation)
        if isinstance(got, NotModified):
            return got
        data, tag = got
        raw = tuple(data.get("items") or ())
        return Page(tuple(build(item) for item in raw), data.get("next_cursor"), tag, raw)

    # --- auth --------------------------------------------------------------------------------------------

    async def sign_in(self, username: str, password: str) -> Tokens:
        """POST /auth/token. Wrong password → ``SignInFailed``."""
        response = await self._wire("POST", "/auth/token", "sign-in", json={"username": username, "password": password})
        if response.status_code != 200:
            raise _error(response, signing_in=True)
        return self._keep(_body(response))

    async def refresh(self) -> Tokens:
        """POST /auth/refresh now (normally it happens by itself when a token expires)."""
        stale = self._tokens.access_token if self._tokens else None
        if stale is None:
            raise SessionExpired("Not signed in.")
        await self._renew(stale)
        assert self._tokens is not None
        return self._tokens

    async def logout(self) -> None:
        """POST /auth/logout ends every session of this user; the tokens are forgotten even if offline."""
        try:
            if self._tokens is not None:
                response = await self._send("POST", "/auth/logout", operation="sign-out")
                if response.status_code not in (204, 401):
                    raise _error(response)
        finally:
            self._forget()

    async def me(self, etag: str | None = None) -> Reply[User] | NotModified:
        return await self._one("/me", etag, User.from_json)

    # --- cases -------------------------------------------------------------------------------------------

    async def cases(self, scope: str = "mine", *, status: str | None = None, category: str | None = None,
                    limit: int | None = None, cursor: str | None = None, etag: str | None = None) -> Page | NotModified:
        """GET /cases: summaries (``scope`` mine | team | all). The server lists open cases unless ``status`` says."""
        params = _params(scope=scope, status=status, category=category, limit=limit, cursor=cursor)
        return await self._page("/cases", etag, CaseSummary.from_json, params)

    async def case(self, case_id: int, etag: str | None = None) -> Reply[Case] | NotModified:
        return await self._one(f"/cases/{case_id}", etag, Case.from_json)

    async def chronology(self, case_id: int, *, kinds: Sequence[str] = (), key_only: bool = False,
                         q: str | None = None, limit: int | None = None, cursor: str | None = None,
                         etag: str | None = None) -> Page | NotModified:
        """Events newest first."""
        params = _params(kind=list(kinds), key_only=key_only or None, q=q or None, limit=limit, cursor=cursor)
        return await self._page(f"/cases/{case_id}/chronology", etag, ChronologyEvent.from_json, params)

    async def notes(self, case_id: int, *, limit: int | None = None, cursor: str | None = None,
                    etag: str | None = None) -> Page | NotModified:
        return await self._page(f"/cases/{case_id}/notes", etag, Note.from_json, _params(limit=limit, cursor=cursor))

    async def note(self, case_id: int, note_id: int, etag: str | None = None) -> Reply[Note] | NotModified:
        return await self._one(f"/cases/{case_id}/notes/{note_id}", etag, Note.from_json)

    async def add_note(self, case_id: int, kind: str, body: str, *, idempotency_key: str,
                       occurred_at: dt.datetime | str | None = None, amends: int | None = None) -> Reply[Note]:
        """POST /cases/{id}/notes. Resend with the same key after a failure: it will not be added twice."""
        payload: dict[str, Any] = {"kind": kind, "body": body}
        if occurred_at is not None:
            payload["occurred_at"] = _iso(occurred_at)
        if amends is not None:
            payload["amends"] = amends
        response = await self._send("POST", f"/cases/{case_id}/notes", body=payload, operation="note",
                                    headers={"Idempotency-Key": idempotency_key})
        if response.status_code != 201:
            raise _error(response)
        data = _body(response)
        return Reply(Note.from_json(data), response.headers.get("etag"), data,
                     replayed=response.headers.get("idempotent-replayed") == "true")

    async def case_tasks(self, case_id: int, *, status: str | None = None, limit: int | None = None,
                         cursor: str | None = None, etag: str | None = None) -> Page | NotModified:
        params = _params(status=status, limit=limit, cursor=cursor)
        return await self._page(f"/cases/{case_id}/tasks", etag, Task.from_json, params)

    # --- tasks ---------------------------------------------------------------------------------------------

    async def tasks(self, *, assignee: str = "me", status: str | None = "open", due_before: dt.date | None = None,
                    limit: int | None = None, cursor: str | None = None,
                    etag: str | None = None) -> Page | NotModified:
        """GET /tasks: ``assignee="me", status="open"`` is the work tray."""
        params = _params(assignee=assignee, status=status, due_before=due_before, limit=limit, cursor=cursor)
        return await self._page("/tasks", etag, Task.from_json, params)

    async def task(self, task_id: int, etag: str | None = None) -> Reply[Task] | NotModified:
        return await self._one(f"/tasks/{task_id}", etag, Task.from_json)

    async def patch_task(self, task_id: int, changes: Mapping[str, Any], *, if_match: str,
                         idempotency_key: str | None = None) -> Reply[Task]:
        """PATCH /tasks/{id} (status, snoozed_until, assignee, due_on, priority). 412 → ``Conflict``.

        ``idempotency_key`` is optional: If-Match already makes a PATCH safe to resend, but sending the
        outbox item's key lets a server (or a test) tie the request to the item in its logs."""
        headers = {"If-Match": if_match}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = await self._send("PATCH", f"/tasks/{task_id}", body=dict(changes), operation="task",
                                    headers=headers)
        if response.status_code != 200:
            raise _error(response)
        data = _body(response)
        return Reply(Task.from_json(data), response.headers.get("etag"), data)

    # --- search, directory, changes ------------------------------------------------------------------------

    async def search(self, q: str, *, limit: int | None = None) -> Page:
        """GET /search: ranked people and cases; restricted ones come back as stubs (``is_stub``)."""
        got = await self._page("/search", None, DirectoryEntry.from_json, _params(q=q, limit=limit), "search")
        assert isinstance(got, Page)
        return got

    async def directory(self, *, limit: int | None = None, cursor: str | None = None,
                        etag: str | None = None) -> Page | NotModified:
        return await self._page("/directory", etag, DirectoryEntry.from_json, _params(limit=limit, cursor=cursor))

    async def changes(self, since: str | None = None, *, limit: int | None = None) -> Page:
        """GET /changes. Without ``since``: no items, and the cursor of now (take it before a full sync)."""
        got = await self._page("/changes", None, Change.from_json, _params(since=since, limit=limit))
        assert isinstance(got, Page)
        return got

    # --- audit ---------------------------------------------------------------------------------------------

    async def upload_views(self, views: Sequence[Mapping[str, Any]], *, idempotency_key: str) -> int:
        """POST /audit/views: ``[{case_id, viewed_at, what}]`` served from the cache. Returns how many were taken."""
        body = {"views": [{"case_id": v["case_id"], "viewed_at": _iso(v["viewed_at"]), "what": v.get("what", "case")}
                          for v in views]}
        data = await self._json("POST", "/audit/views", expect=(202,), body=body,
                                headers={"Idempotency-Key": idempotency_key})
        return int(data["accepted"])

    async def audit(self, *, case_id: int | None = None, user: str | None = None, action: str | None = None,
                    from_: dt.date | None = None, to: dt.date | None = None, limit: int | None = None,
                    cursor: str | None = None, etag: str | None = None) -> Page | NotModified:
        """GET /audit, newest first (managers and admins)."""
        params = _params(case_id=case_id, user=user, action=action, to=to, limit=limit, cursor=cursor)
        if from_ is not None:
            params["from"] = from_.isoformat()
        return await self._page("/audit", etag, AuditEvent.from_json, params)

    # --- users ---------------------------------------------------------------------------------------------

    async def users(self, *, active: bool | None = None, team: str | None = None, limit: int | None = None,
                    cursor: str | None = None, etag: str | None = None) -> Page | NotModified:
        return await self._page("/users", etag, User.from_json, _params(active=active, team=team, limit=limit,
                                                                         cursor=cursor))

    async def user(self, user_id: int, etag: str | None = None) -> Reply[User] | NotModified:
        return await self._one(f"/users/{user_id}", etag, User.from_json)

    async def add_user(self, *, username: str, display_name: str, role: str, team: str, password: str,
                       idempotency_key: str | None = None) -> Reply[User]:
        body = {"username": username, "display_name": display_name, "role": role, "team": team, "password": password}
        response = await self._send("POST", "/users", body=body,
                                    headers={"Idempotency-Key": idempotency_key or new_idempotency_key()})
        if response.status_code != 201:
            raise _error(response)
        data = _body(response)
        return Reply(User.from_json(data), response.headers.get("etag"), data,
                     replayed=response.headers.get("idempotent-replayed") == "true")

    async def patch_user(self, user_id: int, changes: Mapping[str, Any], *, if_match: str) -> Reply[User]:
        response = await self._send("PATCH", f"/users/{user_id}", body=dict(changes), headers={"If-Match": if_match})
        if response.status_code != 200:
            raise _error(response)
        data = _body(response)
        return Reply(User.from_json(data), response.headers.get("etag"), data)

    # --- health ----------------------------------------------------------------------------------------------

    async def health(self) -> Health:
        """GET /health, no sign-in needed: the cheap probe that tells "back online"."""
        return Health.from_json(await self._json("GET", "/health", auth=False))

    # --- paging ------------------------------------------------------------------------------------------------

    async def every(self, fetch: Callable[..., Awaitable[Page | NotModified]], *args: Any,
                    **kwargs: Any) -> AsyncIterator[Page]:
        """Each page of a list in turn: ``async for page in api.every(api.chronology, case_id, limit=1000)``."""
        cursor: str | None = None
        while True:
            page = await fetch(*args, cursor=cursor, **kwargs)
            assert isinstance(page, Page), "every() does not send an ETag, so there is no 304"
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor


def _body(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    try:
        return response.json()
    except ValueError as error:
        raise ServerError("The server's answer could not be read.", status=response.status_code) from error


def _detail(response: httpx.Response) -> str | None:
    try:
        data = response.json()
    except ValueError:
        return None
    return data.get("detail") if isinstance(data, dict) else None


def _error(response: httpx.Response, *, signing_in: bool = False) -> CaseworkError:
    try:
        body = response.json()
    except ValueError:
        body = None  # e.g. a proxy's HTML error page
    return from_response(response.status_code, body, response.headers, signing_in=signing_in)
