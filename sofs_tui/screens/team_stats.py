"""The team view for managers: GP involvement, report-sharing timeliness and children on a plan
for a period, each table beside a bar chart (below it at 80 columns).

The numbers come from the same functions as `sofs stats` (`exports.stats`), so what a manager
sees here is what the CSV says. The period is the last three whole calendar months until the
manager changes it (p); a QA Unit log can be imported from here (i) and counts at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.events import Resize
from textual.widgets import DataTable, Header, TabbedContent, TabPane

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import GPInvited, GPOutcome, PlanCategory
from sofs_tui.domain.statistics import (
    ALL_AGENCIES,
    GP_INVITED_LABELS,
    GP_OUTCOME_LABELS,
    INVITE_NOT_RECORDED,
    INVOLVEMENT_LABEL,
    TOTAL,
    Sharing,
    StatTable,
    format_percent,
)
from sofs_tui.paths import STYLES
from sofs_tui.screens.base import StoreScreen
from sofs_tui.screens.team_period import Period, PeriodForm, day_words, default_period
from sofs_tui.widgets.bar_chart import Bar, BarChart, LegendItem, Segment
from sofs_tui.widgets.keys_footer import KeysFooter
from sofs_tui.widgets.plain import PlainText, safe_text

if TYPE_CHECKING:
    from sofs_tui.config import CouncilRules
    from sofs_tui.exports.import_conferences import ImportSummary
    from sofs_tui.store.store import Store

WIDE = 120
TABS = ("gp", "sharing", "plans")
GP_BLOCKS = ("gp_outcome", "gp_invited", "gp_involvement")
SHARING_BLOCKS = ("sharing_parents", "sharing_qau")
PLAN_BLOCKS = ("plans_initial", "plans_latest")
SHARING_TITLES = {
    "sharing_parents": "Reports shared with parents, by agency",
    "sharing_qau": "Reports sent to the QA Unit, by agency",
}
# Colour only adds to the words and blocks: involvement is good, an apology or "by SW" is a
# warning, absence or no invitation is bad, an unrecorded log is muted.
_TONE = {
    GP_OUTCOME_LABELS[GPOutcome.ATTENDED]: "good",
    GP_OUTCOME_LABELS[GPOutcome.PROVIDED_REPORT]: "good",
    GP_OUTCOME_LABELS[GPOutcome.SENT_APOLOGY]: "warn",
    GP_OUTCOME_LABELS[GPOutcome.ABSENT]: "bad",
    GP_OUTCOME_LABELS[GPOutcome.LOG_NOT_COMPLETED]: "muted",
    GP_INVITED_LABELS[GPInvited.YES]: "good",
    GP_INVITED_LABELS[GPInvited.BY_SW]: "warn",
    GP_INVITED_LABELS[GPInvited.NO]: "bad",
    INVITE_NOT_RECORDED: "muted",
}
# Each part of a sharing bar has its own block, so the bar reads without colour.
SHARING_PARTS = (
    (Sharing.ON_TIME, "█", "good"),
    (Sharing.LATE, "▓", "warn"),
    (Sharing.MISSING, "░", "bad"),
    (Sharing.NOT_YET_DUE, "╌", "muted"),
)


@dataclass(frozen=True)
class TeamStats:
    """The three statistics for one period, as `sofs stats` computes them."""

    period: Period
    gp: tuple[StatTable, ...]
    gp_counted: str
    sharing: tuple[StatTable, ...]
    sharing_counted: str
    plans: tuple[StatTable, ...]
    plans_counted: str


def read_team_stats(store: Store, period: Period, rules: CouncilRules) -> TeamStats:
    """One unit of work: the same calls as `sofs stats gp|sharing|plans`."""
    from sofs_tui.exports import stats

    gp, gp_counted = stats.gp_statistics(store, period.first, period.last)
    sharing, sharing_counted = stats.sharing_statistics(store, period.first, period.last, rules)
    plans, plans_counted = stats.plan_statistics(store, period.on)
    return TeamStats(
        period, tuple(gp), gp_counted, tuple(sharing), sharing_counted, tuple(plans), plans_counted
    )


# --- what a table and its chart show -----------------------------------------------------------


def table_bars(table: StatTable, label_of: Mapping[str, str] | None = None) -> list[Bar]:
    """One bar a category (not the total), each out of what the percentages are of."""
    bars = []
    for row in table.rows:
        if row.category == TOTAL:
            continue
        shown = format_percent(row.percent)
        if table.table == "gp_involvement":
            figure = f"{row.count} of {table.denominator} = {shown or '-'}%"
        else:
            figure = f"{row.count} · {shown}%" if shown else str(row.count)
        tone = "good" if table.table == "gp_involvement" else _TONE.get(row.category, "")
        label = (label_of or {}).get(row.category, row.category)
        bars.append(Bar(label, (Segment(row.count, tone=tone),), table.denominator, figure))
    return bars


def chart_caption(table: StatTable) -> str:
    if table.denominator <= 0:
        return "Nothing to count in this period."
    return f"Bar length: share {table.denominator_label} ({table.denominator})."


def sharing_rows(tables: Sequence[StatTable], target: str) -> list[StatTable]:
    """One target's tables, all agencies first, then each agency in name order."""
    mine = [t for t in tables if t.table.partition(":")[0] == target]
    return sorted(mine, key=lambda t: t.table.partition(":")[2] != ALL_AGENCIES)


def sharing_columns(rows: Sequence[StatTable]) -> list[Sharing]:
    """On time, late and missing always; not yet due only when some report is."""
    shown: list[Sharing] = [s for s in Sharing if s is not Sharing.NOT_YET_DUE]
    if any(r.category == Sharing.NOT_YET_DUE.label for t in rows for r in t.rows):
        shown.append(Sharing.NOT_YET_DUE)
    return shown


def sharing_cell(table: StatTable, part: Sharing) -> str:
    """ "2 (50.0%)"; "0" where there are no reports to take a share of."""
    row = next((r for r in table.rows if r.category == part.label), None)
    if row is None:
        return "0"
    shown = format_percent(row.percent)
    return f"{row.count} ({shown}%)" if shown else str(row.count)


def sharing_bar(table: StatTable) -> Bar:
    counts = {r.category: r.count for r in table.rows}
    segments = tuple(
        Segment(counts.get(part.label, 0), fill, tone) for part, fill, tone in SHARING_PARTS
    )
    on_time = next(r for r in table.rows if r.category == Sharing.ON_TIME.label)
    shown = format_percent(on_time.percent)
    figure = f"{shown}% on time" if shown else "no reports"
    return Bar(table.table.partition(":")[2], segments, table.denominator, figure)


SHARING_LEGEND = tuple(
    LegendItem(fill, part.label.lower(), tone) for part, fill, tone in SHARING_PARTS
)
PLAN_LABELS = {c.value: f"{c.label} ({c.value})" for c in PlanCategory}
# The involvement line is long for a chart label; the table beside it has it in full.
GP_CHART_LABELS = {INVOLVEMENT_LABEL: "GP attended or reported"}


# --- the screen ----------------------------------------------------------------------------------


class TeamStatsScreen(StoreScreen):
    """The team's statistics for a period, each table with its chart."""

    CSS_PATH = STYLES / "team_stats.tcss"
    PALETTE_GROUP = "team"
    HELP: ClassVar[str] = """\
## Team statistics

For managers: the team's numbers for a period, each table beside a bar chart. Tabs:
**1** GP involvement, **2** report sharing (on time, late, missing, per agency), **3** children
subject to a plan (initial and latest category). The numbers are those of `sofs stats`.

- **p** change the period (from, to, and the day plans are counted on)
- **i** import a QA Unit log (CSV): it counts here at once
- **↑ ↓ PgUp PgDn** scroll · **f5** refresh · **escape** back

Bars: a full bar is the whole the percentages are of; the numbers are written beside each
bar. Sharing bars: █ on time, ▓ late, ░ missing, ╌ not yet due.
"""
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("p", "change_period", "Change period", id="team_stats.change_period"),
        Binding("i", "import_log", "Import QAU log", id="team_stats.import_log"),
        Binding("1", "show_tab('gp')", "GP involvement", id="team_stats.tab_gp", show=False),
        Binding(
            "2", "show_tab('sharing')", "Report sharing", id="team_stats.tab_sharing", show=False
        ),
        Binding(
            "3", "show_tab('plans')", "Children on a plan", id="team_stats.tab_plans", show=False
        ),
        Binding("f5", "refresh", "Refresh", id="team_stats.refresh", show=False),
        Binding("escape", "back", "Back", id="team_stats.back"),
    ]

    def __init__(self, period: Period | None = None) -> None:
        super().__init__()
        self.period = period
        self.shown: TeamStats | None = None
        self._loads = 0  # only the newest load is painted

    def compose(self) -> ComposeResult:
        yield Header()
        yield PlainText("Counting…", id="team-period", multiline=False)
        with TabbedContent(id="team-tabs", initial="tab-gp"):
            with TabPane("GP involvement", id="tab-gp"), VerticalScroll(id="pane-gp"):
                yield PlainText("", id="counted-gp", classes="counted")
                for block in GP_BLOCKS:
                    yield from self._block(block)
            with TabPane("Report sharing", id="tab-sharing"), VerticalScroll(id="pane-sharing"):
                yield PlainText("", id="counted-sharing", classes="counted")
                for block in SHARING_BLOCKS:
                    yield from self._block(block)
            with TabPane("Children on a plan", id="tab-plans"), VerticalScroll(id="pane-plans"):
                yield PlainText("", id="counted-plans", classes="counted")
                for block in PLAN_BLOCKS:
                    yield from self._block(block)
        yield KeysFooter()

    @staticmethod
    def _block(block: str) -> ComposeResult:
        yield PlainText("", id=f"title-{block}", classes="stat-title", multiline=False)
        with Vertical(classes="stat-body"):
            table: DataTable[Text] = DataTable(
                id=f"table-{block}", cursor_type="none", show_cursor=False, zebra_stripes=True
            )
            table.can_focus = False  # the pane scrolls; the tables are only read
            yield table
            yield BarChart(id=f"chart-{block}")

    def on_mount(self) -> None:
        self.set_class(self.size.width >= WIDE, "-wide")
        if self.period is None:
            self.period = default_period(self.store.now().astimezone(COUNCIL_TZ).date())
        self.query_one("#pane-gp", VerticalScroll).focus()
        self.load()

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width >= WIDE, "-wide")

    # --- loading ---------------------------------------------------------------------------

    def load(self) -> None:
        period = self.period
        assert period is not None
        self._loads += 1
        seq = self._loads
        rules = self.sofs.settings.council
        self.query_one("#team-period", PlainText).show(
            f"Counting conferences from {day_words(period.first)} to {day_words(period.last)}…"
        )
        self.run_store(
            lambda store: read_team_stats(store, period, rules),
            lambda found: self._show(seq, found),
            description="team statistics",
        )

    def _show(self, seq: int, found: TeamStats) -> None:
        if seq != self._loads:
            return  # a newer period or import has been asked for
        self.shown = found
        period = found.period
        self.query_one("#team-period", PlainText).show(
            f"Conferences from {day_words(period.first)} to {day_words(period.last)} · "
            f"plans on {day_words(period.on)}"
        )
        self.query_one("#counted-gp", PlainText).show(found.gp_counted)
        self.query_one("#counted-sharing", PlainText).show(found.sharing_counted)
        self.query_one("#counted-plans", PlainText).show(found.plans_counted)
        for table in found.gp:
            self._fill_table(table, GP_CHART_LABELS)
        for table in found.plans:
            self._fill_table(table, PLAN_LABELS)
        for target in SHARING_BLOCKS:
            self._fill_sharing(target, sharing_rows(found.sharing, target))

    def _fill_table(self, table: StatTable, label_of: Mapping[str, str] | None = None) -> None:
        block = table.table
        self.query_one(f"#title-{block}", PlainText).show(table.title)
        grid = self.query_one(f"#table-{block}", DataTable)
        grid.clear(columns=True)
        grid.add_column(table.header, key="category")
        grid.add_column(Text("Number", justify="right"), key="count")
        grid.add_column(Text("%", justify="right"), key="percent")
        for row in table.rows:
            style = "bold" if row.category == TOTAL else ""
            grid.add_row(
                safe_text(row.category, style=style),
                Text(str(row.count), style=style, justify="right"),
                Text(format_percent(row.percent), style=style, justify="right"),
            )
        self.query_one(f"#chart-{block}", BarChart).show(
            table_bars(table, label_of), caption=chart_caption(table)
        )

    def _fill_sharing(self, target: str, rows: list[StatTable]) -> None:
        self.query_one(f"#title-{target}", PlainText).show(SHARING_TITLES[target])
        parts = sharing_columns(rows)
        grid = self.query_one(f"#table-{target}", DataTable)
        grid.clear(columns=True)
        grid.add_column("Agency", key="agency")
        for part in parts:
            grid.add_column(Text(part.label, justify="right"), key=part.value)
        grid.add_column(Text(TOTAL, justify="right"), key="total")
        for table in rows:
            agency = table.table.partition(":")[2]
            style = "bold" if agency == ALL_AGENCIES else ""
            grid.add_row(
                safe_text(agency, style=style),
                *(Text(sharing_cell(table, p), style=style, justify="right") for p in parts),
                Text(str(table.denominator), style=style, justify="right"),
            )
        legend = [
            item
            for item, (part, _, _) in zip(SHARING_LEGEND, SHARING_PARTS, strict=True)
            if part in parts
        ]
        self.query_one(f"#chart-{target}", BarChart).show(
            [sharing_bar(t) for t in rows],
            legend=legend,
            caption="Each bar is all of that agency's reports.",
        )

    # --- actions ---------------------------------------------------------------------------

    def action_change_period(self) -> None:
        assert self.period is not None

        def chosen(period: Period | None) -> None:
            if period is not None:
                self.period = period
                self.load()

        self.app.push_screen(PeriodForm(self.period), chosen)

    def action_import_log(self) -> None:
        from sofs_tui.screens.import_dialog import ImportDialog

        self.app.push_screen(ImportDialog(), self._imported)

    def _imported(self, summary: ImportSummary | None) -> None:
        if summary is None:
            return
        said = f"Imported {summary.conferences} conferences ({summary.reports} with a report)."
        period = self.period
        first, last = summary.first, summary.last
        if (
            first is not None
            and last is not None
            and period is not None
            and (first < period.first or last > period.last)
        ):
            self.period = period.covering(first, last)
            said += (
                f" They start from {day_words(first)} to {day_words(last)}, "
                "so the period now covers them (p to change it)."
            )
        self.notify(said, markup=False, timeout=10)
        self.load()

    def action_show_tab(self, tab: str) -> None:
        if tab not in TABS:
            return
        self.query_one(TabbedContent).active = f"tab-{tab}"
        self.query_one(f"#pane-{tab}", VerticalScroll).focus()

    def action_refresh(self) -> None:
        self.load()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 1:
            self.app.pop_screen()
