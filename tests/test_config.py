"""Settings: the seed's borough by default, a council's own rules from settings.toml."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sofs_tui.config import (
    CouncilRules,
    Settings,
    SettingsError,
    load_settings,
    load_state,
    save_state,
    save_user_choices,
)
from sofs_tui.domain.deadlines import LONDON_BOROUGH_DEFAULTS, DeadlineRule, DeadlineUnit
from sofs_tui.domain.enums import ConferenceKind, Section
from sofs_tui.paths import STYLES, app_paths
from tests.support.fresh_python import run_fresh_python


def test_without_a_file_the_rules_are_the_seed_borough(tmp_path: Path) -> None:
    settings = load_settings(tmp_path / "settings.toml")
    rules = settings.council.deadlines
    assert rules.for_parents(ConferenceKind.INITIAL) == DeadlineRule(48, DeadlineUnit.CLOCK_HOURS)
    assert rules.for_qau(ConferenceKind.REVIEW) == DeadlineRule(5, DeadlineUnit.WORKING_DAYS)
    assert settings.council.idle_lock_minutes == 5
    assert settings.council.label(Section.GREY_AREAS) == "Grey areas"


def test_without_a_file_the_rules_are_imported_when_first_read(tmp_path: Path) -> None:
    """The deadline rules (calendar, time zones) are not needed for the first frame."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from sofs_tui.config import load_settings\n"
        f"settings = load_settings(Path({str(tmp_path / 'settings.toml')!r}))\n"
        "before = 'sofs_tui.domain.deadlines' in sys.modules\n"
        "rules = settings.council.deadlines\n"
        "print(before, 'sofs_tui.domain.deadlines' in sys.modules)\n"
    )
    assert run_fresh_python(code).split() == ["False", "True"]


def test_the_council_given_is_kept_and_the_default_is_made_once() -> None:
    council = CouncilRules(idle_lock_minutes=7)
    given = Settings(council=council)
    assert given.council is council and replace(given, theme="x").council is council
    default = Settings()
    assert default.council is default.council
    assert default.council.deadlines == LONDON_BOROUGH_DEFAULTS
    assert default == Settings() != given
    assert replace(default, theme="x").council is default.council


def test_a_council_overrides_deadlines_labels_scale_and_lock(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(
        """
[council]
name = "Example Borough"
idle_lock_minutes = 10
[council.deadlines.to_parents]
review = "3 working_days"
[council.deadlines.to_qau]
initial = "2 calendar_days"
[council.section_labels]
grey_areas = "What we are not sure about"
[council.scale]
zero = "Zero words"
[keymap]
"case_list.focus_filter" = "f"
""",
        encoding="utf-8",
    )
    settings = load_settings(path)
    council = settings.council
    assert council.name == "Example Borough" and council.idle_lock_minutes == 10
    assert council.deadlines.for_parents(ConferenceKind.REVIEW) == DeadlineRule(
        3, DeadlineUnit.WORKING_DAYS
    )
    # Kinds not named keep the defaults.
    assert council.deadlines.for_qau(ConferenceKind.REVIEW) == DeadlineRule(
        5, DeadlineUnit.WORKING_DAYS
    )
    assert council.deadlines.for_qau(ConferenceKind.INITIAL) == DeadlineRule(
        2, DeadlineUnit.CALENDAR_DAYS
    )
    assert council.label(Section.GREY_AREAS) == "What we are not sure about"
    assert council.scale.zero == "Zero words" and council.scale.ten  # ten keeps its default
    assert settings.keymap == {"case_list.focus_filter": "f"}


@pytest.mark.parametrize(
    ("toml", "names"),
    [
        ("[council]\nidle_lock_minutes = 60", "idle_lock_minutes"),
        ('[council.deadlines.to_parents]\ninitial = "48 hours"', "to_parents.initial"),
        ('[council.deadlines.to_parents]\nweekly = "5 working_days"', "weekly"),
        ('[council.section_labels]\nworries = "x"', "section_labels.worries"),
        ("[council\nbroken", "not valid TOML"),
    ],
)
def test_a_wrong_setting_names_the_key_and_the_fix(tmp_path: Path, toml: str, names: str) -> None:
    path = tmp_path / "settings.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(SettingsError, match=names) as raised:
        load_settings(path)
    assert str(path) in str(raised.value)


def test_user_choices_are_saved_without_touching_council_rules(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('[council]\nname = "Keep me"\n', encoding="utf-8")
    save_user_choices(path, theme="high-contrast", keymap={"app.quit": "ctrl+x"})
    settings = load_settings(path)
    assert settings.council.name == "Keep me"
    assert (settings.theme, dict(settings.keymap)) == ("high-contrast", {"app.quit": "ctrl+x"})


def test_state_survives_and_a_damaged_state_file_is_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "state" / "state.toml"
    save_state(path, last_case_id="abc")
    assert load_state(path) == {"last_case_id": "abc"}
    path.write_text("not = [toml", encoding="utf-8")
    assert load_state(path) == {}


def test_data_dir_overrides_every_path(tmp_path: Path) -> None:
    paths = app_paths(tmp_path / "d")
    for folder in (paths.data_dir, paths.config_dir, paths.state_dir, paths.log_dir):
        assert folder.is_relative_to(tmp_path / "d")
    assert paths.settings_file.is_relative_to(tmp_path / "d")


def test_default_paths_follow_the_platform_and_never_the_source_tree(tmp_path: Path) -> None:
    paths = app_paths(None)  # HOME and XDG_* point into the test's own folders
    assert "sofs" in str(paths.data_dir) and "sofs" in str(paths.config_dir)


def test_styles_are_found_through_paths() -> None:
    assert (STYLES / "base.tcss").is_file() and (STYLES / "case_list.tcss").is_file()
