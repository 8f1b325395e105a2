"""Import of QA Unit conference logs (CSV) so years of spreadsheets count in the statistics.

Every row is checked before anything is stored, and the rows are stored in one transaction:
a file with one bad row imports nothing, and the error names each bad row and column.
The accepted columns and values are documented in README.md ("Importing QA Unit logs").
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from sofs_tui.domain.calendar import COUNCIL_TZ
from sofs_tui.domain.enums import ConferenceKind, GPInvited, GPOutcome
from sofs_tui.domain.statistics import GP_INVITED_LABELS, GP_OUTCOME_LABELS
from sofs_tui.domain.text import clean_text
from sofs_tui.exports.document import ExportError
from sofs_tui.store.stats_views import (
    LogConferenceRow,
    LogReportRow,
    imported_source_ids,
    save_qau_log,
)
from sofs_tui.store.store import Store

REQUIRED_COLUMNS = ("conference_id", "date", "kind", "gp_invited", "gp_outcome")
REPORT_COLUMNS = ("report_agency", "report_shared_at", "report_sent_to_qau_at")
MAX_ID_LENGTH = 100
MAX_AGENCY_LENGTH = 200
_FIRST_YEAR, _LAST_YEAR = 1980, 2100
_SHOWN_PROBLEMS = 30


def _key(text: str) -> str:
    """Case, spacing and hyphens do not matter when matching a category."""
    return re.sub(r"[\s_\-]+", " ", text.strip().casefold())


def _vocabulary(pairs: Sequence[tuple[str, object]]) -> dict[str, object]:
    return {_key(word): value for word, value in pairs}


_KINDS = _vocabulary(
    [(k.value, k) for k in ConferenceKind]
    + [(k.label, k) for k in ConferenceKind]
    + [("icpc", ConferenceKind.INITIAL), ("rcpc", ConferenceKind.REVIEW)]
)
_INVITED = _vocabulary(
    [(i.value, i) for i in GPInvited]
    + [(label, i) for i, label in GP_INVITED_LABELS.items()]
    + [(i.label, i) for i in GPInvited]
)
_OUTCOMES = _vocabulary(
    [(o.value, o) for o in GPOutcome]
    + [(label, o) for o, label in GP_OUTCOME_LABELS.items()]
    + [(o.label, o) for o in GPOutcome]
)


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: `row` counts as a spreadsheet does (the header is row 1)."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = "the header" if self.row == 1 else f"row {self.row}"
        return f"{where}, column {self.column}: {self.message}"


class ImportRejected(ExportError):
    """The file was not imported; `problems` lists every bad row and column."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"- {p}" for p in self.problems[:_SHOWN_PROBLEMS])
        more = len(self.problems) - _SHOWN_PROBLEMS
        tail = f"\n- … and {more} more" if more > 0 else ""
        super().__init__(
            f"Nothing was imported: fix these rows and import the whole file again.\n{shown}{tail}"
        )


@dataclass(frozen=True)
class ParsedLog:
    """A checked log: its conferences, and the spreadsheet row each came from."""

    rows: tuple[LogConferenceRow, ...]
    row_numbers: Mapping[str, int]


@dataclass(frozen=True)
class ImportSummary:
    import_id: str
    conferences: int
    reports: int
    first: date | None
    last: date | None


def _moment(text: str, tz: ZoneInfo) -> tuple[datetime, bool] | None:
    """An ISO 8601 date or date and time; naive times are the council's. None if unreadable.
    The flag says whether a time of day was given."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = date.fromisoformat(text)
            return datetime.combine(day, time.min, tzinfo=tz), False
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment, True


class _Row:
    """One data row being checked; collects its problems."""

    def __init__(self, number: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.number = number
        self.cells = cells
        self.problems = problems

    def fail(self, column: str, message: str) -> None:
        self.problems.append(Problem(self.number, column, message))

    def text(self, column: str) -> str:
        return clean_text(self.cells.get(column, ""), multiline=False).strip()

    def choice(self, column: str, vocabulary: Mapping[str, object], codes: Sequence[str]) -> object:
        value = self.text(column)
        if not value:
            self.fail(column, f"is empty; write one of {', '.join(codes)}")
            return None
        found = vocabulary.get(_key(value))
        if found is None:
            self.fail(column, f"{value!r} is not a known category; write one of {', '.join(codes)}")
        return found

    def moment(self, column: str, tz: ZoneInfo, *, need_time: bool) -> tuple[datetime, bool] | None:
        value = self.text(column)
        if not value:
            self.fail(column, "is empty; write the date as ISO 8601, e.g. 2024-03-05")
            return None
        parsed = _moment(value, tz)
        if parsed is None:
            self.fail(
                column,
                f"{value!r} is not a date; write it as ISO 8601, e.g. 2024-03-05 or "
                "2024-03-05T10:00",
            )
            return None
        moment, has_time = parsed
        if not _FIRST_YEAR <= moment.year <= _LAST_YEAR:
            self.fail(column, f"{value!r} is not a plausible year ({_FIRST_YEAR}-{_LAST_YEAR})")
            return None
        if need_time and not has_time:
            self.fail(column, f"{value!r} needs a time of day too, e.g. {value}T10:00")
            return None
        return parsed


_KIND_CODES = [k.value for k in ConferenceKind]
_INVITED_CODES = [f"{GP_INVITED_LABELS[i]!r}" for i in GPInvited] + [i.value for i in GPInvited]
_OUTCOME_CODES = [f"{GP_OUTCOME_LABELS[o]!r}" for o in GPOutcome] + [o.value for o in GPOutcome]


def _check_row(row: _Row, tz: ZoneInfo) -> LogConferenceRow | None:
    before = len(row.problems)
    source_id = row.text("conference_id")
    if not source_id:
        row.fail("conference_id", "is empty; every conference needs the log's id")
    elif len(source_id) > MAX_ID_LENGTH:
        row.fail("conference_id", f"is longer than {MAX_ID_LENGTH} characters")
    has_report = any(row.text(c) for c in REPORT_COLUMNS)
    start = row.moment("date", tz, need_time=False)
    if start is not None and has_report and not start[1]:
        row.fail(
            "date",
            "needs the conference's start time when the row has report times, so their "
            "deadlines can be computed (e.g. 2024-03-05T10:00)",
        )
    kind = row.choice("kind", _KINDS, _KIND_CODES)
    invited = row.choice("gp_invited", _INVITED, _INVITED_CODES)
    outcome = row.choice("gp_outcome", _OUTCOMES, _OUTCOME_CODES)
    report: LogReportRow | None = None
    if has_report:
        agency = row.text("report_agency")
        if len(agency) > MAX_AGENCY_LENGTH:
            row.fail("report_agency", f"is longer than {MAX_AGENCY_LENGTH} characters")
        times: list[datetime | None] = []
        for column in ("report_shared_at", "report_sent_to_qau_at"):
            parsed = row.moment(column, tz, need_time=True) if row.text(column) else None
            times.append(parsed[0] if parsed else None)
        report = LogReportRow(agency, times[0], times[1])
    if len(row.problems) > before or start is None:
        return None
    assert isinstance(kind, ConferenceKind)
    assert isinstance(invited, GPInvited)
    assert isinstance(outcome, GPOutcome)
    return LogConferenceRow(source_id, start[0], start[1], kind, invited, outcome, report)


def parse_qau_log(text: str, tz: ZoneInfo = COUNCIL_TZ) -> ParsedLog:
    """Every row of a QA Unit log, checked; raises `ImportRejected` listing all problems."""
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise ImportRejected([Problem(1, "(all)", "the file is empty")])
    names = [h.strip().lower().lstrip("\ufeff") for h in header]
    problems: list[Problem] = []
    for column in REQUIRED_COLUMNS:
        if column not in names:
            problems.append(Problem(1, column, "is missing from the header"))
    for column in {n for n in names if n and names.count(n) > 1}:
        problems.append(Problem(1, column, "appears more than once in the header"))
    if problems:
        raise ImportRejected(problems)
    rows: list[LogConferenceRow] = []
    first_row_of: dict[str, int] = {}
    for number, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue  # blank lines between blocks of a spreadsheet
        if len(cells) > len(names):
            problems.append(
                Problem(number, "(all)", f"has {len(cells)} cells but the header has {len(names)}")
            )
            continue
        row = _Row(number, dict(zip(names, cells, strict=False)), problems)
        checked = _check_row(row, tz)
        source_id = row.text("conference_id")
        if source_id and source_id in first_row_of:
            row.fail("conference_id", f"{source_id!r} is also on row {first_row_of[source_id]}")
            continue
        if source_id:
            first_row_of[source_id] = number
        if checked is not None:
            rows.append(checked)
    if problems:
        raise ImportRejected(problems)
    if not rows:
        raise ImportRejected([Problem(2, "(all)", "the file has a header but no conferences")])
    return ParsedLog(tuple(rows), first_row_of)


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ExportError(
            'The file is not UTF-8 text. Save it from the spreadsheet as "CSV UTF-8" and '
            "import it again. Nothing was imported."
        ) from None


def import_conferences(store: Store, path: Path, tz: ZoneInfo = COUNCIL_TZ) -> ImportSummary:
    """Check and store a QA Unit log: all of it, or (with the reasons) none of it."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError(
            f"Could not read {path.name} ({exc.strerror}). Nothing was imported."
        ) from None
    parsed = parse_qau_log(_decode(data), tz)
    earlier = imported_source_ids(store, (r.source_id for r in parsed.rows))
    if earlier:
        raise ImportRejected(
            [
                Problem(
                    parsed.row_numbers[source_id],
                    "conference_id",
                    f"{source_id!r} was already imported on {imported_at.astimezone(tz):%Y-%m-%d}",
                )
                for source_id, imported_at in sorted(
                    earlier.items(), key=lambda item: parsed.row_numbers[item[0]]
                )
            ]
        )
    import_id = save_qau_log(store, parsed.rows, source_name=path.name)
    days = [r.starts_at.astimezone(tz).date() for r in parsed.rows]
    return ImportSummary(
        import_id=import_id,
        conferences=len(parsed.rows),
        reports=sum(1 for r in parsed.rows if r.report is not None),
        first=min(days),
        last=max(days),
    )
