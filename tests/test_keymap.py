"""The keymap check (`sofs_tui.keymap`): an entry with an id sofs does not have, or a key name
no terminal sends, is named with what to change; `sofs keys` lists every id and checks the
settings' keymap."""

from __future__ import annotations

from pathlib import Path

import pytest

from sofs_tui.cli import main
from sofs_tui.keymap import (
    KnownBinding,
    key_name_problem,
    keymap_clashes,
    keymap_problems,
    known_bindings,
)

KNOWN = [
    KnownBinding("case_list.new_case", "n", "New case", "CaseListScreen"),
    KnownBinding("app.help", "f1", "Help", "SofsApp"),
]


def test_every_key_sofs_binds_by_default_passes_the_check() -> None:
    """The check against reality: each default key of every id is a key it accepts."""
    known = known_bindings()
    ids = {b.id for b in known}
    assert {"app.quit", "app.lock", "case_list.new_case", "form.save"} <= ids
    wrong = {
        b.id: key_name_problem(key)
        for b in known
        for key in b.keys.split(",")
        if key_name_problem(key.strip())
    }
    assert wrong == {}


@pytest.mark.parametrize(
    "key",
    ["ctrl+n", "f5", "f12", "shift+tab", "a", "?", "+", "pageup", "space", "enter", "escape",
     "ctrl+shift+up", "question_mark", "alt+x"],
)  # fmt: skip
def test_key_names_textual_reads_are_accepted(key: str) -> None:
    assert key_name_problem(key) is None


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("crtl+n", "“crtl” in “crtl+n” is not a modifier (ctrl, shift, alt)"),
        ("F5", "key names are in lower case: “f5”"),
        ("ctrl+pgup", "“pgup” is not a key name"),
        ("ctrl+", "“ctrl+” has no key after its “+”"),
    ],
)
def test_key_names_no_terminal_sends_are_named(key: str, problem: str) -> None:
    assert key_name_problem(key) == problem


def test_keymap_problems_say_what_to_change_and_pass_good_entries() -> None:
    keymap = {
        "case_list.nwe_case": "ctrl+n",
        "app.help": "f2,F3",
        "case_list.new_case": "ctrl+n",
        "app.quit_all": "ctrl+x",
        "app.helpp": "",
    }
    assert keymap_problems(keymap, KNOWN) == [
        "“case_list.nwe_case” is not an action sofs has. Did you mean “case_list.new_case”?",
        "app.help = “f2,F3”: key names are in lower case: “f3”.",
        "“app.quit_all” is not an action sofs has. `sofs keys` lists them.",
        "“app.helpp” is not an action sofs has. Did you mean “app.help”?",
    ]
    assert keymap_problems({"app.help": ""}, KNOWN) == ["app.help = “”: an empty key."]
    assert keymap_problems({"app.help": "f2", "case_list.new_case": "ctrl+n"}, KNOWN) == []


def test_a_key_given_to_a_second_action_on_one_screen_is_a_clash() -> None:
    assert keymap_clashes({"case_list.new_case": "s"}) == [
        "“s” is given to both case_list.new_case and case_list.next_sort on CaseListScreen."
    ]
    # The app's keys count on every screen; "?" is Textual's "question_mark".
    assert keymap_clashes({"case_list.new_case": "ctrl+l", "case_list.deadlines": "?"}) == [
        "“ctrl+l” is given to both case_list.new_case and app.lock on CaseListScreen."
    ]
    assert keymap_clashes({"case_list.new_case": "f9", "app.lock": "ctrl+k"}) == []


def test_the_default_keys_clash_only_where_help_closes_itself_with_f1() -> None:
    assert keymap_clashes({}, defaults_too=True) == [
        "“f1” is given to both help.close and app.help on HelpScreen."
    ]


def write_keymap(data_dir: Path, lines: str) -> None:
    settings = data_dir / "config" / "settings.toml"
    settings.parent.mkdir(parents=True)
    settings.write_text(f"[keymap]\n{lines}", encoding="utf-8")


def test_sofs_keys_lists_every_id_with_its_key_and_the_keymap_s_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_keymap(tmp_path, '"app.lock" = "f9"\n')
    assert main(["--data-dir", str(tmp_path), "keys"]) == 0
    out = capsys.readouterr().out.splitlines()
    quit_line = next(line for line in out if line.startswith("app.quit "))
    lock_line = next(line for line in out if line.startswith("app.lock "))
    assert "ctrl+q" in quit_line and "Quit" in quit_line
    assert "*f9" in lock_line  # the keymap's key, marked as set there
    assert len([line for line in out if "." in line.split(" ")[0]]) == len(known_bindings())


def test_sofs_keys_names_the_keymap_s_mistakes_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_keymap(
        tmp_path,
        '"case_list.nwe_case" = "ctrl+n"\n"app.help" = "crtl+h"\n"case_list.new_case" = "s"\n',
    )
    assert main(["--data-dir", str(tmp_path), "keys"]) == 1
    err = capsys.readouterr().err
    assert "keymap: “case_list.nwe_case” is not an action sofs has." in err
    assert "Did you mean “case_list.new_case”?" in err
    assert "keymap: app.help = “crtl+h”: “crtl” in “crtl+h” is not a modifier" in err
    assert "keymap: “s” is given to both case_list.new_case and case_list.next_sort" in err
