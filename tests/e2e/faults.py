"""Faults between a laptop and the service, in process (SYNC reference §5.1, layer A).

`FaultTransport` is the httpx transport each laptop's `SyncClient` talks through: it forwards
to the real app over `httpx.ASGITransport`, except when a queued `Fault` matches the request.
A fault can stop the request before the service sees it (refused, timeout, a canned 500/503 or
HTML page) or after the service committed it (timeout, a dropped connection, a truncated or
tampered answer), which is the "server committed, client never heard" case.

Crashes are exceptions that no production code catches by accident: `ServerCrash` (a service
worker killed at a failpoint: the client sees the connection drop) and `ClientCrash` (the
laptop's process killed: the laptop object is made unable to write before it is raised, so
nothing the engine does while unwinding reaches the disk, as with kill -9).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from sofs_tui.server import failpoints

PUSH = "/sync/v1/push"
PULL = "/sync/v1/changes"

FaultKind = Literal[
    "refuse",  # ConnectError: nothing was sent
    "timeout_before",  # ReadTimeout; the service never saw the request
    "timeout_after",  # the service handled it, then ReadTimeout
    "status",  # a canned status (500, 503 + Retry-After) instead of the service's answer
    "status_after",  # the service handled it, then a proxy answered 500
    "html",  # a captive portal's 200 text/html page
    "truncate",  # the service handled it; the body is cut in half
    "tamper",  # the service handled it; `tamper` rewrites the JSON body
    "read_error_after",  # the service handled it, then the connection dropped
    "crash_before",  # the laptop dies before the request leaves
    "crash_after",  # the service handled it; the laptop dies before reading the answer
]


class ServerCrash(BaseException):
    """A service worker killed mid-request (a BaseException: no handler in the app takes it
    for an ordinary error; the transport turns it into a dropped connection)."""


class ClientCrash(BaseException):
    """The laptop's process was killed at a client failpoint."""


@dataclass
class Fault:
    kind: FaultKind
    method: str = "POST"
    path: str = PUSH
    status: int = 500
    headers: dict[str, str] = field(default_factory=dict)
    tamper: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    #: Called when a crash fault fires (the laptop's `die`).
    on_crash: Callable[[], None] | None = None
    times: int = 1

    def matches(self, request: httpx.Request) -> bool:
        return request.method == self.method and request.url.path == self.path


def _json_response(
    status: int, body: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return httpx.Response(
        status, content=body, headers={"content-type": "application/json", **(headers or {})}
    )


class FaultTransport(httpx.AsyncBaseTransport):
    """The real app behind `httpx.ASGITransport`, with faults queued by the test."""

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app)
        self.faults: list[Fault] = []
        #: (method, path, what happened) for every request, in order.
        self.log: list[tuple[str, str, str]] = []

    def inject(self, kind: FaultKind, method: str = "POST", path: str = PUSH, **kw: Any) -> Fault:
        fault = Fault(kind, method, path, **kw)
        self.faults.append(fault)
        return fault

    def requests_to(self, path: str) -> int:
        return sum(1 for _, p, _ in self.log if p == path)

    def _take(self, request: httpx.Request) -> Fault | None:
        for fault in self.faults:
            if fault.matches(request):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._take(request)
        where = (request.method, request.url.path)
        if fault is None:
            response = await self._forward(request)
            self.log.append((*where, str(response.status_code)))
            return response
        self.log.append((*where, fault.kind))
        kind = fault.kind
        if kind == "refuse":
            raise httpx.ConnectError("connection refused", request=request)
        if kind == "timeout_before":
            raise httpx.ReadTimeout("timed out", request=request)
        if kind == "status":
            return _json_response(fault.status, b'{"detail":"injected"}', fault.headers)
        if kind == "html":
            page = b"<html><body>Sign in to the hotel wifi</body></html>"
            return httpx.Response(200, content=page, headers={"content-type": "text/html"})
        if kind == "crash_before":
            assert fault.on_crash is not None
            fault.on_crash()
            raise ClientCrash("killed before sending")
        response = await self._forward(request)  # every kind below: the service handled it
        body = await response.aread()
        if kind == "timeout_after":
            raise httpx.ReadTimeout("timed out", request=request)
        if kind == "read_error_after":
            raise httpx.ReadError("connection reset by peer", request=request)
        if kind == "status_after":
            return _json_response(fault.status, b'{"detail":"injected"}', fault.headers)
        if kind == "crash_after":
            assert fault.on_crash is not None
            fault.on_crash()
            raise ClientCrash("killed before reading the answer")
        if kind == "truncate":
            return _json_response(response.status_code, body[: len(body) // 2])
        assert kind == "tamper" and fault.tamper is not None
        changed = fault.tamper(json.loads(body))
        return _json_response(response.status_code, json.dumps(changed).encode())

    async def _forward(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self._inner.handle_async_request(request)
        except ServerCrash:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            ) from None
        except Exception:  # what uvicorn does with an unhandled error: a bare 500
            return _json_response(500, b'{"detail":"Internal Server Error"}')
        body = await response.aread()
        return httpx.Response(response.status_code, headers=response.headers, content=body)

    async def aclose(self) -> None:
        await self._inner.aclose()


# --- The service's named failpoints (sofs_tui/server/failpoints.py) ----------------------------

SERVER_FAILPOINTS = ("push.decide", "push.before_clock", "push.before_commit", "push.after_commit")


@contextmanager
def server_failpoint(
    name: str, hook: Callable[..., None], *, skip: int = 0, times: int = 1
) -> Iterator[list[dict[str, Any]]]:
    """Run `hook(**context)` at the service's failpoint `name` when it is reached after the
    first `skip` times, `times` times; yields the contexts seen. Removed on exit."""
    seen: list[dict[str, Any]] = []

    def fire(**context: Any) -> None:
        seen.append(context)
        if skip < len(seen) <= skip + times:
            hook(**context)

    before = failpoints.FAILPOINTS.get(name)
    failpoints.FAILPOINTS[name] = fire
    try:
        yield seen
    finally:
        if before is None:
            failpoints.FAILPOINTS.pop(name, None)
        else:
            failpoints.FAILPOINTS[name] = before


def crash_server(**_context: Any) -> None:
    raise ServerCrash("worker killed at a failpoint")


def fail_server(**_context: Any) -> None:
    raise RuntimeError("injected failure")  # an ordinary bug: the service answers 500


# --- The laptop's failpoints (reference §5.1: "crash" at a named point, then restart) ----------

#: Where a laptop can be killed during a sync, in the order a sync reaches them.
CLIENT_FAILPOINTS = (
    "after_inflight",  # the batch is marked in flight; nothing sent
    "after_send",  # the service committed the batch; its answer never read
    "after_response_before_ack",  # the answer read; the outbox not yet updated
    "mid_pull_apply",  # inside the transaction applying a page
    "after_checkpoint",  # a page and its cursor committed
)


def kill_at(monkeypatch: Any, laptop: Any, point: str) -> None:
    """Kill `laptop` (its `die()`, then `ClientCrash`) the first time its sync reaches
    `point`. Store-level points wrap the unit of work the engine calls there; the others are
    in the laptop's transport. Other laptops pass through untouched."""
    if point == "after_send":
        laptop.transport.inject("crash_after", on_crash=laptop.die)
        return
    from sofs_tui.store import sync_apply, sync_local
    from sofs_tui.store.store import Store

    module, name, before = {
        "after_inflight": (sync_local, "take_batch", False),
        "after_response_before_ack": (sync_local, "apply_push_results", True),
        "mid_pull_apply": (sync_apply, "_apply_record", False),
        "after_checkpoint": (sync_local, "apply_page", False),
    }[point]
    original = getattr(module, name)
    fired: list[bool] = []

    def at_failpoint(first: Any, *args: Any, **kwargs: Any) -> Any:
        store = first if isinstance(first, Store) else args[0]
        if store is not laptop.store or fired:
            return original(first, *args, **kwargs)
        fired.append(True)
        if not before:
            original(first, *args, **kwargs)
        laptop.die()
        raise ClientCrash(f"killed at {point}")

    monkeypatch.setattr(module, name, at_failpoint)
