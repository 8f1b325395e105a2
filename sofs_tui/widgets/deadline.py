"""A deadline, shown the same way everywhere: symbol, words, the date and the time left."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.deadlines import DeadlineState, describe_time_left

_STYLE = {
    DeadlineState.OVERDUE: "bold red",
    DeadlineState.DONE_LATE: "yellow",
    DeadlineState.DUE_SOON: "bold yellow",
    DeadlineState.DUE: "",
    DeadlineState.DONE_ON_TIME: "green",
}


def when(moment: datetime | None) -> str:
    """A moment in the council's time zone, as people read it: 'Tue 01 Dec 10:00'."""
    return moment.astimezone(COUNCIL_TZ).strftime("%a %d %b %H:%M") if moment else "-"


def deadline_text(
    state: DeadlineState, due: datetime, now: datetime, *, short: bool = False
) -> Text:
    """'✗ Overdue · Tue 24 Nov 10:00 · overdue by 1d 2h' (colour only adds to the words)."""
    if state in (DeadlineState.DONE_ON_TIME, DeadlineState.DONE_LATE):
        tail = state.label
    else:
        tail = describe_time_left(due, now)
    words = (
        f"{state.symbol} {tail}"
        if short
        else f"{state.symbol} {state.label} · {when(due)} · {tail}"
    )
    return Text(words, style=_STYLE[state])
