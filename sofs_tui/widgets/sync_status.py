"""The sync status bar: online or offline, changes still to send, open conflicts, the last
sync and a clock warning, in words and symbols (colour only adds to them).

The app mounts one bar in every store screen, just above the footer (`SofsApp` does it as a
screen is pushed, before it composes, so no screen has to know about it), and publishes a
`SyncView` in its `sync_view` reactive; every bar follows it, so a burst of updates costs one
repaint. The bar is hidden where no service is set up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Footer

Phase = Literal[
    "off",  # no service set up: the bar is hidden
    "waiting",  # set up, not tried yet in this session
    "syncing",
    "online",  # the last sync finished
    "offline",  # the service could not be reached
    "unavailable",  # the service answered with a problem; sync tries again later
    "sign_in",  # the service needs the password again
    "stopped",  # a person must act first (the problem says what)
    "paused",  # the store is locked
]
#: A clock further than this from the service's gets a warning (it decides nothing).
CLOCK_SKEW_WARNING_S = 300.0

_PHASE_WORDS: dict[str, tuple[str, str]] = {
    "off": ("", ""),
    "waiting": ("◌", "Waiting to sync"),
    "syncing": ("⟳", "Syncing…"),
    "online": ("●", "Online"),
    "offline": ("○", "Offline"),
    "unavailable": ("◐", "Service unavailable"),
    "sign_in": ("⚠", "Sign in to sync (f6)"),
    "stopped": ("✗", "Sync stopped"),
    "paused": ("‖", "Sync paused"),
}
_ATTENTION = frozenset({"sign_in", "stopped"})


@dataclass(frozen=True)
class SyncView:
    """What the bar shows; built by the app from the store's sync status and the last sync."""

    phase: Phase = "off"
    pending: int = 0  # saved changes not yet stored by the service
    flagged: int = 0  # changes kept back for IT (never deleted)
    conflicts: int = 0  # open conflicts on this computer
    held: int = 0  # records whose last change the service holds back
    last_success_at: datetime | None = None
    now: datetime | None = None  # when the counts were read (for "3 min ago")
    clock_offset_s: float | None = None  # the service's clock minus this computer's
    progress: str = ""  # "sending 120 of 400" during a long sync
    problem: str = ""  # why sync stopped, in our own words (never case text)


def ago(moment: datetime | None, now: datetime | None) -> str:
    """'synced just now', 'synced 3 min ago', 'synced 2 h ago', 'synced Tue 24 Nov 10:00'."""
    from sofs_tui.widgets.deadline import when  # the deadline rules: not before the first frame

    if moment is None:
        return "never synced"
    if now is None:
        return f"synced {when(moment)}"
    seconds = (now - moment).total_seconds()
    if seconds < 60:
        return "synced just now"
    if seconds < 3600:
        return f"synced {int(seconds // 60)} min ago"
    if seconds < 48 * 3600:
        return f"synced {int(seconds // 3600)} h ago"
    return f"synced {when(moment)}"


def clock_warning(offset_s: float | None) -> str:
    """ "Your computer's clock is 3 h off …" when it is more than 5 minutes off; else ''."""
    if offset_s is None or abs(offset_s) <= CLOCK_SKEW_WARNING_S:
        return ""
    minutes = round(abs(offset_s) / 60)
    amount = f"{minutes} min" if minutes < 120 else f"{round(minutes / 60)} h"
    side = "behind" if offset_s > 0 else "ahead of"
    return (
        f"⚠ Your computer's clock is {amount} off ({side} the service). Please set the right "
        "time; sync is not affected."
    )


def status_lines(view: SyncView) -> list[str]:
    """The bar's text: one line of facts, then a line for each warning."""
    symbol, words = _PHASE_WORDS[view.phase]
    if view.phase == "syncing" and view.progress:
        words = f"Syncing: {view.progress}"
    parts = [f"{symbol} {words}"]
    parts.append(f"↑ {view.pending} to send" if view.pending else "✓ nothing to send")
    if view.conflicts:
        noun = "conflict" if view.conflicts == 1 else "conflicts"
        parts.append(f"⚠ {view.conflicts} {noun} (f7)")
    if view.held:
        parts.append(f"‖ {view.held} held")
    if view.flagged:
        parts.append(f"✗ {view.flagged} kept back: contact IT")
    parts.append(ago(view.last_success_at, view.now))
    lines = [" · ".join(parts)]
    if view.problem and view.phase in _ATTENTION | {"unavailable", "offline"}:
        lines.append(view.problem)
    warning = clock_warning(view.clock_offset_s)
    if warning:
        lines.append(warning)
    return lines


class SyncStatusBar(Widget):
    """One or more lines above the footer; follows the app's `sync_view`."""

    DEFAULT_CSS = """
    SyncStatusBar {
        dock: bottom;
        height: auto;
        max-height: 4;
        padding: 0 1;
        background: $panel;
        color: $text-muted;
        margin-bottom: 1;  /* above the footer every store screen docks at the bottom */
        &.-no-footer { margin-bottom: 0; }
        &.-off { display: none; }
        &.-attention { color: $text-warning; }
        &.-skew { color: $text-warning; }
    }
    """

    #: Repaints on change; a new layout only when the number of lines changes.
    view: reactive[SyncView] = reactive(SyncView)

    def on_mount(self) -> None:
        if hasattr(type(self.app), "sync_view"):
            self.watch(self.app, "sync_view", self._follow, init=True)
        self.call_after_refresh(self._check_footer)

    def _check_footer(self) -> None:
        # Store screens compose a Footer after the bar is mounted; one without keeps no gap.
        if not self.is_attached:
            return  # its screen closed at once (a case removed elsewhere): nothing to adjust
        if not any(isinstance(w, Footer) for w in self.screen.children):
            self.add_class("-no-footer")

    def _follow(self, view: SyncView) -> None:
        self.view = view

    def watch_view(self, old: SyncView, view: SyncView) -> None:
        if len(status_lines(old)) != len(status_lines(view)):
            self.refresh(layout=True)
        self.set_class(view.phase == "off", "-off")
        self.set_class(view.phase in _ATTENTION or view.conflicts > 0, "-attention")
        self.set_class(bool(clock_warning(view.clock_offset_s)), "-skew")

    def render(self) -> Content:
        # Our own words and numbers only: no case text ever reaches this bar.
        return Content("\n".join(status_lines(self.view)))

    @property
    def text(self) -> str:
        """What the bar says, for tests and screen readers."""
        return "\n".join(status_lines(self.view)) if self.view.phase != "off" else ""
