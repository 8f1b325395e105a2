"""The HTTP side of sync: one httpx client per service, and a typed error for every answer.

Policy (SECURITY R33, R34): https only, plain http only to this machine (loopback); TLS
verification is always on, with an optional CA bundle for a council's own authority; no
credentials or personal data in URLs (ids and an opaque cursor only). Every response body is
validated against the protocol models; anything else is `BadResponse` ("outcome unknown").
No retries here: the protocol's idempotency makes every retry safe, and the engine decides.
"""

from __future__ import annotations

import ipaddress
import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, ValidationError

from sofs_tui import __version__
from sofs_tui.sync.protocol import (
    PROTOCOL_VERSION,
    SCHEMA_CURRENT,
    DeviceRegistration,
    DeviceResponse,
    HeldListResponse,
    InfoResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    TokenRequest,
    TokenResponse,
)

#: A hostile or broken service cannot park sync for longer than this with Retry-After.
MAX_RETRY_AFTER = 3600.0
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=60.0, pool=10.0)
_M = TypeVar("_M", bound=BaseModel)


class SyncError(Exception):
    """Sync could not finish; `user_message` is a sentence for the worker (no case data)."""

    default_message = "Sync did not finish. Your work is safe on this computer."
    #: Worth trying again later on its own (a person need not act first).
    retryable = False

    def __init__(
        self, user_message: str | None = None, *, detail: str = "", status: int | None = None
    ) -> None:
        self.user_message = user_message or self.default_message
        self.detail = detail
        #: The HTTP status that caused it, when there was one.
        self.status = status
        super().__init__(f"{self.user_message} ({detail})" if detail else self.user_message)


class InsecureURL(SyncError):
    default_message = (
        "The service address must start with https:// (plain http:// is only allowed to this "
        "computer, for testing). Check the address with IT."
    )


class Offline(SyncError):
    """The service could not be reached, or the connection broke."""

    default_message = (
        "Offline: the service could not be reached. Your work is saved here and will be "
        "sent next time."
    )
    retryable = True

    def __init__(
        self, user_message: str | None = None, *, detail: str = "", maybe_sent: bool = True
    ) -> None:
        super().__init__(user_message, detail=detail)
        #: False only when the request certainly never left (connection refused).
        self.maybe_sent = maybe_sent


class Timeout(Offline):
    default_message = (
        "The service took too long to answer. Your work is saved here and will be sent again."
    )


class CertificateError(SyncError):
    default_message = (
        "The service's certificate could not be verified, so nothing was sent. If your council "
        "uses its own certificate authority, give its file with --ca-file; also check that "
        "this computer's date and time are right."
    )


class ServerBusy(SyncError):
    """5xx, 429 or 503: try later, no sooner than `retry_after` seconds when given."""

    default_message = "The service is busy or having a problem. Sync will try again later."
    retryable = True

    def __init__(
        self,
        user_message: str | None = None,
        *,
        detail: str = "",
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(user_message, detail=detail, status=status)
        self.retry_after = retry_after


class Unauthorised(SyncError):
    default_message = "Sign in to sync: run `sofs login` (or use Sign in) with your password."


class DeviceRevoked(SyncError):
    default_message = (
        "This computer has been withdrawn from the service, so sync has stopped. Your work "
        "stays here, encrypted. Contact your administrator."
    )


class Forbidden(SyncError):
    default_message = "The service refused this request for your account. Contact IT."


class UnknownDevice(SyncError):
    """The service does not know this device (its records were reset): register again."""

    default_message = "The service did not recognise this computer. Sync will register it again."
    retryable = True


class Gone(SyncError):
    default_message = "The service needs this computer to reload its copy of your cases."


class UpgradeRequired(SyncError):
    default_message = (
        "This version of sofs is too old for the service. Your changes are kept; ask IT to "
        "update sofs, then sync again."
    )


class TooLarge(SyncError):
    default_message = "A change is too large for the service to accept. It is kept here."


class BadRequest(SyncError):
    default_message = (
        "The service could not read what sofs sent (a fault in sofs). Your changes are kept; "
        "contact IT."
    )


class BadResponse(SyncError):
    default_message = (
        "The service's answer could not be understood (a network filter or a fault). Nothing "
        "was lost; sync will try again."
    )
    retryable = True


# --- URL policy ------------------------------------------------------------------------------


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_base_url(url: str) -> str:
    """The service's base URL, normalised, or `InsecureURL` before any request is made."""
    try:
        parsed = httpx.URL(url.strip())
    except (httpx.InvalidURL, TypeError) as exc:
        raise InsecureURL("That is not a web address. Check it with IT.") from exc
    if not parsed.host:
        raise InsecureURL("That address has no host name. Check it with IT.")
    if parsed.userinfo or parsed.query or parsed.fragment:
        raise InsecureURL("Give the service address without a name, password, '?' or '#' in it.")
    if parsed.scheme == "http" and not is_loopback(parsed.host):
        raise InsecureURL()
    if parsed.scheme not in ("https", "http"):
        raise InsecureURL()
    return str(parsed).rstrip("/")


# --- Retry-After -----------------------------------------------------------------------------


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), capped at
    `MAX_RETRY_AFTER`; None when absent or unreadable. `now` is the response's own Date when
    it has one, so the local clock does not decide."""
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    seconds = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _retry_after(response: httpx.Response) -> float | None:
    now: datetime | None = None
    date = response.headers.get("date")
    if date:
        try:
            now = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            now = None
    return parse_retry_after(response.headers.get("retry-after"), now=now)


# --- What the service speaks -----------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    """The versions a pull answer's headers say the service speaks (the handshake's, repeated:
    server/sync_api.py SERVED_HEADERS), so a sync that skipped /info still notices a change."""

    protocols: frozenset[int]
    schema_min: int
    schema_max: int

    @property
    def speaks_ours(self) -> bool:
        """This app's protocol and schema are served: nothing to ask /info about."""
        return PROTOCOL_VERSION in self.protocols and (
            self.schema_min <= SCHEMA_CURRENT <= self.schema_max
        )


def served_by(headers: httpx.Headers) -> Served | None:
    """`Served` from an answer's headers; None when they are missing or unreadable (an older
    service, or a proxy that drops them: the caller then asks /info)."""
    try:
        protocols = frozenset(int(v) for v in headers["sync-protocols"].split(","))
        return Served(protocols, int(headers["sync-schema-min"]), int(headers["sync-schema-max"]))
    except (KeyError, ValueError):
        return None


# --- The client ------------------------------------------------------------------------------


class SyncClient:
    """Talks to one service. Give `transport=` in tests (httpx.MockTransport, ASGITransport
    wrapped in a fault injector); production builds a verified TLS transport."""

    def __init__(
        self,
        base_url: str,
        *,
        ca_file: str | Path | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        self.base_url = check_base_url(base_url)
        verify: ssl.SSLContext | bool = True
        if ca_file:
            path = Path(ca_file)
            if not path.is_file():
                raise CertificateError(
                    "The certificate authority file given with --ca-file does not exist."
                )
            verify = ssl.create_default_context(cafile=str(path))
        #: What the last pull answer said the service speaks (None: it did not say).
        self.served: Served | None = None
        self._http = httpx.AsyncClient(
            base_url=self.base_url + "/",
            transport=transport,
            verify=verify,
            timeout=timeout,
            follow_redirects=False,
            headers={
                "User-Agent": f"sofs/{__version__}",
                "Sync-Protocol": str(PROTOCOL_VERSION),
                "Client-Schema": str(SCHEMA_CURRENT),
                "Accept": "application/json",
            },
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> SyncClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    # Endpoints (reference/sync.md §3).

    async def info(self) -> InfoResponse:
        return await self._call("GET", "sync/v1/info", InfoResponse)

    async def register_device(
        self, token: str, device_id: str, registration: DeviceRegistration
    ) -> DeviceResponse:
        path = f"sync/v1/devices/{UUID(device_id)}"
        return await self._call("PUT", path, DeviceResponse, token=token, body=registration)

    async def push(self, token: str, request: PushRequest) -> PushResponse:
        return await self._call("POST", "sync/v1/push", PushResponse, token=token, body=request)

    async def pull(self, token: str, cursor: str | None, limit: int) -> PullResponse:
        """A page after `cursor` (validated whole, in one pass); notes `served`."""
        params: dict[str, str | int] = {"limit": limit}
        if cursor:
            params["cursor"] = cursor
        self.served = None
        page, response = await self._exchange(
            "GET", "sync/v1/changes", PullResponse, token=token, params=params
        )
        self.served = served_by(response.headers)
        return page

    async def held(self, token: str) -> HeldListResponse:
        """For managers: the changes stored but not applied in their teams' cases."""
        return await self._call("GET", "sync/v1/held", HeldListResponse, token=token)

    async def login(self, request: TokenRequest) -> TokenResponse:
        return await self._call("POST", "auth/token", TokenResponse, body=request)

    async def refresh(self, refresh_token: str) -> TokenResponse:
        body = RefreshRequest(refresh_token=refresh_token)
        return await self._call("POST", "auth/refresh", TokenResponse, body=body)

    async def _call(
        self,
        method: str,
        path: str,
        model: type[_M],
        *,
        token: str | None = None,
        body: BaseModel | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> _M:
        answer, _ = await self._exchange(method, path, model, token=token, body=body, params=params)
        return answer

    async def _exchange(
        self,
        method: str,
        path: str,
        model: type[_M],
        *,
        token: str | None = None,
        body: BaseModel | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> tuple[_M, httpx.Response]:
        """One request; the validated answer and the response it came in."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = None
        if body is not None:
            content = body.model_dump_json(by_alias=True).encode()
            headers["Content-Type"] = "application/json"
        try:
            response = await self._http.request(
                method, path, content=content, params=params, headers=headers
            )
        except httpx.TransportError as exc:
            raise _transport_failure(exc) from None
        _raise_for_status(response)
        if "json" not in response.headers.get("content-type", ""):
            raise BadResponse(detail=f"{path}: not JSON")
        try:
            return model.model_validate_json(response.content), response
        except ValidationError:
            # The body is never echoed: it may hold case text.
            raise BadResponse(detail=f"{path}: does not match the protocol") from None


def _transport_failure(exc: httpx.TransportError) -> SyncError:
    name = type(exc).__name__
    if _is_certificate_failure(exc):
        return CertificateError(detail=name)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return Timeout(detail=name, maybe_sent=False)
    if isinstance(exc, httpx.TimeoutException):
        return Timeout(detail=name)
    if isinstance(exc, httpx.ConnectError):
        return Offline(detail=name, maybe_sent=False)
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.ProxyError):
        return Offline(detail=name, maybe_sent=False)
    return Offline(detail=name)


def _is_certificate_failure(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        if "CERTIFICATE_VERIFY_FAILED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _detail_of(response: httpx.Response) -> str:
    try:
        body: Any = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return ""
    detail = body.get("detail") if isinstance(body, dict) else None
    return detail if isinstance(detail, str) else ""


def _raise_for_status(response: httpx.Response) -> None:
    status = response.status_code
    if 200 <= status < 300:
        return
    where = f"HTTP {status}"
    if status in (400, 422):
        raise BadRequest(detail=where, status=status)
    if status == 401:
        raise Unauthorised(detail=where, status=status)
    if status == 403:
        if "revoked" in _detail_of(response):
            raise DeviceRevoked(detail=where, status=status)
        raise Forbidden(detail=where, status=status)
    if status == 404 and _detail_of(response) == "unknown_device":
        raise UnknownDevice(detail=where, status=status)
    if status == 410:
        raise Gone(detail=where, status=status)
    if status == 413:
        raise TooLarge(detail=where, status=status)
    if status == 426:
        raise UpgradeRequired(detail=where, status=status)
    if status == 429 or status >= 500:
        raise ServerBusy(detail=where, status=status, retry_after=_retry_after(response))
    raise BadResponse(detail=where, status=status)
