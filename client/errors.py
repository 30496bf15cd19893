"""What can go wrong talking to the Case API, in words a social worker can act on.

Every failure the client sees, whether a problem+json answer or a network
error, becomes one of the exceptions below. ``str(error)`` is the sentence to
show on screen; ``detail`` keeps the server's own words for logs and for the
admin screen. Screens catch ``CaseworkError`` and show the message; the sync
engine looks at the class to decide between retry, conflict, purge and giving up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

# the wording of "offline" depends on what the user was doing when it happened
_OFFLINE_WORDING = {
    "note": "The server could not be reached; your note is saved and will be sent when it can.",
    "task": "The server could not be reached; your change is saved and will be sent when it can.",
    "read": "The server could not be reached; showing what is saved on this device.",
    "search": "The server could not be reached; searching the copy saved on this device.",
    "sign-in": "The server could not be reached, so you cannot sign in just now. Check the network and try again.",
}
_OFFLINE_DEFAULT = "The server could not be reached; work saved on this device will be sent when it can."


class CaseworkError(Exception):
    """Base of every client error; ``str()`` is the readable message."""

    #: the HTTP status, when the server answered at all
    status: int | None = None

    def __init__(self, message: str, *, status: int | None = None, detail: str | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.detail = detail
        self.problem = dict(problem or {})


class Offline(CaseworkError):
    """The server could not be reached, or did not answer in time."""

    def __init__(self, operation: str | None = None, *, cause: str | None = None) -> None:
        super().__init__(_OFFLINE_WORDING.get(operation or "", _OFFLINE_DEFAULT), detail=cause)
        self.operation = operation


class SessionExpired(CaseworkError):
    """The session ended and could not be renewed: the sign-in dialog is shown over the screen."""

    def __init__(self, detail: str | None = None) -> None:
        super().__init__("Your session has ended. Sign in again to carry on; this screen, your drafts and "
                         "unsent work are kept.", status=401, detail=detail)


class SignInFailed(CaseworkError):
    """Wrong username or password, or a disabled account (401 from POST /auth/token)."""

    def __init__(self, detail: str | None = None) -> None:
        # the server's sentence already says which ("not right" or "disabled"), in plain words
        super().__init__(detail or "The username or password is not right.", status=401, detail=detail)


class AccessDenied(CaseworkError):
    """403: a restricted record, or a role that may not do this."""

    def __init__(self, detail: str | None = None, problem: Mapping[str, Any] | None = None) -> None:
        message = "You do not have access to this record."
        # the server names whom to contact ("Contact the North team manager if you need access")
        if detail:
            message = f"{message} {detail}"
        super().__init__(message, status=403, detail=detail, problem=problem)


class NotFound(CaseworkError):
    """404 or 410: the record does not exist (any more)."""

    def __init__(self, detail: str | None = None, *, status: int = 404,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__("This record could not be found on the server; it may have been removed.",
                         status=status, detail=detail, problem=problem)


class Conflict(CaseworkError):
    """412 (someone else changed it first) or 409 (clashes with the current state).

    ``current_etag`` is the server's ETag now, when it sent one, so the caller can
    reload and let the user choose what to keep.
    """

    def __init__(self, detail: str | None = None, *, status: int = 412, current_etag: str | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        if status == 412:
            message = ("Someone else changed this while you were working on it. Nothing has been overwritten; "
                       "choose which version to keep.")
        else:
            message = detail or "This clashes with the record as it is now."
        super().__init__(message, status=status, detail=detail, problem=problem)
        self.current_etag = current_etag


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str


class Invalid(CaseworkError):
    """400, 413, 422, 428 and any other 4xx: the request cannot be accepted as it is."""

    def __init__(self, detail: str | None = None, *, status: int = 422, errors: tuple[FieldError, ...] = (),
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail or "The server could not accept this; check what was entered.", status=status,
                         detail=detail, problem=problem)
        self.errors = errors


class ServerError(CaseworkError):
    """5xx, or an answer the client cannot read: try again later."""

    def __init__(self, detail: str | None = None, *, status: int | None = 500, retry_after: float | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__("The server had a problem and could not do this just now; work saved on this device "
                         "will be sent when it can.", status=status, detail=detail, problem=problem)
        self.retry_after = retry_after


class RateLimited(ServerError):
    """429: too many requests; wait ``retry_after`` seconds."""

    def __init__(self, detail: str | None = None, *, retry_after: float | None = None,
                 problem: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail, status=429, retry_after=retry_after, problem=problem)
        self.message = "The server is busy; work saved on this device will be sent in a moment."
        self.args = (self.message,)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: rare enough to treat as "use our own back-off"


def from_response(status: int, body: Any, headers: Mapping[str, str], *, signing_in: bool = False) -> CaseworkError:
    """The exception for an error answer. ``body`` is the decoded JSON, or None if it was not JSON."""
    problem: Mapping[str, Any] = body if isinstance(body, Mapping) else {}
    detail = problem.get("detail") if isinstance(problem.get("detail"), str) else None
    if status == 401:
        return SignInFailed(detail) if signing_in else SessionExpired(detail)
    if status == 403:
        return AccessDenied(detail, problem)
    if status in (404, 410):
        return NotFound(detail, status=status, problem=problem)
    if status in (409, 412):
        return Conflict(detail, status=status, current_etag=headers.get("etag"), problem=problem)
    if status == 429:
        return RateLimited(detail, retry_after=_retry_after(headers), problem=problem)
    if 400 <= status < 500:
        raw = problem.get("errors") or ()
        errors = tuple(FieldError(str(e.get("field", "")), str(e.get("message", "")))
                       for e in raw if isinstance(e, Mapping))
        return Invalid(detail, status=status, errors=errors, problem=problem)
    return ServerError(detail, status=status, retry_after=_retry_after(headers), problem=problem)
