"""Signing in to the sync service from the app: one password field, never kept.

The password goes to the service once (`Credentials.login`); sofs keeps only the service's
tokens, in the OS credential store when it is trusted and in memory otherwise. The field is
emptied as soon as it is submitted or the dialog closes.
"""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static

from sofs_tui.paths import STYLES
from sofs_tui.widgets.plain import PlainText, safe_content

KEEPS_SIGN_IN = (
    "sofs does not keep your password: only a sign-in token, in this computer's credential "
    "store, so you are not asked again at each sync."
)
NOTHING_KEPT = (
    "This computer has no trusted credential store, so sofs keeps nothing: you will be asked "
    "again the next time sofs starts."
)


class SignInScreen(ModalScreen[str | None]):
    """Asks for the service password; dismisses with it, or None when cancelled."""

    CSS_PATH = STYLES / "sync_sign_in.tcss"
    ALLOW_SELECT = False
    AUTO_FOCUS = "#sign-in-password"
    HELP: ClassVar[str] = (
        "## Sign in to sync\n\nType the password of your account on the council's sync "
        "service and press **Enter**. **Escape** cancels: your work stays on this computer "
        "and is sent once you sign in."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="sign_in.cancel"),
    ]

    def __init__(self, url: str, username: str, keyring_problem: str = "") -> None:
        super().__init__()
        self._url = url
        self._username = username
        self._keyring_problem = keyring_problem

    def compose(self) -> ComposeResult:
        with Vertical(id="sign-in-box"):
            yield Static("Sign in to sync", id="sign-in-heading", markup=False)
            yield Static(
                Content.assemble(
                    "Password for ",
                    safe_content(self._username, multiline=False),
                    " at ",
                    safe_content(self._url, multiline=False),
                ),
                id="sign-in-who",
            )
            yield Input(
                password=True, placeholder="Password", id="sign-in-password", max_length=1024
            )
            yield PlainText(
                NOTHING_KEPT if self._keyring_problem else KEEPS_SIGN_IN, id="sign-in-note"
            )
            with Horizontal(id="sign-in-buttons"):
                yield Button("Sign in (Enter)", id="sign-in-go", variant="primary", compact=True)
                yield Button("Cancel (Esc)", id="sign-in-cancel", compact=True)

    @on(Input.Submitted, "#sign-in-password")
    @on(Button.Pressed, "#sign-in-go")
    def _submitted(self) -> None:
        field = self.query_one("#sign-in-password", Input)
        password = field.value
        field.value = ""  # nothing typed stays in the field
        if password:
            self.dismiss(password)
        else:
            self.notify("Type your password, then press Enter.", markup=False, timeout=4)

    @on(Button.Pressed, "#sign-in-cancel")
    def action_cancel(self) -> None:
        self.query_one("#sign-in-password", Input).value = ""
        self.dismiss(None)
