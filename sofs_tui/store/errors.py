"""The local store's failures, each with a message a social worker can act on.

`user_message` says what happened and what to do next. It never contains case data, paths,
passphrases or key material, so the UI can show it as it is. `detail` is an optional technical
note for logs (an SQLite error name, a field name); it must not contain case data either.
"""

from __future__ import annotations


class StoreError(Exception):
    """Base class: something went wrong with the local case store."""

    default_message = "Something went wrong with the case store. Nothing was changed."

    def __init__(self, user_message: str | None = None, *, detail: str = "") -> None:
        self.user_message: str = user_message or self.default_message
        self.detail: str = detail
        super().__init__(f"{self.user_message} ({detail})" if detail else self.user_message)


class NotEnrolled(StoreError):
    """No key file exists yet: this device has not been set up."""

    default_message = "This device has not been set up yet. Set a passphrase to create the store."


class AlreadyEnrolled(StoreError):
    """Enrolment was asked for, but a key file already exists (it is never overwritten)."""

    default_message = (
        "This device is already set up. Unlock it with your passphrase; "
        "the existing store was not changed."
    )


class WrongPassphrase(StoreError):
    """The passphrase does not unlock the key file (or the key file was altered)."""

    default_message = (
        "That passphrase does not unlock this store. Check it and try again. "
        "If you are sure it is right, the key file may be damaged: contact IT."
    )


class KeyFileCorrupt(StoreError):
    """The key file cannot be read: bad JSON, missing fields, impossible values."""

    default_message = (
        "The key file for this store is damaged, so the store cannot be unlocked. "
        "Nothing was changed. Contact IT; a synced copy of your work is on the service."
    )


class StoreCorrupt(StoreError):
    """The database file is damaged (or does not match the key)."""

    default_message = (
        "The case store file is damaged and cannot be opened safely. Nothing was changed. "
        "Contact IT; a synced copy of your work is on the service."
    )


class StoreFull(StoreError):
    """The disk (or the store's size limit) is full; the last write was rolled back."""

    default_message = (
        "Your last change was not saved because the disk is full. "
        "Free some space and save again; your text is still on screen."
    )


class StoreIOError(StoreError):
    """The operating system reported an I/O error or the file could not be opened."""

    default_message = (
        "Your last change was not saved because the computer could not read or write "
        "the case store. Your text is still on screen. Try again; if it keeps happening, "
        "contact IT."
    )


class StoreLocked(StoreError):
    """The store is locked: the data key was wiped and must be unlocked again."""

    default_message = "The store is locked. Unlock it to continue."


class WeakPassphrase(StoreError):
    """A new passphrase is too short to protect the store."""

    default_message = "Choose a longer passphrase: at least 8 characters."


class StoreDamaged(StoreError):
    """The integrity check found the database file damaged: it is read, never written."""

    default_message = (
        "The case store file on this computer is damaged, so sofs will not save anything "
        "to it and nothing more can be harmed: your last change was not saved. Work already "
        "synced is safe on the service. Contact IT and show them this message; keep the "
        "store file as it is (do not delete, move or replace it)."
    )


class StoreBusy(StoreError):
    """Another program kept the store's write lock longer than the wait (busy_timeout)."""

    default_message = (
        "Another sofs on this computer (a `sofs` command or another window) is busy with the "
        "case store, so this could not be done yet. Nothing was lost: what you typed is still "
        "on screen. Wait a moment, then try again."
    )


class StoreReadOnly(StoreError):
    """SQLite refused to write: the file or folder is read-only, was moved, or is damaged."""

    default_message = (
        "Your last change was not saved: the case store could not be written to. Its file "
        "or folder may have been made read-only or moved, or the file may be damaged. "
        "Nothing was changed. Contact IT and show them this message; keep the store file "
        "as it is."
    )
