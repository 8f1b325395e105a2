"""Horizontal bar charts drawn with block characters, for the team's statistics.

Managers would rather look than read, so each table gets a chart beside it. Every bar keeps
its label and its numbers in text; the length of the blocks shows the share (eighth-blocks for
a single bar, so 1 of 8 and 2 of 8 look different), a dotted track shows the whole, and stacked
bars use a different block per part. Colour only adds: with NO_COLOR the chart reads the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

FULL = "█"
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
TRACK = "·"
TONES = ("good", "warn", "bad", "muted")
MIN_BAR_CELLS = 6
GAP = " "


@dataclass(frozen=True)
class Segment:
    """One part of a bar. `fill` is the block drawn (what the part means without colour);
    `tone` ("good", "warn", "bad", "muted" or "") only adds a colour."""

    value: int
    fill: str = FULL
    tone: str = ""


@dataclass(frozen=True)
class Bar:
    """A labelled bar: its parts, what a full-width bar stands for, and its numbers in words."""

    label: str
    segments: tuple[Segment, ...]
    whole: int
    figure: str


@dataclass(frozen=True)
class LegendItem:
    fill: str
    words: str
    tone: str = ""


def _half_up(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def single_bar(value: int, whole: int, width: int) -> tuple[str, int]:
    """A bar of `value` out of `whole` across `width` cells, in eighths of a cell: the blocks
    and how many cells they take. Anything above zero shows at least a sliver."""
    if whole <= 0 or value <= 0 or width <= 0:
        return "", 0
    eighths = _half_up(Decimal(min(value, whole)) * width * 8 / whole)
    full, rest = divmod(max(eighths, 1), 8)
    blocks = FULL * full + EIGHTHS[rest]
    return blocks, cell_len(blocks)


def stacked_cells(values: Sequence[int], whole: int, width: int) -> list[int]:
    """How many cells each part of a stacked bar takes: the boundaries are rounded, so the
    parts always add up to the share of the whole; a part above zero keeps at least one cell
    (taken from the largest part) when there is room."""
    if whole <= 0 or width <= 0:
        return [0 for _ in values]
    cells: list[int] = []
    running, edge = 0, 0
    for value in values:
        running += max(value, 0)
        boundary = _half_up(Decimal(min(running, whole)) * width / whole)
        cells.append(boundary - edge)
        edge = boundary
    for index, value in enumerate(values):
        if value > 0 and cells[index] == 0:
            largest = max(range(len(cells)), key=lambda i: cells[i])
            if cells[largest] > 1:
                cells[largest] -= 1
                cells[index] = 1
    return cells


def _fit(text: str, width: int) -> Text:
    """`text` in exactly `width` cells: cut with an ellipsis, or padded."""
    fitted = Text(text, no_wrap=True, overflow="ellipsis")
    fitted.truncate(max(width, 0), overflow="ellipsis", pad=True)
    return fitted


class BarChart(Widget):
    """Bars, one a line: label, blocks, numbers. Give it bars with `show()`."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "bar-chart--bar",
        "bar-chart--track",
        "bar-chart--figure",
        "bar-chart--caption",
        *(f"bar-chart--{tone}" for tone in TONES),
    }
    DEFAULT_CSS = """
    BarChart {
        height: auto;
        width: 1fr;
        & > .bar-chart--bar { color: $primary; }
        & > .bar-chart--track { color: $text-muted; }
        & > .bar-chart--figure { text-style: bold; }
        & > .bar-chart--caption { color: $text-muted; }
        & > .bar-chart--good { color: $success; }
        & > .bar-chart--warn { color: $warning; }
        & > .bar-chart--bad { color: $error; }
        & > .bar-chart--muted { color: $text-muted; }
    }
    """

    def __init__(
        self,
        bars: Sequence[Bar] = (),
        *,
        caption: str = "",
        legend: Sequence[LegendItem] = (),
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.bars: tuple[Bar, ...] = tuple(bars)
        self.caption = caption
        self.legend: tuple[LegendItem, ...] = tuple(legend)

    def show(
        self, bars: Sequence[Bar], *, caption: str = "", legend: Sequence[LegendItem] = ()
    ) -> None:
        """Replace the bars (and the line under them)."""
        self.bars = tuple(bars)
        self.caption = caption
        self.legend = tuple(legend)
        self.refresh(layout=True)

    # --- drawing ---------------------------------------------------------------------------

    def _style(self, tone: str) -> Style:
        name = f"bar-chart--{tone}" if tone in TONES else "bar-chart--bar"
        return self.get_component_rich_style(name, partial=True)

    def _styles(self) -> dict[str, Style]:
        if not self.is_mounted:
            return {}
        names = {"", *TONES}
        found = {tone: self._style(tone) for tone in names}
        for part in ("track", "figure", "caption"):
            found[part] = self.get_component_rich_style(f"bar-chart--{part}", partial=True)
        return found

    def lines(self, width: int | None = None) -> list[Text]:
        """The chart as lines of text `width` cells wide (the widget's width by default)."""
        width = self.size.width if width is None else width
        width = max(width, 1)
        styles = self._styles()
        plain = Style()
        label_width = min(
            max((cell_len(b.label) for b in self.bars), default=0), max(10, width // 3)
        )
        figure_width = max((cell_len(b.figure) for b in self.bars), default=0)
        bar_width = max(MIN_BAR_CELLS, width - label_width - figure_width - 2 * len(GAP))
        label_width = max(1, min(label_width, width - bar_width - figure_width - 2 * len(GAP)))
        drawn: list[Text] = []
        for bar in self.bars:
            line = _fit(bar.label, label_width)
            line.append(GAP)
            line.append_text(self._blocks(bar, bar_width, styles))
            line.append(GAP)
            line.append(bar.figure.rjust(figure_width), styles.get("figure", plain))
            line.truncate(width, overflow="ellipsis")
            drawn.append(line)
        if self.legend:
            key = Text(no_wrap=True, overflow="ellipsis")
            for index, item in enumerate(self.legend):
                if index:
                    key.append("  ")
                key.append(item.fill, styles.get(item.tone, plain))
                key.append(f" {item.words}", styles.get("caption", plain))
            key.truncate(width, overflow="ellipsis")
            drawn.append(key)
        if self.caption:
            drawn.append(_fit(self.caption, width).copy())
            drawn[-1].stylize(styles.get("caption", plain))
        return drawn

    def _blocks(self, bar: Bar, width: int, styles: dict[str, Style]) -> Text:
        plain = Style()
        blocks = Text(no_wrap=True)
        segments = bar.segments
        if len(segments) == 1 and segments[0].fill == FULL:
            drawn, used = single_bar(segments[0].value, bar.whole, width)
            blocks.append(drawn, styles.get(segments[0].tone, plain))
        else:
            used = 0
            for segment, cells in zip(
                segments, stacked_cells([s.value for s in segments], bar.whole, width), strict=True
            ):
                blocks.append(segment.fill * cells, styles.get(segment.tone, plain))
                used += cells
        blocks.append(TRACK * max(width - used, 0), styles.get("track", plain))
        return blocks

    def text_lines(self, width: int | None = None) -> list[str]:
        """The chart as plain strings (what a screen reader or a test sees)."""
        return [line.plain for line in self.lines(width)]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.bars) + (1 if self.legend else 0) + (1 if self.caption else 0)

    def render(self) -> Text:
        return Text("\n").join(self.lines())
