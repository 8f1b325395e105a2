"""The background sync's workers when the app ends before they run: each worker builds its
coroutine when it starts, so one cancelled first (the app quitting right after the store opens)
leaves no coroutine that was never awaited (a RuntimeWarning printed at exit).
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest
from textual.app import App

from sofs_tui.app_sync import BackgroundSync
from sofs_tui.app_sync_setup import SyncTiming

NEVER = SyncTiming(first=3600, interval=3600, after_save=3600, status_poll=3600)


class Host(App[None]):
    """What BackgroundSync needs of SofsApp here: a store and the lock flags."""

    sync_paused = False
    is_locked = False

    def __init__(self) -> None:
        super().__init__()
        self.store: Any = SimpleNamespace(is_locked=False, engine=None)


def _open(sync: BackgroundSync) -> None:
    store = sync.app.store
    assert store is not None
    sync.store_opened(store)


def _sync_now(sync: BackgroundSync) -> None:
    sync.sync_now()


def _password(sync: BackgroundSync) -> None:
    sync._password_given("a password")


@pytest.mark.parametrize(
    ("start", "group"),
    [(_open, "sync-prepare"), (_sync_now, "sync"), (_password, "sync")],
    ids=["store opened", "sync now", "signing in"],
)
def test_a_worker_cancelled_before_it_runs_leaves_no_coroutine_behind(
    start: Callable[[BackgroundSync], None], group: str
) -> None:
    async def start_then_quit() -> None:
        host = Host()
        async with host.run_test():
            sync = BackgroundSync(host, connector=None, timing=NEVER)  # type: ignore[arg-type]
            start(sync)
            assert host.workers._workers  # the worker exists, and has not run yet
            host.workers.cancel_group(host, group)  # as the app's exit does

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(start_then_quit())
        gc.collect()
    assert [str(w.message) for w in caught if "never awaited" in str(w.message)] == []
