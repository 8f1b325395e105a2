"""First run on this device: choose the passphrase (twice) and say who you are.

The passphrase wraps the key that encrypts every case on this computer (SECURITY.md "Keys").
The hint is about length only and in plain words: a few unrelated words beat a short clever
password. Enrolment runs Argon2 (about 0.2 s) in a thread worker.
"""

from __future__ import annotations

import getpass
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, Input, Static

from sofs_tui.domain.text import validate_free_text
from sofs_tui.paths import STYLES
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.line_field import GuardedInput
from sofs_tui.widgets.plain import PlainText

if TYPE_CHECKING:
    from sofs_tui.app import SofsApp

MIN_LENGTH = 8  # the key module refuses shorter ones (WeakPassphrase)
USERNAME_MAX = 120


def strength_hint(passphrase: str) -> str:
    """How good a new passphrase is, judged by length, in words a worker can act on."""
    length = len(passphrase)
    if length == 0:
        return (
            f"Use at least {MIN_LENGTH} characters. A few unrelated words are easy to "
            "remember and hard to guess."
        )
    if length < MIN_LENGTH:
        return f"Too short: {length} of at least {MIN_LENGTH} characters."
    if length < 12:
        return "Long enough. Longer is stronger: add another word."
    if length < 20:
        return "Good: a strong passphrase."
    return "Very strong."


def login_name() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no login name in odd environments: the worker types one
        return ""


class EnrolScreen(Screen[None]):
    """Set up the encrypted store on this computer."""

    CSS_PATH = STYLES / "enrol.tcss"
    ALLOW_SELECT = False
    AUTO_FOCUS = "#new-passphrase"
    HELP: ClassVar[str] = (
        "## Set up sofs\n\nYour cases are kept encrypted on this computer. Choose a passphrase "
        "you will remember: a few unrelated words are best. Type it twice, check your username, "
        "then press **Enter** (or choose *Set up*).\n\nThere is no way to recover a forgotten "
        "passphrase on this computer; your synced work stays safe on the service.\n\n"
        "**tab** moves between fields, **ctrl+q** quits."
    )

    @property
    def sofs(self) -> SofsApp:
        from sofs_tui.app import SofsApp

        assert isinstance(self.app, SofsApp)
        return self.app

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="enrol-box"):
            yield Static("Set up sofs on this computer", id="enrol-heading", markup=False)
            yield Static(
                "Choose the passphrase that will unlock your cases.",
                id="enrol-explanation",
                markup=False,
            )
            yield Input(password=True, placeholder="Passphrase", id="new-passphrase")
            yield Static(strength_hint(""), id="enrol-strength", markup=False)
            yield Input(password=True, placeholder="The same passphrase again", id="again")
            # A paste has its control characters left out before it reaches the field (or
            # the terminal), and the line under it says so at once (SECURITY R13).
            yield GuardedInput(
                login_name(), placeholder="Your username", max_length=USERNAME_MAX, id="username"
            )
            yield PlainText("", id="username-msg", multiline=False)
            yield Button("Set up", id="enrol", variant="primary")
            yield Static("", id="enrol-status", markup=False)
        yield KeysFooter()

    def on_mount(self) -> None:
        # Labels in the fields' top borders: the form fits 80×24 with room for the messages.
        for field, label in (
            ("#new-passphrase", "Passphrase"),
            ("#again", "The same again"),
            ("#username", "Your username"),
        ):
            self.query_one(field, Input).border_title = label

    def say(self, message: str) -> None:
        self.query_one("#enrol-status", Static).update(message)

    def say_username_problem(self, problem: str | None) -> None:
        message = self.query_one("#username-msg", PlainText)
        message.show(problem or "")
        message.set_class(bool(problem), "-shown")

    @on(Input.Changed, "#username")
    def username_changed(self, event: Input.Changed) -> None:
        self.say_username_problem(
            validate_free_text(event.value, max_length=USERNAME_MAX, multiline=False)
        )

    @on(GuardedInput.Refused)
    def username_paste_refused(self, event: GuardedInput.Refused) -> None:
        if event.field.id == "username":
            event.stop()
            self.say_username_problem(event.problem)

    @on(Input.Changed, "#new-passphrase")
    def passphrase_changed(self, event: Input.Changed) -> None:
        self.query_one("#enrol-strength", Static).update(strength_hint(event.value))

    @on(Input.Submitted, "#new-passphrase")
    def go_to_again(self) -> None:
        self.query_one("#again", Input).focus()

    @on(Input.Submitted, "#again")
    def go_to_username(self) -> None:
        self.query_one("#username", Input).focus()

    @on(Input.Submitted, "#username")
    @on(Button.Pressed, "#enrol")
    def submit(self) -> None:
        first = self.query_one("#new-passphrase", Input)
        again = self.query_one("#again", Input)
        username = self.query_one("#username", Input)
        problem = self._problem(first.value, again.value, username)
        if problem is not None:
            message, field = problem
            if field is again:
                again.value = ""
            field.focus()
            self.say(message)
            return
        passphrase = first.value
        first.value = again.value = ""
        for widget in (first, again, username, self.query_one("#enrol", Button)):
            widget.disabled = True
        self.say("Setting up the encrypted store…")
        self.enrol(passphrase, username.value.strip())

    def _problem(self, first: str, again: str, username: Input) -> tuple[str, Input] | None:
        first_field = self.query_one("#new-passphrase", Input)
        if len(first) < MIN_LENGTH:
            return f"Too short: use at least {MIN_LENGTH} characters.", first_field
        if again != first:
            return (
                "The two passphrases differ. Type the same passphrase again.",
                self.query_one("#again", Input),
            )
        name = username.value.strip()
        if not name:
            return "Give your username (the name you sign in to the council with).", username
        result = username.validate(name)
        if result is not None and not result.is_valid:
            return " ".join(result.failure_descriptions), username
        return None

    @work(thread=True, exclusive=True, group="unlock", exit_on_error=False)
    def enrol(self, passphrase: str, username: str) -> None:
        from sofs_tui.store.errors import StoreError

        try:
            store = self.sofs.enrol_store(passphrase, username)
        except StoreError as exc:
            self.app.call_from_thread(self.failed, exc.user_message)
            return
        except Exception as exc:
            self.app.call_from_thread(self.failed_unexpectedly, exc)
            return
        finally:
            del passphrase
        self.sofs.call_from_worker(self.sofs.store_ready, store, self)

    def failed(self, message: str) -> None:
        for widget in self.query("Input, Button"):
            widget.disabled = False
        self.query_one("#new-passphrase", Input).focus()
        self.say(message)

    def failed_unexpectedly(self, exc: Exception) -> None:
        incident = self.sofs.report_incident(exc)
        self.failed(f"Could not set up the store (incident {incident}). Nothing was saved.")
