"""Signing in to the service: tokens kept per service and account in the OS credential store
(`sofs_tui.secrets.TokenStore`), so that a new process (`sofs sync`, the next start of the app)
with nothing to do syncs in one request.

Two entries: the refresh token (`kind="refresh"`) and the short-lived access token
(`kind="access"`), the latter with the client-clock times it was received and expires
(`a1:<received>:<expires>:<token>`, epoch seconds). A kept access token is used only while its
expiry, less a safety margin, is still ahead and the clock has not gone back past its receipt;
otherwise the refresh token renews it. A 401 on a kept access token leads to one renewal, as on
one held in memory (SYNC.md "auth"). Signing out, and a refresh the service refuses, delete
both entries.

Without a trusted credential store nothing persists: both tokens live in memory only, the
password is asked for at each sync (through `ask_password`), and offline work never needs
either (SECURITY.md "Keys"). Every credential store call goes through TokenStore's `a*`
methods, off the event loop. Token values are never logged or shown.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

from sofs_tui.secrets import CredentialStoreUnavailable, TokenStore, token_name
from sofs_tui.sync.client import BadRequest, ServerBusy, SyncClient, Unauthorised
from sofs_tui.sync.protocol import TokenRequest, TokenResponse

log = logging.getLogger(__name__)  # error types only: never token values

#: Asks the worker for their service password; None when they decline.
PasswordPrompt = Callable[[], Awaitable[str | None]]

#: A kept access token is not used within this many seconds of its expiry (client clock).
ACCESS_MARGIN_S = 30
#: Never trust a kept access token for longer than the service may issue one (R29: 15 minutes).
ACCESS_LIFETIME_CAP_S = 15 * 60
_ACCESS_FORMAT = "a1"

_SIGN_IN_REFUSED = (
    "The service did not accept that username and password. Check them and try again."
)


class Credentials:
    """Tokens for one account on one service, renewed as the protocol asks: a 401 leads
    to one refresh, then (if a prompt is available) one password sign-in, then `Unauthorised`.
    """

    def __init__(
        self,
        tokens: TokenStore | None,
        server_url: str,
        username: str,
        *,
        device_id: str | None = None,
        ask_password: PasswordPrompt | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._tokens = tokens
        self._name = token_name(server_url, username)
        self._access_name = token_name(server_url, username, kind="access")
        self.server_url = server_url
        self.username = username
        self._device_id = device_id
        self._ask_password = ask_password
        self._clock = clock or _utc_now
        self._access: str | None = None
        self._refresh: str | None = None
        # True once this process has read, written or deleted the kept access token: the
        # credential store is asked for it at most once.
        self._access_looked = False
        # The store may hold an access token entry of ours (unknown counts as yes).
        self._access_kept = True
        #: True when the last `access_token()` came fresh from the service: a 401 on that one
        #: is final (SYNC.md "auth": refresh once, then ask), on a held or kept one it renews.
        self.just_issued = False
        self.role: str | None = None
        #: Why tokens are not being kept, for the user (None while they are).
        self.problem: str | None = None if self.keeps_tokens else _reason(tokens)

    @property
    def keeps_tokens(self) -> bool:
        """True when the tokens survive this process (a trusted credential store)."""
        return self._tokens is not None and self._tokens.available

    @property
    def has_access_token(self) -> bool:
        return self._access is not None

    async def login(self, client: SyncClient, password: str) -> TokenResponse:
        """Sign in with the password; keeps both tokens (or only remembers them in memory
        when there is no trusted credential store)."""
        device = UUID(self._device_id) if self._device_id else None
        request = TokenRequest(username=self.username, password=password, device_id=device)
        try:
            response = await client.login(request)
        except (Unauthorised, BadRequest) as exc:
            raise Unauthorised(_SIGN_IN_REFUSED, detail=exc.detail) from None
        except ServerBusy as exc:
            if exc.status != 429:
                raise
            minutes = max(1, round((exc.retry_after or 60) / 60))
            raise ServerBusy(
                f"Too many sign-in attempts. Wait about {minutes} minutes, then try again.",
                detail=exc.detail,
                status=exc.status,
                retry_after=exc.retry_after,
            ) from None
        await self._keep(response)
        return response

    async def access_token(self, client: SyncClient) -> str:
        """The current access token: the one in memory, else a kept one still valid, else a
        new one (a refresh, or signing in again)."""
        if self._access is None:
            self._access = await self._kept_access()
        if self._access is not None:
            self.just_issued = False
            return self._access
        token = await self.renew(client)
        self.just_issued = True
        return token

    async def refused(self) -> None:
        """The service refused the token it had just issued (`just_issued`): forget it, here
        and in the credential store; renewing again cannot help."""
        self._access = None
        await self._drop_access()

    async def renew(self, client: SyncClient) -> str:
        """After a 401 (or with no token yet): one refresh, else one password sign-in."""
        refused = self._access is not None
        self._access = None
        refresh = await self._stored_refresh()
        if refresh:
            try:
                response = await client.refresh(refresh)
            except (Unauthorised, BadRequest):
                await self._drop_tokens()
            else:
                await self._keep(response)
                return response.access_token
        elif refused:
            await self._drop_access()  # refused, and nothing here can replace it
        if self._ask_password is not None:
            password = await self._ask_password()
            if password:
                return (await self.login(client, password)).access_token
        raise Unauthorised()

    async def forget(self) -> None:
        """Sign out on this device: drop both tokens (the service revokes on its side)."""
        await self._drop_tokens()

    async def _stored_refresh(self) -> str | None:
        if self._refresh is not None:
            return self._refresh
        if not self.keeps_tokens:
            return None
        assert self._tokens is not None
        try:
            self._refresh = await self._tokens.aget(self._name)
        except CredentialStoreUnavailable as exc:
            self.problem = str(exc)
            return None
        return self._refresh

    async def _kept_access(self) -> str | None:
        """A kept access token that is still valid by the client clock, read once per process."""
        if not self.keeps_tokens or self._access_looked:
            return None
        assert self._tokens is not None
        self._access_looked = True
        try:
            value = await self._tokens.aget(self._access_name)
        except CredentialStoreUnavailable as exc:
            log.debug("sync: the kept access token could not be read (%s)", type(exc).__name__)
            return None
        self._access_kept = value is not None
        return _valid_access(value, self._clock()) if value is not None else None

    async def _keep(self, response: TokenResponse) -> None:
        self._access = response.access_token
        self._refresh = response.refresh_token  # rotated: the old one is spent
        self._access_looked = True
        self.role = response.role
        if not self.keeps_tokens:
            return
        assert self._tokens is not None
        try:
            await self._tokens.aset(self._name, response.refresh_token)
        except (CredentialStoreUnavailable, ValueError) as exc:
            # Kept in memory for this session; the next start asks for the password.
            self.problem = str(exc)
            return  # no second wait on a store that just failed
        value = _access_value(response, self._clock())
        if value is None:  # too short-lived to be worth keeping: no older one either
            await self._drop_access()
            return
        try:
            await self._tokens.aset(self._access_name, value)
        except (CredentialStoreUnavailable, ValueError) as exc:
            # Costs the next process one refresh at most; the refresh token is what matters.
            log.debug("sync: the access token is kept in memory only (%s)", type(exc).__name__)
        else:
            self._access_kept = True

    async def _drop_tokens(self) -> None:
        """Forget both tokens, here and in the credential store."""
        self._access = None
        self._refresh = None
        await self._drop_access()
        if not self.keeps_tokens:
            return
        assert self._tokens is not None
        try:
            await self._tokens.adelete(self._name)
        except CredentialStoreUnavailable as exc:
            self.problem = str(exc)

    async def _drop_access(self) -> None:
        """Delete the kept access token, if the store may hold one."""
        self._access_looked = True
        if not self.keeps_tokens or not self._access_kept:
            return
        assert self._tokens is not None
        try:
            await self._tokens.adelete(self._access_name)
        except CredentialStoreUnavailable as exc:
            log.debug("sync: the kept access token could not be deleted (%s)", type(exc).__name__)
        else:
            self._access_kept = False


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _access_value(response: TokenResponse, now: datetime) -> str | None:
    """The credential store entry for an access token: format, received, expires, token.
    None when it is not worth keeping (it would expire within the margin)."""
    lifetime = min(response.expires_in, ACCESS_LIFETIME_CAP_S)
    if lifetime <= ACCESS_MARGIN_S or not response.access_token:
        return None
    received = int(now.timestamp())
    return f"{_ACCESS_FORMAT}:{received}:{received + lifetime}:{response.access_token}"


def _valid_access(value: str, now: datetime) -> str | None:
    """The token in a kept entry if it may be used now, else None (expired, received in what
    is now the future because the clock went back, or not in a format this version knows)."""
    parts = value.split(":", 3)
    if len(parts) != 4 or parts[0] != _ACCESS_FORMAT or not parts[3]:
        return None
    try:
        received, expires = int(parts[1]), int(parts[2])
    except ValueError:
        return None
    moment = now.timestamp()
    if expires - received > ACCESS_LIFETIME_CAP_S:
        return None
    if not received - ACCESS_MARGIN_S <= moment < expires - ACCESS_MARGIN_S:
        return None
    return parts[3]


def _reason(tokens: TokenStore | None) -> str:
    if tokens is not None and tokens.reason:
        return tokens.reason
    return "No credential store is in use; you will be asked for your password at each sync."
