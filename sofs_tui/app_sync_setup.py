"""The app's sync set-up: how it reaches the service (`SyncConnector`), when it syncs
(`SyncTiming`), the status bar on each store screen, and the sentences a sync ends with.

Split from `app_sync` (the controller) to keep both small; nothing here talks to the network.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from textual.screen import Screen

    from sofs_tui.secrets import TokenStore
    from sofs_tui.sync.client import SyncClient
    from sofs_tui.sync.engine import SyncProgress, SyncSummary

NOT_SET_UP = (
    "This computer is not connected to a sync service yet. Run `sofs login URL` in a "
    "terminal (IT will give you the address), then sync again."
)
SIGNED_OUT = "The service needs your password again. Press f6 to sign in; your work stays here."


@dataclass(frozen=True)
class SyncTiming:
    """Seconds: the first sync after the store opens, the regular sync, the sync after a
    save, and how often the status bar re-reads its counts."""

    first: float = 3.0
    interval: float = 120.0
    after_save: float = 10.0
    status_poll: float = 30.0


class SyncConnector(Protocol):
    """How the app reaches the service and keeps tokens (production: `SystemConnector`)."""

    def client(self, url: str, ca_file: str) -> SyncClient: ...

    async def token_store(self) -> TokenStore: ...


class SystemConnector:
    """A verified TLS client (plain http only to loopback) and the vetted OS keyring."""

    def client(self, url: str, ca_file: str) -> SyncClient:
        from sofs_tui.sync.client import SyncClient

        return SyncClient(url, ca_file=ca_file or None)

    async def token_store(self) -> TokenStore:
        from sofs_tui.secrets import TokenStore

        return await TokenStore.afrom_system()


def attach_status_bar(screen: Screen[Any]) -> None:
    """Mount the sync status bar in a store screen, once. Called as the screen is pushed,
    before it composes, so its first layout already has the bar (docked above the footer)."""
    # A store screen's class imports screens.base, so until that module is loaded no screen is
    # one: the first screen (unlock, enrol) does not import it before its first frame.
    base = sys.modules.get("sofs_tui.screens.base")
    if base is None or not isinstance(screen, base.StoreScreen) or not screen.is_attached:
        return
    from sofs_tui.widgets.sync_status import SyncStatusBar

    if any(isinstance(child, SyncStatusBar) for child in screen.children):
        return
    screen.mount(SyncStatusBar())


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_sentence(summary: SyncSummary) -> str:
    """'Synced: sent 3 changes, received 2 updates; 1 new conflict, 0 held.' (counts only)."""
    sentence = (
        f"Synced: sent {_plural(summary.sent, 'change')}, received "
        f"{_plural(summary.received, 'update')}; {_plural(summary.conflicts, 'new conflict')}, "
        f"{summary.held} held."
    )
    if summary.rejected:
        sentence += f" {summary.rejected} refused by the service (your text is kept here)."
    if summary.flagged:
        sentence += f" {_plural(summary.flagged, 'change')} kept back on this computer: contact IT."
    if summary.conflicts:
        sentence += " Press f7 to choose which versions to keep."
    return sentence


def conflict_sentence(count: int) -> str:
    return (
        f"{_plural(count, 'new conflict')}: the same thing was changed in two places. Press f7 "
        "to choose which version to keep."
    )


def progress_words(step: SyncProgress) -> str:
    """'sending 120 of 400', 'receiving, 300 so far': what the status bar says mid-sync."""
    if step.phase == "push":
        return f"sending {step.done} of {step.total}"
    if step.total is None:
        return f"receiving, {step.done} so far"
    return f"received {step.done}"


def outcome_message(
    summary: SyncSummary, *, explicit: bool, problem: str
) -> tuple[str, Literal["information", "warning"]] | None:
    """What to tell the worker when a sync ends: everything after "sync now"; after a sync
    in the background only new conflicts and a lost sign-in (the status bar says the rest)."""
    from sofs_tui.sync.client import Unauthorised

    if isinstance(summary.error, Unauthorised):
        return SIGNED_OUT, "warning"
    if explicit:
        if summary.ok:
            return summary_sentence(summary), "information"
        return f"Sync stopped: {problem}", "warning"
    if summary.conflicts:
        return conflict_sentence(summary.conflicts), "warning"
    return None


__all__ = [
    "NOT_SET_UP",
    "SIGNED_OUT",
    "SyncConnector",
    "SyncTiming",
    "SystemConnector",
    "attach_status_bar",
    "conflict_sentence",
    "outcome_message",
    "progress_words",
    "summary_sentence",
]
