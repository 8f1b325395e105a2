"""Free text made safe for a terminal: strip control and bidi characters, and validate input.

Case notes arrive pasted from other systems or synced from the service. Escape sequences in them
can drive the worker's terminal (write the clipboard, retitle the window, spoof the screen) and
bidi controls can make the screen differ from what is stored (SECURITY.md R12, R13).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator

# --- What is forbidden -------------------------------------------------------------------------

_TAB = 0x09
_NEWLINE = 0x0A
_CARRIAGE_RETURN = 0x0D
_ESCAPE = 0x1B
_DELETE = 0x7F

# Bidirectional formatting controls ("Trojan Source", CVE-2021-42574), with the names a person
# can look up. ZWJ and ZWNJ (U+200D, U+200C) are deliberately absent: names and scripts need them.
_BIDI_NAMES: dict[int, str] = {
    0x061C: "Arabic letter mark",
    0x200E: "left-to-right mark",
    0x200F: "right-to-left mark",
    0x202A: "left-to-right embedding",
    0x202B: "right-to-left embedding",
    0x202C: "pop directional formatting",
    0x202D: "left-to-right override",
    0x202E: "right-to-left override",
    0x2066: "left-to-right isolate",
    0x2067: "right-to-left isolate",
    0x2068: "first strong isolate",
    0x2069: "pop directional isolate",
}

# C0 except tab, newline and carriage return (CR is turned into a line break, not removed),
# DEL, C1 and the bidi controls: every code point clean_text() deletes in any mode.
_REMOVED: frozenset[int] = frozenset(
    [cp for cp in range(0x20) if cp not in (_TAB, _NEWLINE, _CARRIAGE_RETURN)]
    + [_DELETE]
    + list(range(0x80, 0xA0))
    + list(_BIDI_NAMES)
)


def _character_class(code_points: Iterable[int]) -> str:
    return "[" + "".join(re.escape(chr(cp)) for cp in sorted(code_points)) + "]"


# A compiled character class: measured faster than str.translate, which leaves its fast path as
# soon as a string holds one non-ASCII character (every name with an accent, every emoji).
_REMOVED_PATTERN = re.compile(_character_class(_REMOVED))


# --- Cleaning ----------------------------------------------------------------------------------


def clean_text(text: str, *, multiline: bool = True) -> str:
    """Return `text` safe to show in a terminal and to store.

    Removes C0 control characters except tab and newline, DEL (U+007F), the C1 controls
    (U+0080-U+009F) and the bidi controls (U+202A-U+202E, U+2066-U+2069, U+200E, U+200F,
    U+061C). CRLF and a lone CR become a newline, so a paragraph pasted from Windows keeps its
    line breaks. With `multiline=False`, each tab and line break becomes one space.

    Everything else is kept: ZWJ and ZWNJ, no-break spaces, emoji, every script.

    ESC is removed as a single character; the printable rest of an escape sequence stays as
    visible text (``"\\x1b]0;title\\x07"`` becomes ``"]0;title"``). That is harmless, since the
    terminal no longer sees a sequence, and it shows a reader that something odd was pasted.

    This is not a markup escaper: ``"[@click=app.quit]"`` is returned unchanged, so the caller
    must still show text with ``Content(text)`` or ``markup=False``.

    Idempotent: ``clean_text(clean_text(t)) == clean_text(t)``.
    """
    if "\r" in text:
        # CRLF is one line break, not two.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _REMOVED_PATTERN.sub("", text)
    if not multiline:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


#: The name SECURITY.md uses for the display-side call; the very same function.
sanitize_for_display = clean_text


# --- Finding and explaining what is wrong ------------------------------------------------------


def _name_of(code_point: int) -> str:
    if code_point == _ESCAPE:
        return "escape (ESC)"
    if code_point == _DELETE:
        return "delete (DEL)"
    if code_point == 0x00:
        return "null (NUL)"
    if code_point in _BIDI_NAMES:
        return _BIDI_NAMES[code_point]
    return f"control character U+{code_point:04X}"


def _single_line_breaks(text: str) -> Iterator[tuple[int, str]]:
    """Tabs and line breaks, which a single-line field does not take (CRLF counts once)."""
    for index, char in enumerate(text):
        if char == "\t":
            yield index, "tab"
        elif char == "\r" or (char == "\n" and not (index > 0 and text[index - 1] == "\r")):
            yield index, "line break"


def forbidden_characters(text: str, *, multiline: bool = True) -> list[tuple[int, str]]:
    """Every character of `text` that does not belong in free text, with a human name.

    Each item is ``(index, name)`` with a 0-based index into `text`, for example
    ``(11, "escape (ESC)")`` or ``(3, "control character U+0007")``. These are the characters
    clean_text() removes; a CR (alone or in CRLF) is a line break, not reported. With
    `multiline=False` tabs and line breaks are reported too (as "tab" and "line break"; CRLF once),
    since a single-line field should not take them.
    """
    found = [
        (match.start(), _name_of(ord(match.group()))) for match in _REMOVED_PATTERN.finditer(text)
    ]
    if not multiline:
        found.extend(_single_line_breaks(text))
        found.sort()
    return found


_NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine")


def _entries_needed(length: int, max_length: int) -> str:
    parts = math.ceil(length / max_length)
    return _NUMBER_WORDS[parts - 2] if 2 <= parts <= 9 else f"{parts:,}"


def validate_free_text(
    text: str, *, max_length: int | None = None, multiline: bool = True
) -> str | None:
    """None when `text` may be saved; otherwise one plain sentence saying what is wrong and what
    to do. The message names the kind of character and where it is, never the text itself, so it
    is safe to log and to return from the service.

    Positions in the message count from 1, as a person counts.
    """
    if max_length is not None and max_length < 1:
        raise ValueError("max_length must be at least 1")
    hidden = forbidden_characters(text)
    if hidden:
        index, name = hidden[0]
        # "control character U+0007" reads twice as "hidden control character (control ...)".
        name = name.removeprefix("control character ")
        if len(hidden) == 1:
            found = f"a hidden control character ({name}) at position {index + 1:,}"
        else:
            found = (
                f"{len(hidden):,} hidden control characters, the first ({name}) "
                f"at position {index + 1:,}"
            )
        return f"This text contains {found}. Retype or paste it again as plain text."
    breaks = [] if multiline else list(_single_line_breaks(text))
    if len(breaks) == 1:
        index, name = breaks[0]
        return (
            f"This field takes a single line, but the text contains a {name} "
            f"at position {index + 1:,}. Remove it and save again."
        )
    if breaks:
        kinds = {name for _, name in breaks}
        plural = f"{kinds.pop()}s" if len(kinds) == 1 else "tabs or line breaks"
        return (
            f"This field takes a single line, but the text contains {len(breaks):,} {plural}, "
            f"the first at position {breaks[0][0] + 1:,}. Remove them and save again."
        )
    if max_length is not None and len(text) > max_length:
        size = f"This text is {len(text):,} characters; the limit is {max_length:,}."
        if multiline:
            return f"{size} Split it into {_entries_needed(len(text), max_length)} entries."
        return f"{size} Shorten it to {max_length:,} characters or fewer."
    return None


class FreeTextError(ValueError):
    """Free text that may not be stored; the message is safe to show, log and send back."""


def require_free_text(text: str, *, max_length: int | None = None, multiline: bool = True) -> str:
    """Return `text` ready to store (line endings normalised), or raise FreeTextError.

    For the store and the service, where bad text must not get in: pydantic turns the
    ValueError into a 422 with the plain message.
    """
    message = validate_free_text(text, max_length=max_length, multiline=multiline)
    if message is not None:
        raise FreeTextError(message)
    return clean_text(text, multiline=multiline)
