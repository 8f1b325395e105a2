"""The lock screen: covers everything, shows no case data, and asks for the passphrase.

It is an opaque full screen pushed on top of the worker's screens, which stay as they were
(unsaved text included) underneath; Textual draws only the top screen, so nothing of them is
visible. Escape does not close it: only the passphrase does (SECURITY R10, R11).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from sofs_tui.paths import STYLES
from sofs_tui.screens.unlock import PassphraseScreen

if TYPE_CHECKING:
    from sofs_tui.store.store import Store


class LockScreen(PassphraseScreen):
    """Shown by the idle timer or the lock-now key; unlocking returns to where you were."""

    CSS_PATH = STYLES / "lock.tcss"
    HEADING: ClassVar[str] = "sofs is locked"
    HELP: ClassVar[str] = (
        "## Locked\n\nsofs locks itself when it has not been used for a while, or when you "
        "press **ctrl+l**, so nobody can read your cases on an unattended screen. Type your "
        "passphrase and press **Enter** to carry on exactly where you left off: anything you "
        "had typed but not yet saved is still there.\n\n**ctrl+q** quits; everything saved is "
        "safe. If a form holds changes not yet saved, it says so first, and **ctrl+q** again "
        "quits without them."
    )

    def __init__(self, reason: str) -> None:
        super().__init__()
        self.reason = reason

    def intro(self) -> str:
        return f"{self.reason} Enter your passphrase to carry on where you left off."

    def unlocked(self, store: Store) -> None:
        self.sofs.unlocked(store)
