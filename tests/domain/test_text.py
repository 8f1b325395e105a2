"""clean_text() and the free-text validator: terminal escapes and bidi controls never get through
(SECURITY.md R12, R13), while every legitimate character of assessment prose does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sofs_tui.domain.text import (
    FreeTextError,
    clean_text,
    forbidden_characters,
    require_free_text,
    sanitize_for_display,
    validate_free_text,
)

BIDI_CONTROLS = [
    "\u061c",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
]
C0_SAMPLES = ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1a", "\x1b", "\x1f"]
C1_SAMPLES = ["\x80", "\x85", "\x8d", "\x90", "\x9b", "\x9c", "\x9d", "\x9f"]
EVERY_FORBIDDEN = (
    {chr(cp) for cp in range(0x20) if chr(cp) not in "\t\n\r"}
    | {"\x7f"}
    | {chr(cp) for cp in range(0x80, 0xA0)}
    | set(BIDI_CONTROLS)
)

TERMINAL_PAYLOADS = [
    "\x1b]52;c;SGVsbG8=\x1b\\",  # OSC 52: write the clipboard
    "\x1b]0;PWNED\x07",  # OSC 0: set the window title
    "\x1b[2J",  # CSI: clear the screen
    "\x9b31m",  # C1 CSI: red text
    "\u202e",  # right-to-left override
    "\x1b]8;;https://x\x1b\\",  # OSC 8: hyperlink
]

SHORT_SETTINGS = settings(max_examples=300, derandomize=True, deadline=None)


# --- What is removed ---------------------------------------------------------------------------


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=lambda c: f"U+{ord(c):04X}")
def test_every_bidi_control_is_removed(control: str) -> None:
    assert clean_text(f"Dad{control} said") == "Dad said"


@pytest.mark.parametrize("control", C0_SAMPLES, ids=lambda c: f"U+{ord(c):04X}")
def test_c0_controls_other_than_tab_and_newline_are_removed(control: str) -> None:
    assert clean_text(f"a{control}b") == "ab"


@pytest.mark.parametrize("control", C1_SAMPLES, ids=lambda c: f"U+{ord(c):04X}")
def test_c1_controls_are_removed(control: str) -> None:
    assert clean_text(f"a{control}b") == "ab"


def test_delete_is_removed() -> None:
    assert clean_text("a\x7fb") == "ab"


def test_escape_is_removed_but_the_rest_of_its_sequence_stays_visible() -> None:
    assert clean_text("A\x1b]0;title\x07B") == "A]0;titleB"


@pytest.mark.parametrize("payload", TERMINAL_PAYLOADS)
def test_terminal_payloads_lose_every_escape_c1_csi_and_override(payload: str) -> None:
    cleaned = clean_text(f"safe {payload} end")
    assert "\x1b" not in cleaned
    assert "\x9b" not in cleaned
    assert "\u202e" not in cleaned
    assert "\x07" not in cleaned
    assert cleaned.startswith("safe ") and cleaned.endswith(" end")


def test_sanitize_for_display_is_clean_text() -> None:
    assert sanitize_for_display is clean_text


# --- What is kept ------------------------------------------------------------------------------


def test_tab_and_newline_are_kept_in_multiline_text() -> None:
    assert clean_text("Worries:\n\tDad shouts\n") == "Worries:\n\tDad shouts\n"


def test_windows_line_endings_become_newlines() -> None:
    assert clean_text("first\r\nsecond\r\n") == "first\nsecond\n"


def test_lone_carriage_return_becomes_a_newline() -> None:
    assert clean_text("first\rsecond") == "first\nsecond"


def test_single_line_turns_each_tab_and_line_break_into_one_space() -> None:
    assert clean_text("Jane\tSmith\r\nflat 2\nrear", multiline=False) == "Jane Smith flat 2 rear"


def test_single_line_still_removes_controls() -> None:
    assert clean_text("a\x1b[2Jb\u202ec", multiline=False) == "a[2Jbc"


@pytest.mark.parametrize(
    "text",
    [
        "\U0001f469\u200d\U0001f467",  # woman-girl emoji joined by ZWJ
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian word that needs ZWNJ
        "Mr\u00a0Okafor",  # no-break space
        "\u0623\u0645\u0644 \u0648 \u0633\u0627\u0631\u0629",  # Arabic
        "\u6211\u5f88\u5b89\u5168",  # Chinese
        "Zoë, Łukasz, Nguyễn, Ｆｕｌｌｗｉｄｔｈ",
        "\U0001f600\U0001f3e0\U0001f44d\U0001f3fd",
    ],
    ids=["zwj-emoji", "zwnj-persian", "nbsp", "arabic", "chinese", "accents", "emoji"],
)
def test_people_s_scripts_and_emoji_are_kept(text: str) -> None:
    assert clean_text(text) == text
    assert forbidden_characters(text) == []
    assert validate_free_text(text) is None


@pytest.mark.parametrize("text", ["[@click=app.quit]see notes[/]", "[/b] done", "[TODO] call GP"])
def test_markup_looking_text_is_unchanged_because_clean_text_is_not_a_markup_escaper(
    text: str,
) -> None:
    assert clean_text(text) == text


def test_clean_text_returns_the_same_string_when_nothing_needs_cleaning() -> None:
    text = "Gran collects Kai from school on Fridays."
    assert clean_text(text) is text


# --- Reporting forbidden characters ------------------------------------------------------------


def test_forbidden_characters_gives_index_and_human_name() -> None:
    assert forbidden_characters("ab\x1bc\u202ed\x07") == [
        (2, "escape (ESC)"),
        (4, "right-to-left override"),
        (6, "control character U+0007"),
    ]


def test_forbidden_characters_does_not_report_crlf_or_lone_cr() -> None:
    assert forbidden_characters("one\r\ntwo\rthree\tfour") == []


def test_forbidden_characters_in_single_line_mode_reports_tabs_and_line_breaks() -> None:
    assert forbidden_characters("a\tb\r\nc\nd", multiline=False) == [
        (1, "tab"),
        (3, "line break"),
        (6, "line break"),
    ]


# --- Validation messages -----------------------------------------------------------------------


def test_validation_names_the_character_and_its_position_counted_from_one() -> None:
    message = validate_free_text("Dad said: \x1b[2Jhello")
    assert message == (
        "This text contains a hidden control character (escape (ESC)) at position 11. "
        "Retype or paste it again as plain text."
    )


def test_validation_counts_several_hidden_characters_and_names_the_first() -> None:
    message = validate_free_text("x\u202ey\x1bz")
    assert message is not None
    assert "2 hidden control characters" in message
    assert "right-to-left override" in message
    assert "position 2" in message


def test_validation_never_echoes_the_offending_content() -> None:
    secret = "PWNED-TITLE-SGVsbG8"
    message = validate_free_text(f"\x1b]0;{secret}\x07", max_length=5)
    assert message is not None
    assert secret not in message
    assert "\x1b" not in message and "\x07" not in message


def test_validation_reports_length_with_thousands_separators_and_what_to_do() -> None:
    message = validate_free_text("x" * 12_345, max_length=10_000)
    assert message == (
        "This text is 12,345 characters; the limit is 10,000. Split it into two entries."
    )


def test_validation_suggests_as_many_entries_as_the_text_needs() -> None:
    message = validate_free_text("x" * 25_001, max_length=10_000)
    assert message is not None and message.endswith("Split it into three entries.")


def test_validation_asks_a_single_line_field_to_be_shortened() -> None:
    message = validate_free_text("x" * 120, max_length=100, multiline=False)
    assert message == (
        "This text is 120 characters; the limit is 100. Shorten it to 100 characters or fewer."
    )


def test_validation_accepts_text_exactly_at_the_limit() -> None:
    assert validate_free_text("x" * 100, max_length=100) is None


def test_validation_rejects_a_line_break_in_a_single_line_field() -> None:
    message = validate_free_text("Jane\nSmith", multiline=False)
    assert message == (
        "This field takes a single line, but the text contains a line break at position 5. "
        "Remove it and save again."
    )


def test_validation_accepts_line_breaks_in_multiline_text() -> None:
    assert validate_free_text("Para one.\r\n\r\nPara two.\n\tIndented.") is None


def test_hidden_characters_are_reported_before_length() -> None:
    message = validate_free_text("\x07" + "x" * 200, max_length=100)
    assert message is not None and "hidden control character" in message


def test_validation_rejects_a_limit_below_one() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        validate_free_text("x", max_length=0)


def test_require_free_text_raises_with_the_plain_message() -> None:
    with pytest.raises(FreeTextError) as caught:
        require_free_text("a\u202eb")
    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == validate_free_text("a\u202eb")


def test_require_free_text_returns_text_ready_to_store() -> None:
    assert require_free_text("one\r\ntwo", max_length=50) == "one\ntwo"


def test_require_free_text_enforces_the_length_limit() -> None:
    with pytest.raises(FreeTextError, match="the limit is 3"):
        require_free_text("four", max_length=3)


# --- Properties --------------------------------------------------------------------------------


@SHORT_SETTINGS
@given(st.text())
def test_clean_text_output_never_contains_a_forbidden_character(text: str) -> None:
    cleaned = clean_text(text)
    assert not EVERY_FORBIDDEN & set(cleaned)
    assert "\r" not in cleaned


@SHORT_SETTINGS
@given(st.text(), st.booleans())
def test_clean_text_is_idempotent(text: str, multiline: bool) -> None:
    once = clean_text(text, multiline=multiline)
    assert clean_text(once, multiline=multiline) == once


@SHORT_SETTINGS
@given(st.text(), st.booleans())
def test_nothing_forbidden_remains_after_cleaning(text: str, multiline: bool) -> None:
    assert forbidden_characters(clean_text(text, multiline=multiline), multiline=multiline) == []


@SHORT_SETTINGS
@given(st.text())
def test_single_line_output_has_no_tab_or_line_break(text: str) -> None:
    cleaned = clean_text(text, multiline=False)
    assert not {"\t", "\n", "\r"} & set(cleaned)


@SHORT_SETTINGS
@given(st.text(max_size=200), st.booleans())
def test_validation_passes_exactly_when_nothing_is_forbidden(text: str, multiline: bool) -> None:
    found = forbidden_characters(text, multiline=multiline)
    assert (validate_free_text(text, multiline=multiline) is None) == (found == [])


@SHORT_SETTINGS
@given(st.text(alphabet=st.sampled_from([*sorted(EVERY_FORBIDDEN), "a", "\u200d", "\n"])))
def test_cleaning_removes_exactly_the_reported_characters(text: str) -> None:
    reported = {index for index, _ in forbidden_characters(text)}
    kept = "".join(char for index, char in enumerate(text) if index not in reported)
    assert clean_text(text) == kept
