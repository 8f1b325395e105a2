"""The service's FastAPI app factory: routers, limits, error shapes, health."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sofs_tui import __version__
from sofs_tui.server.db import make_engine, utc_now
from sofs_tui.server.settings import ServerSettings


class BodyLimit:
    """Refuse request bodies over the limit with 413 before anything parses them (R32)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(send)
            return
        seen = 0
        refused = False
        started = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 has been sent; whatever the app answers is dropped
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        async def counted() -> Message:
            # A body streamed without Content-Length is counted as it arrives; past the limit
            # the client gets 413 and the app sees the client go away (nothing is parsed).
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started:
                        await _too_large(send)
                    refused = True
                    return {"type": "http.disconnect"}
            return message

        await self.app(scope, counted, guarded_send)


async def _too_large(send: Send) -> None:
    body = b'{"detail":"Request body too large"}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _declared_query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _declared_query_names(sub)
    return names


async def forbid_unknown_query(request: Request) -> None:
    """422 for a query parameter no route declares: a misspelt `?limit` or a stray `?name=`
    must not be silently ignored (R32, R34)."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    unknown = sorted(set(request.query_params) - _declared_query_names(dependant))
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "Unknown parameter"}
                for name in unknown
            ]
        )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    """422 without echoing what was sent: a rejected field may hold case text (R13, R18)."""
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "loc": list(error.get("loc", ())),
            "msg": error.get("msg", ""),
            "type": error.get("type", ""),
        }
        for error in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": errors})


def create_app(
    settings: ServerSettings, *, clock: Callable[[], datetime] = utc_now, migrate: bool = True
) -> FastAPI:
    """The service over `settings.database_url`. `migrate` brings the schema to the newest
    version first (the default for the embedded SQLite; production runs `sofs admin migrate`
    once per deploy and starts workers with migrate=False)."""
    from sofs_tui.server import auth_api, sync_api
    from sofs_tui.server.migrate import upgrade

    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    app = FastAPI(
        title="sofs central service",
        version=__version__,
        dependencies=[Depends(forbid_unknown_query)],
    )
    app.state.engine = engine
    app.state.settings = settings
    app.state.clock = clock
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.include_router(auth_api.router)
    app.include_router(sync_api.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, Any]:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
        return {"status": "ok", "version": __version__}

    app.add_middleware(BodyLimit, limit=settings.max_body_bytes)
    return app
