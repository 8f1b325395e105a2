"""The user's keymap (`[keymap]` in settings.toml) checked against the keys sofs has.

Textual applies a keymap by binding id and ignores what it does not know: an id with a typo,
or a key name no terminal sends, would leave the worker with a key that silently does
nothing. `keymap_problems` says which entries cannot work and why, in words; the app shows
them once it has started, and `sofs keys` lists every id with its key and what it does.
A key the keymap gives to a second action on one screen leaves one of them with no key
(`keymap_clashes`): Textual 8.2.8's own clash check (`BindingsMap.apply_keymap`, reported to
`App.handle_bindings_clash`) counts a binding the keymap leaves alone as rebound, so it does
not find this clash.

Reading every id imports every screen (about 0.1 s), so the app checks in a thread, after
its first frame, and only when there is a keymap.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.binding import Binding

#: Modifiers Textual reads in a key name ("ctrl+shift+up").
MODIFIERS = frozenset({"ctrl", "shift", "alt", "meta", "super", "hyper"})


@dataclass(frozen=True)
class KnownBinding:
    """A key sofs binds, by its keymap id."""

    id: str
    keys: str  # the default, as in the code ("ctrl+n", "f5,ctrl+r")
    description: str
    where: str  # the screen or widget class it belongs to


def _binding_modules() -> list[str]:
    import sofs_tui.screens
    import sofs_tui.widgets

    names = ["sofs_tui.app"]
    for package in (sofs_tui.screens, sofs_tui.widgets):
        names += [f"{package.__name__}.{m.name}" for m in pkgutil.iter_modules(package.__path__)]
    return names


def _subclasses(cls: type) -> Iterable[type]:
    sub: type
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _own_bindings(cls: type) -> list[Binding]:
    from textual.binding import Binding

    return [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding) and b.id]


def _sofs_classes() -> list[type]:
    """sofs's app, screens and widgets that bind keys with ids (imports them all)."""
    from textual.dom import DOMNode

    for name in _binding_modules():
        importlib.import_module(name)
    classes = {c for c in _subclasses(DOMNode) if c.__module__.startswith("sofs_tui.")}
    return sorted(
        (c for c in classes if _own_bindings(c)), key=lambda c: (c.__module__, c.__qualname__)
    )


def known_bindings() -> list[KnownBinding]:
    """Every binding with an id on sofs's app, screens and widgets (imports them all)."""
    found: dict[str, KnownBinding] = {}
    for cls in _sofs_classes():
        for binding in _own_bindings(cls):
            if binding.id and binding.id not in found:
                words = binding.tooltip or binding.description
                found[binding.id] = KnownBinding(binding.id, binding.key, words, cls.__name__)
    return sorted(found.values(), key=lambda b: b.id)


def _split_keys(keys: str) -> list[str]:
    """The keys of a keymap entry or a binding ("ctrl+n, f2")."""
    return [k.strip() for k in keys.split(",")]


def _key_list(keys: str) -> list[str]:
    """Keys as Textual names them ("?" is "question_mark")."""
    from textual.keys import _character_to_key

    return [_character_to_key(k) if len(k) == 1 else k for k in _split_keys(keys)]


def keymap_clashes(keymap: Mapping[str, str], *, defaults_too: bool = False) -> list[str]:
    """Keys the keymap gives to an action that another action on the same screen (or the whole
    app) already has: Textual keeps one of them and the other has no key, without a word.
    One sentence per clash (imports every screen). `defaults_too`: clashes among the default
    keys as well (there should be none)."""
    from textual.app import App

    classes = _sofs_classes()
    everywhere = [b for c in classes if issubclass(c, App) for b in _own_bindings(c)]
    said: set[tuple[str, frozenset[str]]] = set()
    clashes: list[str] = []
    for cls in classes:
        chain = [b for base in cls.__mro__ if base in classes for b in _own_bindings(base)]
        ids_by_key: dict[str, dict[str, None]] = {}
        for binding in chain + ([] if issubclass(cls, App) else everywhere):
            assert binding.id is not None
            for key in _key_list(keymap.get(binding.id, binding.key)):
                ids_by_key.setdefault(key, {})[binding.id] = None
        for key, ids in ids_by_key.items():
            if len(ids) > 1 and (defaults_too or any(i in keymap for i in ids)):
                clash = (key, frozenset(ids))
                if clash not in said:
                    said.add(clash)
                    named = " and ".join(ids)
                    clashes.append(f"“{key}” is given to both {named} on {cls.__name__}.")
    return clashes


def key_name_problem(key: str) -> str | None:
    """Why Textual could never see `key` pressed (None when it can): one key of a keymap
    entry, such as "ctrl+n", "f5", "shift+tab", "question_mark" or "a"."""
    from textual.keys import Keys, _character_to_key

    if len(key) == 1:
        return None  # a character: "+" is Textual's "plus", "?" its "question_mark"
    *modifiers, base = key.split("+")
    if not base:
        return f"“{key}” has no key after its “+”"
    unknown = [m for m in modifiers if m not in MODIFIERS]
    if unknown:
        return f"“{unknown[0]}” in “{key}” is not a modifier (ctrl, shift, alt)"
    if len(base) == 1:
        return None
    named = {k.value for k in Keys} | {
        _character_to_key(chr(c)) for c in range(33, 127)
    }  # "escape", "f12", "pageup", "space", "question_mark"…
    if base in named or f"ctrl+{base}" in named:
        return None
    if base.lower() in named:
        return f"key names are in lower case: “{base.lower()}”"
    return f"“{base}” is not a key name"


def keymap_problems(keymap: Mapping[str, str], known: Iterable[KnownBinding]) -> list[str]:
    """One sentence per keymap entry that cannot work, saying what to change."""
    ids = {b.id for b in known}
    problems: list[str] = []
    for binding_id, keys in keymap.items():
        if binding_id not in ids:
            near = difflib.get_close_matches(binding_id, ids, n=1)
            hint = f" Did you mean “{near[0]}”?" if near else " `sofs keys` lists them."
            problems.append(f"“{binding_id}” is not an action sofs has.{hint}")
            continue
        for key in _split_keys(keys):
            problem = key_name_problem(key) if key else "an empty key"
            if problem:
                problems.append(f"{binding_id} = “{keys}”: {problem}.")
                break
    return problems


def keymap_mistakes(keymap: Mapping[str, str], known: Iterable[KnownBinding]) -> list[str]:
    """Everything wrong with `keymap`, one sentence each: entries that cannot work
    (`keymap_problems`), then keys given to two actions on one screen (`keymap_clashes`)."""
    return keymap_problems(keymap, known) + keymap_clashes(keymap)
