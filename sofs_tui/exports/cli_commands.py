"""`sofs export …`, `sofs stats …` and `sofs import conferences`: documents, tables and QA Unit
log imports without the screen.

Only argparse is imported at module level (cli.py imports this to build `--help`, which must
stay instant); the store, the renderers and fpdf2 load inside the command that needs them. The
passphrase comes as for every command: a prompt, or one line on stdin with --passphrase-stdin.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from sofs_tui.config import Settings
    from sofs_tui.store.store import Store


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-03-31"
        ) from None


def _period(parser: argparse.ArgumentParser, *, required: bool) -> None:
    parser.add_argument(
        "--from",
        dest="first",
        type=_day,
        required=required,
        metavar="DATE",
        help="first day of the period (conferences starting on or after it)",
    )
    parser.add_argument(
        "--to",
        dest="last",
        type=_day,
        required=required,
        metavar="DATE",
        help="last day of the period (inclusive)",
    )


def add_export_commands(subparsers: Any) -> None:
    """Add `export`, `stats` and `import` to the `sofs` subcommands."""
    export = subparsers.add_parser(
        "export", help="make a document: a summary for parents or a QA Unit pack"
    )
    documents = export.add_subparsers(dest="export_kind", metavar="DOCUMENT", required=True)
    summary = documents.add_parser(
        "parent-summary", help="plain-language summary of an assessment and its plan"
    )
    which = summary.add_mutually_exclusive_group(required=True)
    which.add_argument("--assessment", metavar="ID", help="the assessment's id")
    which.add_argument(
        "--case", metavar="REF", help="a case reference: its signed-off (else latest) assessment"
    )
    summary.add_argument("--format", choices=("text", "html", "pdf"), default="text")
    summary.add_argument("--out", type=Path, metavar="FILE", help="write here (PDF needs it)")
    pack = documents.add_parser("qau-pack", help="reports, sharing log and GP involvement")
    pack.add_argument("--conference", required=True, metavar="ID", help="the conference's id")
    pack.add_argument("--format", choices=("html", "pdf", "csv"), default="html")
    pack.add_argument("--out", type=Path, metavar="FILE", help="write here (PDF needs it)")

    stats = subparsers.add_parser("stats", help="the team's statistics as tables or CSV")
    tables = stats.add_subparsers(dest="stats_kind", metavar="TABLES", required=True)
    for name, words in (
        ("gp", "GP invitation, outcome and involvement for conferences in a period"),
        ("sharing", "reports shared with parents and sent to the QA Unit on time, per agency"),
    ):
        command = tables.add_parser(name, help=words)
        _period(command, required=True)
        command.add_argument("--csv", action="store_true", help="table,category,count,percent")
    plans = tables.add_parser("plans", help="children subject to a plan, by category")
    plans.add_argument("--on", type=_day, metavar="DATE", help="the day to count (default today)")
    plans.add_argument("--csv", action="store_true", help="table,category,count,percent")
    plans.add_argument(
        "--census", action="store_true", help="one CSV row per child's plan (census-shaped)"
    )
    _period(plans, required=False)

    imports = subparsers.add_parser("import", help="bring in records from other systems")
    sources = imports.add_subparsers(dest="import_kind", metavar="WHAT", required=True)
    log = sources.add_parser("conferences", help="a QA Unit conference log (CSV)")
    log.add_argument("file", type=Path, metavar="FILE.csv")


def _settings(args: argparse.Namespace) -> Settings:
    from sofs_tui.cli import _paths
    from sofs_tui.config import load_settings

    return load_settings(_paths(args).settings_file)


def _write_private(path: Path, data: bytes) -> None:
    """Write a document readable by its owner only: it holds case information."""
    from sofs_tui.exports.document import ExportError

    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ExportError(f"Could not write {path} ({exc.strerror}).") from None


def _deliver(data: bytes, args: argparse.Namespace, out: TextIO, what: str) -> None:
    from sofs_tui.exports.document import ExportError

    if args.out is None:
        if args.format == "pdf":
            raise ExportError("A PDF cannot be printed here: add --out FILE.pdf.")
        out.write(data.decode("utf-8"))
        return
    _write_private(args.out, data)
    print(f"Saved the {what} to {args.out}.", file=out)


def _export(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from sofs_tui.domain.calendar import default_calendar
    from sofs_tui.exports.render import render

    rules = _settings(args).council
    now = store.now()
    if args.export_kind == "parent-summary":
        from sofs_tui.exports.parent_summary import build_parent_summary
        from sofs_tui.store.export_views import parent_summary_source

        source = parent_summary_source(
            store, assessment_id=args.assessment, case_reference=args.case
        )
        document = build_parent_summary(source, rules, now)
        _deliver(render(document, args.format, now), args, out, "summary for the family")
        return 0
    from sofs_tui.exports.qau_pack import build_qau_pack, qau_pack_csv
    from sofs_tui.store.export_views import qau_pack_source

    pack = qau_pack_source(store, args.conference)
    if args.format == "csv":
        data = qau_pack_csv(pack, rules, default_calendar(), now).encode("utf-8")
    else:
        data = render(build_qau_pack(pack, rules, default_calendar(), now), args.format, now)
    _deliver(data, args, out, "QA Unit pack")
    return 0


def _stats(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from sofs_tui.exports import stats
    from sofs_tui.exports.document import ExportError

    first, last = args.first, args.last
    if first is not None and last is not None and first > last:
        raise ExportError("--from must be on or before --to.")
    if args.stats_kind == "plans" and args.census:
        out.write(stats.census_csv(store, first, last))
        return 0
    if args.stats_kind == "gp":
        tables, counted = stats.gp_statistics(store, first, last)
        title = "GP involvement in child protection conferences"
    elif args.stats_kind == "sharing":
        shared, counted = stats.sharing_statistics(store, first, last, _settings(args).council)
        tables, title = tuple(shared), "Reports shared with parents and sent to the QA Unit"
    else:
        from sofs_tui.exports.document import local_day

        on = args.on or local_day(store.now())
        tables, counted = stats.plan_statistics(store, on)
        title = "Children subject to a child protection plan"
    out.write(stats.tables_csv(tables) if args.csv else stats.tables_text(title, counted, tables))
    return 0


def _import(store: Store, args: argparse.Namespace, out: TextIO) -> int:
    from sofs_tui.exports.import_conferences import import_conferences

    summary = import_conferences(store, args.file)
    period = ""
    if summary.first is not None and summary.last is not None:
        period = f", starting from {summary.first.isoformat()} to {summary.last.isoformat()}"
    print(
        f"Imported {summary.conferences} conferences ({summary.reports} with a report) from "
        f"{args.file.name}{period}. They now count in `sofs stats gp` and `sofs stats sharing`."
        f" (Import {summary.import_id}.)",
        file=out,
    )
    return 0


_RUNNERS = {"export": _export, "stats": _stats, "import": _import}


def run_export_command(args: argparse.Namespace, stdin: TextIO, out: TextIO) -> int:
    """Run `export`, `stats` or `import`; a problem the user can fix is printed to stderr as
    one message (no traceback) and returns 1."""
    from sofs_tui.cli import CliError, _unlock
    from sofs_tui.config import SettingsError
    from sofs_tui.exports.document import ExportError
    from sofs_tui.store.errors import StoreError

    try:
        store = _unlock(args, stdin)
        try:
            return _RUNNERS[args.command](store, args, out)
        finally:
            store.lock()
    except ExportError as exc:
        print(exc.user_message, file=sys.stderr)
    except StoreError as exc:
        print(exc.user_message, file=sys.stderr)
    except (CliError, SettingsError) as exc:
        print(exc, file=sys.stderr)
    return 1
