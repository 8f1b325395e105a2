"""An OptionList whose option ids say what each row is ("entry:…", "group:…"), so a refresh can
keep the highlight on the same thing and a screen can ask what is highlighted.

The mapping's entry list, scaling panel and child's-voice list are all built this way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist


class KeyedOptionList(OptionList):
    #: When the highlighted option is gone after a refresh: stay at about the same place
    #: (True) or go back to the first option (False).
    KEEP_PLACE_WHEN_GONE: ClassVar[bool] = False

    def replace_options(self, options: Sequence[Option]) -> None:
        """Show `options` instead, keeping the highlight on the same id where it still is."""
        keep = self.highlighted_option.id if self.highlighted_option is not None else None
        self.set_options(options)
        self.highlight_id(keep)

    def highlight_id(self, option_id: str | None) -> None:
        """Highlight the option with this id if it is there, else the first option (or the
        same place, with KEEP_PLACE_WHEN_GONE)."""
        if not self.option_count:
            return
        index = 0
        if option_id is not None:
            try:
                index = self.get_option_index(option_id)
            except OptionDoesNotExist:
                if self.KEEP_PLACE_WHEN_GONE:
                    index = min(self.highlighted or 0, self.option_count - 1)
        self.highlighted = index

    def highlighted_key(self, prefix: str) -> str | None:
        """The highlighted option's id without `prefix`, when it is that kind of row."""
        option = self.highlighted_option
        if option is None or option.id is None or not option.id.startswith(prefix):
            return None
        return option.id.removeprefix(prefix)

    def nearest_key_above(self, prefix: str) -> str | None:
        """The id (without `prefix`) of the highlighted row or the nearest one above it of that
        kind: the header a highlighted row sits under."""
        index = self.highlighted
        while index is not None and index >= 0:
            found = self.get_option_at_index(index).id or ""
            if found.startswith(prefix):
                return found.removeprefix(prefix)
            index -= 1
        return None
