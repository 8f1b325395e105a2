"""The service's settings, from the environment (a council's IT team runs it as a service)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ACCESS_TOKEN_TTL = timedelta(minutes=15)
REFRESH_TOKEN_TTL = timedelta(days=30)


@dataclass(frozen=True)
class ServerSettings:
    """`SOFS_DATABASE_URL` picks the database (default: a SQLite file in `data_dir`)."""

    data_dir: Path
    database_url: str
    access_token_ttl: timedelta = ACCESS_TOKEN_TTL
    refresh_token_ttl: timedelta = REFRESH_TOKEN_TTL
    max_body_bytes: int = 2 * 1024 * 1024  # a full push batch (1 MiB of changes) plus JSON
    login_failures_before_throttle: int = 5
    login_lockout: timedelta = timedelta(minutes=15)
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, data_dir: Path | None = None) -> ServerSettings:
        folder = data_dir or Path(os.environ.get("SOFS_SERVER_DATA_DIR", "sofs-server-data"))
        url = os.environ.get("SOFS_DATABASE_URL") or f"sqlite:///{folder / 'sofs-server.db'}"
        return cls(data_dir=folder, database_url=url)
