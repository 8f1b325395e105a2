"""The footer of keys, rebuilt only when the keys it shows change.

Textual's Footer removes every key and mounts them again whenever the screen's bindings may
have changed: each focus move and each `refresh_bindings()`. Every new key is then styled
against every rule the app has loaded, a few milliseconds a key. Most of those moves change
nothing the footer shows (a field's own bindings are hidden), yet they rebuilt it: moving
between a form's fields, and at start-up six times between the passphrase's Enter and the
caseload's first page, where the unlock's Argon2 shares the machine with them.

`KeysFooter` rebuilds only when what it would show differs from what it shows: each shown
binding with its key's display, whether it is enabled and its tooltip, and the command
palette's key. Textual's Footer also composes empty and fills itself a frame later, once
the screen's bindings have settled, so the keys pop in; this one shows the screen's keys in
its first frame, and rebuilds if the first focus changes them. Anything else is Textual's
Footer unchanged (Textual 8.2.8, pinned).
"""

from __future__ import annotations

from collections.abc import Hashable

from textual.app import ComposeResult
from textual.widgets import Footer


class KeysFooter(Footer):
    _composed_keys: Hashable = None  # what the last compose showed; None: nothing yet

    def __init__(self, *, compact: bool = False) -> None:
        super().__init__(compact=compact)
        self.set_reactive(Footer._bindings_ready, True)  # keys from the first frame

    def shown_keys(self) -> Hashable:
        """What `compose` shows now, compared to decide whether to rebuild."""
        bindings = self.screen.active_bindings
        shown = tuple(
            (binding, enabled, tooltip, self.app.get_key_display(binding))
            for (_, binding, enabled, tooltip) in bindings.values()
            if binding.show
        )
        palette = bindings.get(self.app.COMMAND_PALETTE_BINDING)
        palette_key = None
        if palette is not None and self.show_command_palette and self.app.ENABLE_COMMAND_PALETTE:
            _, binding, enabled, tooltip = palette
            palette_key = (binding, enabled, tooltip, self.app.get_key_display(binding))
        return (shown, palette_key)

    def compose(self) -> ComposeResult:
        self._composed_keys = self.shown_keys()
        yield from super().compose()

    async def recompose(self) -> None:
        if not self.is_attached or self._pruning:
            return  # as Textual's own: nothing to show on a screen being taken down
        if self._composed_keys is None or self.shown_keys() != self._composed_keys:
            await super().recompose()
