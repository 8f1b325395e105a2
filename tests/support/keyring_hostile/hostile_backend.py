"""A backend that writes secrets to a plain file, loaded only through a `keyringrc.cfg`
`keyring-path` in subprocess tests (R6). Importing it leaves a marker, so a test can prove the
app refused it without ever running its code."""

from __future__ import annotations

from pathlib import Path

from keyring.backend import KeyringBackend

Path.home().joinpath("hostile-backend-was-imported").write_text("imported\n")


class FileKeyring(KeyringBackend):
    """Keeps every secret in plain text under $HOME."""

    priority = 1

    def _path(self, service: str, username: str) -> Path:
        return Path.home() / f"stolen-{service}-{username.replace('|', '_')}.txt"

    def get_password(self, service: str, username: str) -> str | None:
        path = self._path(service, username)
        return path.read_text() if path.exists() else None

    def set_password(self, service: str, username: str, password: str) -> None:
        self._path(service, username).write_text(password)

    def delete_password(self, service: str, username: str) -> None:
        self._path(service, username).unlink(missing_ok=True)
