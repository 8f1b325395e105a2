"""Signing in to the service: the access token lives in memory only; the refresh token is
kept per service and account in the OS credential store (`sofs_tui.secrets.TokenStore`).

Without a trusted credential store nothing persists: the password is asked for at each sync
(through `ask_password`), and offline work never needs either (SECURITY.md "Keys"). Token
values are never logged or shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from uuid import UUID

from sofs_tui.secrets import CredentialStoreUnavailable, TokenStore, token_name
from sofs_tui.sync.client import BadRequest, ServerBusy, SyncClient, Unauthorised
from sofs_tui.sync.protocol import TokenRequest, TokenResponse

#: Asks the worker for their service password; None when they decline.
PasswordPrompt = Callable[[], Awaitable[str | None]]

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
    ) -> None:
        self._tokens = tokens
        self._name = token_name(server_url, username)
        self.server_url = server_url
        self.username = username
        self._device_id = device_id
        self._ask_password = ask_password
        self._access: str | None = None
        self._refresh: str | None = None
        self.role: str | None = None
        #: Why tokens are not being kept, for the user (None while they are).
        self.problem: str | None = None if self.keeps_tokens else _reason(tokens)

    @property
    def keeps_tokens(self) -> bool:
        """True when the refresh token survives this process (a trusted credential store)."""
        return self._tokens is not None and self._tokens.available

    @property
    def has_access_token(self) -> bool:
        return self._access is not None

    async def login(self, client: SyncClient, password: str) -> TokenResponse:
        """Sign in with the password; keeps the refresh token (or only remembers it in
        memory when there is no trusted credential store)."""
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
        """The current access token, signing in again first if there is none."""
        if self._access is not None:
            return self._access
        return await self.renew(client)

    async def renew(self, client: SyncClient) -> str:
        """After a 401 (or with no token yet): one refresh, else one password sign-in."""
        self._access = None
        refresh = await self._stored_refresh()
        if refresh:
            try:
                response = await client.refresh(refresh)
            except (Unauthorised, BadRequest):
                await self._drop_refresh()
            else:
                await self._keep(response)
                return response.access_token
        if self._ask_password is not None:
            password = await self._ask_password()
            if password:
                return (await self.login(client, password)).access_token
        raise Unauthorised()

    async def forget(self) -> None:
        """Sign out on this device: drop both tokens (the service revokes on its side)."""
        self._access = None
        await self._drop_refresh()

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

    async def _keep(self, response: TokenResponse) -> None:
        self._access = response.access_token
        self._refresh = response.refresh_token  # rotated: the old one is spent
        self.role = response.role
        if not self.keeps_tokens:
            return
        assert self._tokens is not None
        try:
            await self._tokens.aset(self._name, response.refresh_token)
        except (CredentialStoreUnavailable, ValueError) as exc:
            # Kept in memory for this session; the next start asks for the password.
            self.problem = str(exc)

    async def _drop_refresh(self) -> None:
        self._refresh = None
        if not self.keeps_tokens:
            return
        assert self._tokens is not None
        try:
            await self._tokens.adelete(self._name)
        except CredentialStoreUnavailable as exc:
            self.problem = str(exc)


def _reason(tokens: TokenStore | None) -> str:
    if tokens is not None and tokens.reason:
        return tokens.reason
    return "No credential store is in use; you will be asked for your password at each sync."
