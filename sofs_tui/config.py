"""Settings (TOML) and the council's rules: deadlines, section labels, scale wording, locking.

The defaults are the seed's London borough. A council changes them in `settings.toml`:

    [council]
    name = "Example Borough"
    idle_lock_minutes = 10
    due_soon_hours = 24

    [council.deadlines.to_parents]
    initial = "48 clock_hours"
    review = "5 working_days"

    [council.deadlines.to_qau]
    review = "3 working_days"

    [council.section_labels]
    grey_areas = "Things we are not sure about"

    [council.scale]
    zero = "..."
    ten = "..."

    [keymap]
    "case_list.new_case" = "ctrl+n"
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sofs_tui.domain.deadlines import DeadlineRule, ReportDeadlineRules
    from sofs_tui.domain.enums import ConferenceKind, Section
    from sofs_tui.domain.scaling import ScaleWording

# The domain's rules (deadlines bring the working calendar and its time zone, about 10 ms) are
# imported when first used: a settings file with council rules, or the first screen that
# reads them. Starting without a settings file, the first frame needs none of them.

MAX_IDLE_LOCK_MINUTES = 15


class SettingsError(ValueError):
    """The settings file is wrong; the message names the file, the key and the fix."""


def _default_deadlines() -> ReportDeadlineRules:
    from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS

    return LONDON_BOROUGH_DEFAULTS


def _default_scale() -> ScaleWording:
    from sofs_tui.domain.scaling import DEFAULT_SCALE_WORDING

    return DEFAULT_SCALE_WORDING


@dataclass(frozen=True)
class CouncilRules:
    name: str = "London borough (default rules)"
    deadlines: ReportDeadlineRules = field(default_factory=_default_deadlines)
    section_labels: Mapping[Section, str] = field(default_factory=dict)
    scale: ScaleWording = field(default_factory=_default_scale)
    idle_lock_minutes: int = 5
    due_soon_hours: int = 24

    def label(self, section: Section) -> str:
        return self.section_labels.get(section, section.label)


class _Council:
    """`Settings.council`, a data descriptor: given (a settings file, a test), it is kept as
    is; left out, the default `CouncilRules()` is made when first read, so a start without a
    settings file imports no domain rules before the first frame. Reading it from two threads
    at once gives both the same object."""

    def __set_name__(self, owner: type, name: str) -> None:
        self._key = f"_{name}"

    def __get__(self, settings: object, owner: type | None = None) -> CouncilRules:
        if settings is None:  # the dataclass asking for the default: "none given"
            return None  # type: ignore[return-value]
        values = settings.__dict__
        council = values.get(self._key)
        if council is None:
            council = values.setdefault(self._key, CouncilRules())
        return council  # type: ignore[no-any-return]

    def __set__(self, settings: object, council: CouncilRules | None) -> None:
        # Settings is frozen: only its __init__ comes here.
        if council is None:
            settings.__dict__.pop(self._key, None)
        else:
            settings.__dict__[self._key] = council


@dataclass(frozen=True)
class Settings:
    council: _Council = _Council()
    theme: str = "textual-dark"
    keymap: Mapping[str, str] = field(default_factory=dict)


def _fail(path: Path, key: str, problem: str) -> SettingsError:
    return SettingsError(f"{path}: [{key}] {problem}. Fix or remove it, then start sofs again.")


def _table(data: Mapping[str, Any], key: str, path: Path, where: str) -> Mapping[str, Any]:
    value = data.get(key, {})
    if not isinstance(value, dict):
        raise _fail(path, f"{where}{key}", "must be a table")
    return value


def _rules(table: Mapping[str, Any], path: Path, where: str) -> dict[ConferenceKind, DeadlineRule]:
    from sofs_tui.domain.deadlines import DeadlineRule
    from sofs_tui.domain.enums import ConferenceKind

    rules: dict[ConferenceKind, DeadlineRule] = {}
    for kind_text, rule_text in table.items():
        try:
            kind = ConferenceKind(kind_text)
        except ValueError:
            kinds = ", ".join(k.value for k in ConferenceKind)
            raise _fail(
                path, f"{where}.{kind_text}", f"is not a conference kind ({kinds})"
            ) from None
        try:
            rules[kind] = DeadlineRule.parse(str(rule_text))
        except ValueError:
            raise _fail(
                path,
                f"{where}.{kind_text}",
                f"{rule_text!r} is not a rule; write e.g. '48 clock_hours' or '5 working_days'",
            ) from None
    return rules


def _council(data: Mapping[str, Any], path: Path) -> CouncilRules:
    from sofs_tui.domain.enums import Section
    from sofs_tui.domain.scaling import ScaleWording

    rules = CouncilRules()
    council = _table(data, "council", path, "")
    deadlines = _table(council, "deadlines", path, "council.")
    to_parents = _rules(
        _table(deadlines, "to_parents", path, "council.deadlines."),
        path,
        "council.deadlines.to_parents",
    )
    to_qau = _rules(
        _table(deadlines, "to_qau", path, "council.deadlines."), path, "council.deadlines.to_qau"
    )
    labels: dict[Section, str] = {}
    for name, label in _table(council, "section_labels", path, "council.").items():
        try:
            labels[Section(name)] = str(label)
        except ValueError:
            raise _fail(path, f"council.section_labels.{name}", "is not a section") from None
    scale = _table(council, "scale", path, "council.")
    minutes = council.get("idle_lock_minutes", rules.idle_lock_minutes)
    if not isinstance(minutes, int) or not 1 <= minutes <= MAX_IDLE_LOCK_MINUTES:
        raise _fail(
            path,
            "council.idle_lock_minutes",
            f"must be a whole number of minutes from 1 to {MAX_IDLE_LOCK_MINUTES}",
        )
    soon = council.get("due_soon_hours", rules.due_soon_hours)
    if not isinstance(soon, int) or soon < 0:
        raise _fail(path, "council.due_soon_hours", "must be a whole number of hours")
    return replace(
        rules,
        name=str(council.get("name", rules.name)),
        deadlines=rules.deadlines.updated(to_parents=to_parents, to_qau=to_qau),
        section_labels=labels,
        scale=ScaleWording(
            zero=str(scale.get("zero", rules.scale.zero)),
            ten=str(scale.get("ten", rules.scale.ten)),
        ),
        idle_lock_minutes=minutes,
        due_soon_hours=soon,
    )


def load_settings(path: Path) -> Settings:
    """Settings from `path`, or the defaults when there is no file yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Settings()
    import tomllib  # only with a file to read: start-up without one skips it

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(
            f"{path} is not valid TOML ({exc}). Fix it, then start sofs again."
        ) from None
    keymap = _table(data, "keymap", path, "")
    theme = data.get("theme", Settings.theme)
    return Settings(
        council=_council(data, path),
        theme=str(theme),
        keymap={str(k): str(v) for k, v in keymap.items()},
    )


def write_toml_atomically(path: Path, data: Mapping[str, Any]) -> None:
    """Write TOML so a crash leaves either the old file or the new one, never half of each."""
    import tomli_w

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        tomli_w.dump(dict(data), handle)
        handle.flush()
        os.fsync(handle.fileno())
    tmp.replace(path)


def save_user_choices(
    path: Path, *, theme: str | None = None, keymap: Mapping[str, str] | None = None
) -> None:
    """Store the user's own choices (theme, keymap) without touching the council's rules."""
    import tomllib

    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        data = {}
    if theme is not None:
        data["theme"] = theme
    if keymap is not None:
        data["keymap"] = dict(keymap)
    write_toml_atomically(path, data)


def load_state(path: Path) -> dict[str, Any]:
    """Small remembered things (the last case opened). A damaged file is simply forgotten."""
    import tomllib

    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return {}


def save_state(path: Path, **values: Any) -> None:
    state = load_state(path)
    state.update({k: v for k, v in values.items() if v is not None})
    write_toml_atomically(path, state)
