"""Unlocking the store with the worker's passphrase: at start-up and after a lock.

The passphrase field never shows what was typed (password=True) and is emptied after every
attempt, right or wrong. Unwrapping the key runs Argon2 (about 0.2 s), so it runs in a thread
worker and the screen says it is working.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import Screen
from textual.widgets import Input, Static

from sofs_tui.paths import STYLES
from sofs_tui.widgets.keys_footer import KeysFooter

if TYPE_CHECKING:
    from sofs_tui.app import SofsApp
    from sofs_tui.store.first_page import FirstLook


class PassphraseScreen(Screen[None]):
    """A title, a few words, one passphrase field and a status line. Subclasses say what the
    passphrase opens (`open`, in a thread) and what happens then (`unlocked`)."""

    ALLOW_SELECT = False
    AUTO_FOCUS = "#passphrase"
    HEADING: ClassVar[str] = "Unlock sofs"
    EXPLANATION: ClassVar[str] = "Enter your passphrase to open your cases."

    @property
    def sofs(self) -> SofsApp:
        from sofs_tui.app import SofsApp

        assert isinstance(self.app, SofsApp)
        return self.app

    def compose(self) -> ComposeResult:
        with Vertical(id="passphrase-box"):
            yield Static(self.HEADING, id="passphrase-heading", markup=False)
            yield Static(self.explanation(), id="passphrase-explanation", markup=False)
            yield Input(
                password=True,
                placeholder="Passphrase",
                id="passphrase",
                disabled=not self.sofs.can_unlock,
            )
            yield Static("", id="passphrase-status", markup=False)
        yield KeysFooter()

    def intro(self) -> str:
        return self.EXPLANATION

    def explanation(self) -> str:
        if not self.sofs.can_unlock:
            return (
                "This store cannot be unlocked again in this session. Your saved work is safe. "
                "Quit with ctrl+q and start sofs again."
            )
        hint = self.sofs.passphrase_hint
        return f"{self.intro()}\n{hint}" if hint else self.intro()

    _warning_shown = False

    def say(self, message: str) -> None:
        self.query_one("#passphrase-status", Static).update(message)
        self._warning_shown = False

    def warn_unsaved_form(self, message: str) -> None:
        """ctrl+q was pressed while a form underneath holds changes not yet saved."""
        self.say(message)
        self._warning_shown = True

    def shows_unsaved_form_warning(self) -> bool:
        return self._warning_shown

    @on(Input.Submitted, "#passphrase")
    def submitted(self, event: Input.Submitted) -> None:
        passphrase = event.value
        field = self.query_one("#passphrase", Input)
        field.value = ""  # nothing typed stays on screen, right or wrong
        if not passphrase:
            self.say("Type your passphrase, then press Enter.")
            return
        field.disabled = True
        self.say("Unlocking…")
        self.sofs.passphrase_submitted()
        self.before_unlock()
        self.unlock(passphrase)

    def before_unlock(self) -> None:
        """Anything to do on the event loop while the key is derived in the worker thread."""

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def unlock(self, passphrase: str) -> None:
        from sofs_tui.store.errors import StoreError

        try:
            opened = self.open(passphrase)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc.user_message)
            return
        except Exception as exc:
            self.app.call_from_thread(self.failed_unexpectedly, exc)
            return
        finally:
            del passphrase
        self.sofs.call_from_worker(self.unlocked, opened)

    def open(self, passphrase: str) -> Any:
        """Unwrap the key and open what this screen opens (runs Argon2: called in a thread)."""
        return self.sofs.open_with_passphrase(passphrase)

    def failed(self, message: str) -> None:
        from sofs_tui import start_gate

        start_gate.release()  # no first page is coming: a paused warm-up goes on
        field = self.query_one("#passphrase", Input)
        field.disabled = False
        field.focus()
        self.say(message)

    def failed_unexpectedly(self, exc: Exception) -> None:
        incident = self.sofs.report_incident(exc)
        self.failed(f"Could not unlock (incident {incident}). Nothing was changed.")

    def unlocked(self, opened: Any) -> None:
        raise NotImplementedError


class UnlockScreen(PassphraseScreen):
    """Start-up on an enrolled device: the passphrase opens the store, then the caseload."""

    CSS_PATH = STYLES / "unlock.tcss"
    HELP: ClassVar[str] = (
        "## Unlock\n\nYour cases are kept encrypted on this computer. Type the passphrase you "
        "chose when sofs was set up and press **Enter**.\n\nForgotten it? Contact IT: the store "
        "cannot be opened without it, and your synced work is safe on the service.\n\n"
        "**ctrl+q** quits."
    )

    def before_unlock(self) -> None:
        self.sofs.prepare_caseload_screen()

    def open(self, passphrase: str) -> FirstLook:
        return self.sofs.first_look(passphrase)

    def unlocked(self, opened: FirstLook) -> None:
        self.sofs.store_unlocked(opened, replacing=self)
