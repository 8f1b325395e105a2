"""In-memory keyring backends for tests: a working one, one that hangs, one that fails.

They are real `keyring.backend.KeyringBackend` subclasses, so a subprocess can also load them
through `PYTHON_KEYRING_BACKEND=tests.support.memory_keyring.MemoryKeyring`. Nothing touches
disk or the user's keyring.
"""

from __future__ import annotations

import threading

from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError, PasswordSetError

MEMORY_KEYRING = "tests.support.memory_keyring.MemoryKeyring"
HANGING_KEYRING = "tests.support.memory_keyring.HangingKeyring"


class MemoryKeyring(KeyringBackend):
    """Keeps entries in a dict and records each call's method, service and name (never values)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.entries: dict[tuple[str, str], str] = {}
        self.calls: list[tuple[str, str, str]] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.calls.append(("get", service, username))
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(("set", service, username))
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(("delete", service, username))
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("Password not found")


class HangingKeyring(MemoryKeyring):
    """`get_password` blocks until the test sets `release`, like a locked Secret Service
    collection waiting on an unlock prompt nobody answers. In a subprocess it never returns."""

    priority = 0  # never preferred by keyring's own detection

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.release = threading.Event()

    def get_password(self, service: str, username: str) -> str | None:
        self.entered.set()
        self.release.wait()
        return super().get_password(service, username)


class FailingKeyring(MemoryKeyring):
    """Every call fails as a locked keyring does. With `echo_secret`, the error for a save
    quotes the value it was given, as a careless backend might."""

    priority = 0

    def __init__(self, *, echo_secret: bool = False) -> None:
        super().__init__()
        self.echo_secret = echo_secret

    def get_password(self, service: str, username: str) -> str | None:
        super().get_password(service, username)
        raise KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        self.calls.append(("set", service, username))
        if self.echo_secret:
            raise PasswordSetError(f"Could not store {password!r} for {username}")
        raise KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        self.calls.append(("delete", service, username))
        raise KeyringLocked("Failed to unlock the collection!")
