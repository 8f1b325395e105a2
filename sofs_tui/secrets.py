"""Keyring access for short service tokens only: allow-listed backends, bounded calls, off the loop.

The OS keyring holds opaque service tokens (refresh token, the access token of at most 15 minutes
with its expiry, device credential), never the database key or the passphrase (SECURITY.md "Keys";
R6, R7, R8). `keyring` is imported lazily, inside the worker thread, so the first frame never
pays for its D-Bus probing.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from functools import partial
from pathlib import Path
from secrets import token_hex, token_urlsafe
from typing import Any, Protocol, TypeVar

SERVICE = "sofs-tui"
MAX_TOKEN_CHARS = 512  # R8: well under Windows' ~1,280-character credential blob limit
DEFAULT_TIMEOUT = 3.0

# Fully qualified class names of the backends we trust to keep a secret (keyring 25.7 names;
# libsecret is the same Secret Service store reached through GLib instead of D-Bus directly).
TRUSTED_BACKENDS: frozenset[str] = frozenset(
    {
        "keyring.backends.Windows.WinVaultKeyring",
        "keyring.backends.macOS.Keyring",
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
        "keyring.backends.kwallet.DBusKeyringKWallet4",
        "keyrings.cryptfile.cryptfile.CryptFileKeyring",
    }
)
_CHAINER = "keyring.backends.chainer.ChainerBackend"

OFFLINE_ADVICE = "You can work offline; you will be asked for your password at each sync."

_T = TypeVar("_T")


class CredentialStoreUnavailable(Exception):
    """The credential store cannot be used now; the message is a sentence for the user."""


class TokenTooLong(ValueError):
    """A token is too long for every supported credential store (R8)."""


class KeyringLike(Protocol):
    """The three calls we make on a `keyring.backend.KeyringBackend`."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


def token_name(server_url: str, username: str, kind: str = "refresh") -> str:
    """The keyring entry name for one kind of token of one account on one service.

    Kinds: "refresh" (the refresh token) and "access" (the access token with its expiry, as
    `sofs_tui.sync.credentials` writes it).
    """
    return f"{server_url}|{username}|{kind}"


class TokenStore:
    """Service tokens in a trusted OS credential store, or an explicit "unavailable" state.

    Production code builds it with `from_system()` (or `afrom_system()`), which vets the backend.
    `TokenStore(backend=...)` trusts the given backend without vetting: that path is for tests
    (an in-memory backend) and for embedding, never for a backend found in the environment.
    Every backend call runs on one daemon thread and waits at most `timeout` seconds; the `a*`
    methods wait without blocking the event loop.
    """

    def __init__(
        self,
        backend: KeyringLike | None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        reason: str | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError("The credential store timeout must be positive.")
        if backend is None and not reason:
            raise ValueError("A store without a backend needs a reason for the user.")
        self._backend = backend
        self._timeout = timeout
        self._thread = _BackendThread()
        self.available: bool = backend is not None
        self.reason: str | None = None if backend is not None else reason
        self.backend_name: str | None = (
            _qualified_name(type(backend)) if backend is not None else None
        )

    @classmethod
    def unavailable(cls, reason: str, *, timeout: float = DEFAULT_TIMEOUT) -> TokenStore:
        """A store that refuses every call with `reason` (no trusted backend, demo mode)."""
        return cls(None, timeout=timeout, reason=reason)

    @classmethod
    def from_system(
        cls, timeout: float = DEFAULT_TIMEOUT, *, trusted: frozenset[str] = TRUSTED_BACKENDS
    ) -> TokenStore:
        """Find the system's backend and vet it (R6). Never raises; may block up to `timeout`.

        `trusted` widens the allow-list for tests only; production passes nothing.
        """
        return cls._from_verdict(_settle(partial(_discover, trusted), timeout), timeout)

    @classmethod
    async def afrom_system(
        cls, timeout: float = DEFAULT_TIMEOUT, *, trusted: frozenset[str] = TRUSTED_BACKENDS
    ) -> TokenStore:
        """`from_system()` for the event loop: waits without blocking it."""
        job = _BackendThread().submit(partial(_discover, trusted))
        try:
            verdict: KeyringLike | str = await _await(job, timeout)
        except Exception as exc:
            verdict = _as_reason(exc)
        return cls._from_verdict(verdict, timeout)

    @classmethod
    def vetted(
        cls,
        backend: KeyringLike,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        trusted: frozenset[str] = TRUSTED_BACKENDS,
    ) -> TokenStore:
        """Apply the allow-list and the round trip to a backend already in hand."""
        return cls._from_verdict(_settle(partial(_vet, backend, trusted), timeout), timeout)

    @classmethod
    def _from_verdict(cls, verdict: KeyringLike | str, timeout: float) -> TokenStore:
        if isinstance(verdict, str):
            return cls.unavailable(verdict, timeout=timeout)
        return cls(verdict, timeout=timeout)

    # Synchronous calls: for worker threads and start-up, never the event loop.

    def get(self, name: str) -> str | None:
        """The stored token, or None if there is none."""
        return _wait(self._submit(_read, name), self._timeout)

    def set(self, name: str, value: str) -> None:
        """Store a token, replacing any earlier one."""
        _check_value(value)
        _wait(self._submit(partial(_write, value=value), name), self._timeout)

    def delete(self, name: str) -> None:
        """Forget a token; forgetting one that is not there is not an error."""
        _wait(self._submit(_remove, name), self._timeout)

    # Asynchronous calls: for Textual handlers; the event loop keeps running while they wait.

    async def aget(self, name: str) -> str | None:
        return await _await(self._submit(_read, name), self._timeout)

    async def aset(self, name: str, value: str) -> None:
        _check_value(value)
        await _await(self._submit(partial(_write, value=value), name), self._timeout)

    async def adelete(self, name: str) -> None:
        await _await(self._submit(_remove, name), self._timeout)

    def _submit(self, operation: Callable[[KeyringLike, str], _T], name: str) -> Future[_T]:
        if not name:
            raise ValueError("A token name must not be empty.")
        if self._backend is None:
            raise CredentialStoreUnavailable(self.reason)
        return self._thread.submit(partial(operation, self._backend, name))


def _check_value(value: str) -> None:
    """Refuse a token before anything reaches the backend (R8)."""
    if not value:
        raise ValueError("A service token must not be empty.")
    if len(value) > MAX_TOKEN_CHARS:
        raise TokenTooLong(
            f"A service token of {len(value):,} characters is too long to keep in the credential "
            f"store (the limit is {MAX_TOKEN_CHARS}). The service should issue a shorter token."
        )


# Backend operations. They run on the backend thread and translate every failure into
# CredentialStoreUnavailable built outside the `except` block, so neither the message nor the
# exception chain can carry the backend's own text (which might echo a secret).


def _read(backend: KeyringLike, name: str) -> str | None:
    try:
        return backend.get_password(SERVICE, name)
    except Exception as exc:
        failure = type(exc).__name__
    raise CredentialStoreUnavailable(_failure_message("read", failure))


def _write(backend: KeyringLike, name: str, *, value: str) -> None:
    try:
        backend.set_password(SERVICE, name, value)
        return
    except Exception as exc:
        failure = type(exc).__name__
    raise CredentialStoreUnavailable(_failure_message("save", failure))


def _remove(backend: KeyringLike, name: str) -> None:
    from keyring.errors import PasswordDeleteError

    try:
        backend.delete_password(SERVICE, name)
        return
    except PasswordDeleteError:
        return  # keyring's way of saying there was nothing to delete
    except Exception as exc:
        failure = type(exc).__name__
    raise CredentialStoreUnavailable(_failure_message("remove", failure))


def _failure_message(action: str, failure: str) -> str:
    return (
        f"The credential store could not {action} a service token ({failure}). "
        f"It may be locked: unlock it and try again. {OFFLINE_ADVICE}"
    )


def _timeout_message(timeout: float) -> str:
    unit = "second" if timeout == 1 else "seconds"
    return (
        f"The credential store did not answer within {timeout:g} {unit}. It may be locked and "
        f"waiting for a password prompt: unlock it, or restart the app if it stays stuck. "
        f"{OFFLINE_ADVICE}"
    )


def _refusal(found: str) -> str:
    return f"No trusted credential store is available (found {found}). {OFFLINE_ADVICE}"


# Discovery and vetting (R6), on the backend thread.


def _settle(vetting: Callable[[], KeyringLike | str], timeout: float) -> KeyringLike | str:
    """Run vetting on a backend thread: a trusted backend, or a reason (a timeout included)."""
    try:
        return _wait(_BackendThread().submit(vetting), timeout)
    except Exception as exc:
        return _as_reason(exc)


def _as_reason(error: Exception) -> str:
    if isinstance(error, CredentialStoreUnavailable):
        return str(error)
    return f"The credential store could not be started ({type(error).__name__}). {OFFLINE_ADVICE}"


def _discover(trusted: frozenset[str]) -> KeyringLike | str:
    """The system's backend if it is trusted and works, else a reason for the user."""
    refusal = _refuse_configuration(trusted)
    if refusal is not None:
        return refusal
    import keyring

    return _vet(keyring.get_keyring(), trusted)


def _refuse_configuration(trusted: frozenset[str]) -> str | None:
    """Refuse an untrusted backend named by the environment before keyring imports its code.

    keyring honours PYTHON_KEYRING_BACKEND first, then keyringrc.cfg, whose `keyring-path` puts
    a directory at the front of sys.path: loading it would run its code in this process and
    could shadow any module imported later, so a configuration with one is refused outright.
    """
    named = os.environ.get("PYTHON_KEYRING_BACKEND")
    if named is not None:
        if named not in trusted:
            return _refusal(f"{named or 'an empty name'}, named by PYTHON_KEYRING_BACKEND")
        return None
    from keyring.util import platform_

    config_path = Path(platform_.config_root()) / "keyringrc.cfg"
    if not config_path.is_file():
        return None
    config = configparser.RawConfigParser()
    try:
        config.read(config_path, encoding="utf-8")
    except (configparser.Error, OSError, UnicodeError):
        return _refusal(f"an unreadable keyring configuration at {config_path}")
    named = config.get("backend", "default-keyring", fallback="").strip()
    if config.has_option("backend", "keyring-path"):
        source = config.get("backend", "keyring-path").strip()
        return _refusal(
            f"{named or 'a backend'}, loaded from keyring-path {source} in {config_path}"
        )
    if named and named not in trusted:
        return _refusal(f"{named}, named in {config_path}")
    return None


def _vet(backend: KeyringLike, trusted: frozenset[str]) -> KeyringLike | str:
    """The backend if every store behind it is trusted and a round trip works, else a reason."""
    untrusted = _untrusted_parts(backend, trusted)
    if untrusted:
        return _refusal(", ".join(untrusted))
    problem = _round_trip(backend)
    if problem is not None:
        name = _qualified_name(type(backend))
        return f"The credential store ({name}) is not working: {problem}. {OFFLINE_ADVICE}"
    return backend


def _untrusted_parts(backend: KeyringLike, trusted: frozenset[str]) -> list[str]:
    name = _qualified_name(type(backend))
    if name == _CHAINER and _is_genuine(type(backend)):
        chained: Iterable[object] = getattr(backend, "backends", ())
        members = list(chained)
        if not members:
            return [f"{name} with nothing to chain"]
        return [
            f"{name} holding {_qualified_name(type(member))}"
            for member in members
            if not _is_trusted(type(member), trusted)
        ]
    return [] if _is_trusted(type(backend), trusted) else [name]


def _is_trusted(cls: type[Any], trusted: frozenset[str]) -> bool:
    return _qualified_name(cls) in trusted and _is_genuine(cls)


def _is_genuine(cls: type[Any]) -> bool:
    """The class really is the one its module defines under that name, not a borrowed label."""
    module = sys.modules.get(cls.__module__)
    return module is not None and getattr(module, cls.__qualname__, None) is cls


def _qualified_name(cls: type[Any]) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def _round_trip(backend: KeyringLike) -> str | None:
    """Store, read back and delete a random probe; None if the backend kept its word."""
    probe_name = f"probe|{token_hex(8)}"
    probe_value = token_urlsafe(24)
    try:
        backend.set_password(SERVICE, probe_name, probe_value)
        read_back = backend.get_password(SERVICE, probe_name)
        backend.delete_password(SERVICE, probe_name)
        after_delete = backend.get_password(SERVICE, probe_name)
    except Exception as exc:
        problem = f"it failed a test with {type(exc).__name__}"
    else:
        if read_back != probe_value:
            problem = "it did not give back a test value it was given"
        elif after_delete is not None:
            problem = "it kept a test value after deleting it"
        else:
            return None
    with contextlib.suppress(Exception):
        backend.delete_password(SERVICE, probe_name)  # leave no probe behind
    return problem


# The backend thread, and waiting for it with a timeout (R7).


class _BackendThread:
    """One daemon thread that runs backend calls in order.

    Daemon, so a backend that never answers cannot block interpreter exit; a single thread, so a
    hung call makes later calls time out instead of piling up threads. A call whose caller has
    given up before it started is dropped, so a timed-out save never lands later by surprise.
    """

    _IDLE_SECONDS = 10.0

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[[], Any]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = False

    def submit(self, call: Callable[[], _T]) -> Future[_T]:
        future: Future[_T] = Future()
        with self._lock:
            self._jobs.put((future, call))
            if not self._running:
                self._running = True
                threading.Thread(target=self._serve, name="sofs-keyring", daemon=True).start()
        return future

    def _serve(self) -> None:
        while True:
            try:
                future, call = self._jobs.get(timeout=self._IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._jobs.empty():
                        self._running = False
                        return
                continue
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = call()
            except BaseException as exc:  # handed to the waiting caller, never lost
                future.set_exception(exc)
            else:
                future.set_result(result)


def _wait(future: Future[_T], timeout: float) -> _T:
    try:
        return future.result(timeout=timeout)
    except TimeoutError:
        future.cancel()  # drops the call if it is still queued behind a hung one
        raise CredentialStoreUnavailable(_timeout_message(timeout)) from None


async def _await(future: Future[_T], timeout: float) -> _T:
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[_T] = loop.create_future()

    def relay(done: Future[_T]) -> None:
        # Runs on the backend thread (or here, if already done); the loop may be gone by then.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_copy_outcome, done, waiter)

    future.add_done_callback(relay)
    try:
        return await asyncio.wait_for(waiter, timeout)
    except TimeoutError:
        raise CredentialStoreUnavailable(_timeout_message(timeout)) from None
    finally:
        future.cancel()  # no effect once started; drops it if still queued


def _copy_outcome(done: Future[_T], waiter: asyncio.Future[_T]) -> None:
    if waiter.done():
        return
    if done.cancelled():
        waiter.cancel()
    elif (error := done.exception()) is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(done.result())
