"""What a sync reports while it runs (`SyncProgress`) and when it ends (`SyncSummary`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from sofs_tui.store import sync_local

#: A clock further than this from the service's gets a warning (it decides nothing).
CLOCK_SKEW_WARNING_S = 300.0


@dataclass(frozen=True)
class SyncProgress:
    phase: Literal["push", "pull"]
    done: int
    total: int | None  # None while the size of the pull is unknown


ProgressCallback = Callable[[SyncProgress], None]


@dataclass
class SyncSummary:
    """What one sync did, for the status bar and `sofs sync`."""

    sent: int = 0  # changes the service now holds (applied, conflict, held or rejected)
    received: int = 0  # records whose confirmed version moved on
    conflicts: int = 0  # conflicts new to this device
    held: int = 0
    rejected: int = 0
    flagged: int = 0  # changes kept back for IT (never deleted)
    removed: int = 0  # rows of cases that left this worker's scope
    errors: list[str] = field(default_factory=list)
    notices: list[sync_local.ChangeNotice] = field(default_factory=list)
    error: Exception | None = None  # what stopped the sync (SyncError or StoreError)
    retry_in: float | None = None  # seconds; None when a person must act first
    clock_offset_s: float | None = None  # service clock minus ours

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def clock_warning(self) -> bool:
        return self.clock_offset_s is not None and abs(self.clock_offset_s) > CLOCK_SKEW_WARNING_S

    def stop(self, error: Exception) -> None:
        self.error = error
        self.errors.append(getattr(error, "user_message", None) or "Sync did not finish.")

    def add_push(self, outcome: sync_local.PushOutcome) -> None:
        self.sent += outcome.sent
        self.conflicts += outcome.conflicts
        self.held += outcome.held
        self.rejected += outcome.rejected
        self.flagged += outcome.flagged
        self.notices.extend(outcome.notices)
