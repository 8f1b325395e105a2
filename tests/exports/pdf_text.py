"""Just enough PDF reading to check what an exported PDF says: every stream inflated, and the
text drawn on its pages decoded through each font's ToUnicode map.

fpdf2 draws text with two-byte glyph ids of a font subset, so the letters are not in the file
as letters; searching the raw bytes for a name would pass even if the name were printed. This
decoder turns the glyph ids back into text, so a check for "not in the PDF" can fail.
"""

from __future__ import annotations

import re
import zlib

_OBJECT = re.compile(rb"(\d+) 0 obj\b(.*?)\bendobj", re.S)
_STREAM = re.compile(rb"stream\r?\n")
_HEX = re.compile(rb"<([0-9A-Fa-f]+)>")
_TOKEN = re.compile(
    rb"/([A-Za-z0-9_.+-]+)\s+[\d.]+\s+Tf"  # font selection
    rb"|\((?:\\.|[^\\)])*\)"  # literal string
    rb"|\bT[jJ]\b",
    re.S,
)


def _objects(data: bytes) -> dict[int, tuple[bytes, bytes | None]]:
    """Object number -> (dictionary text, inflated stream or None)."""
    found: dict[int, tuple[bytes, bytes | None]] = {}
    for match in _OBJECT.finditer(data):
        body = match.group(2)
        start = _STREAM.search(body)
        if start is None:
            found[int(match.group(1))] = (body, None)
            continue
        head = body[: start.start()]
        length = re.search(rb"/Length (\d+)\b(?! 0 R)", head)
        raw = body[start.end() :]
        raw = raw[: int(length.group(1))] if length else raw.rsplit(b"endstream", 1)[0]
        if b"/FlateDecode" in head:
            raw = zlib.decompress(raw)
        found[int(match.group(1))] = (head, raw)
    return found


def inflated_streams(data: bytes) -> list[bytes]:
    """Every stream in the file, decompressed."""
    return [stream for _, stream in _objects(data).values() if stream is not None]


def _cmap(text: bytes) -> dict[int, str]:
    mapping: dict[int, str] = {}
    for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
        codes = _HEX.findall(block)
        for code, target in zip(codes[::2], codes[1::2], strict=True):
            mapping[int(code, 16)] = bytes.fromhex(target.decode()).decode("utf-16-be")
    for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
        for line in block.strip().splitlines():
            parts = _HEX.findall(line)
            if len(parts) == 3 and b"[" not in line:
                low, high, first = (int(p, 16) for p in parts)
                for offset in range(high - low + 1):
                    mapping[low + offset] = chr(first + offset)
    return mapping


def _unescape(literal: bytes) -> bytes:
    out = bytearray()
    i = 0
    simple = {ord("n"): 10, ord("r"): 13, ord("t"): 9, ord("b"): 8, ord("f"): 12}
    while i < len(literal):
        c = literal[i]
        if c != 0x5C:
            out.append(c)
            i += 1
            continue
        nxt = literal[i + 1]
        if nxt in simple:
            out.append(simple[nxt])
            i += 2
        elif 0x30 <= nxt <= 0x37:
            digits = re.match(rb"[0-7]{1,3}", literal[i + 1 : i + 4])
            assert digits is not None
            out.append(int(digits.group(), 8) & 0xFF)
            i += 1 + len(digits.group())
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages, one shown string per line."""
    objects = _objects(data)
    cmaps: dict[int, dict[int, str]] = {}
    for number, (head, _) in objects.items():
        ref = re.search(rb"/ToUnicode (\d+) 0 R", head)
        if ref:
            stream = objects[int(ref.group(1))][1]
            cmaps[number] = _cmap(stream or b"")
    names: dict[bytes, int] = {}
    for head, _ in objects.values():
        for block in re.findall(rb"/Font\s*<<(.*?)>>", head, re.S):
            for name, number in re.findall(rb"/([A-Za-z0-9_.+-]+)\s+(\d+) 0 R", block):
                names[name] = int(number)
    lines: list[str] = []
    for head, stream in objects.values():
        if stream is None or b"BT" not in stream or b"/Length1" in head:
            continue
        font: dict[int, str] = {}
        pending: list[str] = []
        for token in _TOKEN.finditer(stream):
            if token.group(1) is not None:
                font = cmaps.get(names.get(token.group(1), -1), {})
            elif token.group().startswith(b"("):
                raw = _unescape(token.group()[1:-1])
                pending.append(
                    "".join(
                        font.get(int.from_bytes(raw[k : k + 2], "big"), "\ufffd")
                        for k in range(0, len(raw) - 1, 2)
                    )
                )
            else:
                lines.append("".join(pending))
                pending = []
    return "\n".join(lines)
