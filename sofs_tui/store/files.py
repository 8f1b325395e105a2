"""The names of a store's files in its data directory, and whether it is set up.

Kept apart from `store.store` (SQLAlchemy, SQLCipher, Argon2: about a second of imports) so
the app can choose between the enrol and the unlock screen and paint it before loading any of
that.
"""

from __future__ import annotations

from pathlib import Path

DB_NAME = "sofs.db"
KEYFILE_NAME = "keyfile.json"


def is_enrolled(data_dir: Path) -> bool:
    """A key file is there: this device has a store to unlock."""
    return (data_dir / KEYFILE_NAME).exists()
