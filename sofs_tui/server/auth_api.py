"""`/auth`: sign in, renew and sign out (SYNC.md "auth", SECURITY R27–R29).

Credentials and tokens travel only in request bodies and the Authorization header, never in
URLs, and nothing here logs them. Token responses are marked `Cache-Control: no-store`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from sqlmodel import Session

from sofs_tui.server import auth
from sofs_tui.server.db import AuditEvent
from sofs_tui.server.deps import get_clock, get_session
from sofs_tui.server.settings import ServerSettings
from sofs_tui.sync.protocol import ErrorResponse, RefreshRequest, TokenRequest, TokenResponse

router = APIRouter(prefix="/auth", tags=["auth"])

SessionDep = Annotated[Session, Depends(get_session)]
ClockDep = Annotated[Callable[[], datetime], Depends(get_clock)]

_REFUSED: dict[int | str, dict[str, Any]] = {
    **auth.BODY_RESPONSES,
    401: {"model": ErrorResponse, "description": "Wrong username or password, or a bad token"},
    403: {"model": ErrorResponse, "description": "This device is revoked or someone else's"},
    429: {
        "model": ErrorResponse,
        "description": "Too many failed sign-ins for this account or address",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds"}},
    },
}


def _settings(request: Request) -> ServerSettings:
    settings: ServerSettings = request.app.state.settings
    return settings


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _answer(result: auth.LoginResult, response: Response) -> TokenResponse:
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return TokenResponse(
        access_token=result.tokens.access_token,
        refresh_token=result.tokens.refresh_token,
        expires_in=result.tokens.expires_in,
        username=result.username,
        role=result.role,
    )


def _refused(exc: Exception) -> HTTPException:
    if isinstance(exc, auth.Throttled):
        return HTTPException(
            status_code=429,
            detail="too_many_attempts",
            headers={"Retry-After": str(exc.retry_after)},
        )
    if isinstance(exc, auth.DeviceRefused):
        return HTTPException(status_code=403, detail=exc.detail)
    assert isinstance(exc, auth.AuthFailed)
    return auth.unauthorized(exc.detail)


@router.post(
    "/token",
    response_model=TokenResponse,
    responses=_REFUSED,
    summary="Sign in with a username and password",
)
def sign_in(
    body: TokenRequest, request: Request, response: Response, session: SessionDep, clock: ClockDep
) -> TokenResponse:
    """An access token (at most 15 minutes) and a refresh token. Wrong passwords and unknown
    usernames get the same answer; repeated failures get 429 with Retry-After."""
    try:
        result = auth.login(
            session,
            body.username,
            body.password,
            str(body.device_id) if body.device_id else None,
            _address(request),
            clock(),
            _settings(request),
        )
    except (auth.AuthFailed, auth.Throttled, auth.DeviceRefused) as exc:
        raise _refused(exc) from None
    return _answer(result, response)


@router.post(
    "/refresh",
    response_model=TokenResponse,
    responses=_REFUSED,
    summary="Swap a refresh token for a new pair",
)
def renew(
    body: RefreshRequest, request: Request, response: Response, session: SessionDep, clock: ClockDep
) -> TokenResponse:
    """The presented refresh token is spent; presenting it again revokes its whole family."""
    try:
        result = auth.refresh(session, body.refresh_token, clock(), _settings(request))
    except (auth.AuthFailed, auth.DeviceRefused) as exc:
        raise _refused(exc) from None
    return _answer(result, response)


@router.post(
    "/logout",
    status_code=204,
    responses=auth.PROTECTED_RESPONSES,
    summary="Sign out: revoke this sign-in's access and refresh tokens",
)
def sign_out(
    authenticated: Annotated[auth.Authenticated, Depends(auth.require_authenticated)],
    session: SessionDep,
    clock: ClockDep,
) -> Response:
    auth.revoke_tokens(session, family_id=authenticated.family_id)
    session.add(
        AuditEvent(
            at=clock(),
            actor=authenticated.principal.username,
            device_id=authenticated.principal.device_id,
            action="logout",
        )
    )
    session.commit()
    return Response(status_code=204)
