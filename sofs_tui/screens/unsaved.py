"""Whether a form holds typing not yet saved, so that quitting asks before losing it.

The forms (people, cases, conferences, reports) save when the worker saves them, unlike the
mapping, whose text saves itself. A form remembers its fields' values as it is mounted (each
field's own mount has run by then); `unsaved_form()` names it while any value differs and no
save is running. ctrl+q asks first (`GuardedApp.action_quit`).
"""

from __future__ import annotations

from textual.dom import DOMNode
from textual.widgets import Checkbox, Input, RadioButton, Select, Switch, TextArea

FieldValues = tuple[tuple[str | None, object], ...]


def field_values(root: DOMNode) -> FieldValues:
    """Every field's value under `root`, in order: what was typed, chosen or ticked."""
    values: list[tuple[str | None, object]] = []
    for node in root.walk_children(with_self=False):
        if isinstance(node, Input):
            values.append((node.id, node.value))
        elif isinstance(node, TextArea):
            values.append((node.id, node.text))
        elif isinstance(node, Select | Switch | Checkbox | RadioButton):
            values.append((node.id, node.value))
    return tuple(values)


class RemembersOpenedValues:
    """For a form screen: call `remember_opened_values()` once its fields hold what the form
    opened with; `unsaved_form()` then names the form while anything differs."""

    _opened_values: FieldValues | None = None

    def remember_opened_values(self) -> None:
        assert isinstance(self, DOMNode)
        self._opened_values = field_values(self)

    def form_saving(self) -> bool:
        raise NotImplementedError

    def form_title(self) -> str:
        raise NotImplementedError

    def unsaved_form(self) -> str | None:
        """The form's title while it holds changes not saved (and no save is running)."""
        assert isinstance(self, DOMNode)
        if self._opened_values is None or self.form_saving():
            return None
        if field_values(self) == self._opened_values:
            return None
        return self.form_title() or "This form"
