"""The app's log: event types and references only, never text, names, locals or tracebacks.

Logs leave the encrypted store (IT reads them, backups copy them), so nothing a worker typed may
reach them (SECURITY R16, R18). Every record goes through `log_event`, whose values must look
like references (ids, counts, type names); anything else is written as `<redacted>`. The file
handler also drops any traceback a library might attach. An unexpected error is logged as an
incident id, the exception's type and where in our code it happened: enough for IT to match a
worker's report to a bug, nothing about the case.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from types import TracebackType
from typing import Any

LOGGER_NAME = "sofs"
LOG_FILE_NAME = "sofs.log"
_MAX_BYTES = 1_000_000
_BACKUPS = 3
_REFERENCE = re.compile(r"[A-Za-z0-9_.:/\-]{0,120}")

logger = logging.getLogger(LOGGER_NAME)


def _private_rotating_file(path: Path) -> logging.Handler:
    """A rotating handler on `path` that creates each log file readable by its owner only (it
    holds case references)."""
    from logging.handlers import RotatingFileHandler

    class PrivateRotatingFileHandler(RotatingFileHandler):
        def _open(self) -> Any:
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            descriptor = os.open(self.baseFilename, flags, 0o600)
            return os.fdopen(descriptor, self.mode, encoding=self.encoding, errors=self.errors)

    handler = PrivateRotatingFileHandler(
        path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8"
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    return handler


class _OpenedOnFirstRecord(logging.Handler):
    """The log file, opened when the first record comes: neither the rotating handler's
    module (about 1 ms) nor the file is needed before the app's first frame."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path
        self._file: logging.Handler | None = None

    def emit(self, record: logging.LogRecord) -> None:
        # `handle` holds this handler's lock: one thread at a time comes here.
        if self._file is None:
            try:
                self._file = _private_rotating_file(self.path)
            except OSError:
                self.handleError(record)
                return
        self._file.emit(record)

    def close(self) -> None:
        self.acquire()
        try:
            if self._file is not None:
                self._file.close()
                self._file = None
        finally:
            self.release()
        super().close()


class _NoTracebacks(logging.Filter):
    """Tracebacks carry exception messages and source lines: never written."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


def configure_logging(log_dir: Path) -> Path:
    """Send the `sofs` logger to a private rotating file in `log_dir` (created with the first
    record); returns its path.

    Other libraries' records go nowhere (a NullHandler on the root logger stops Python's
    last-resort handler writing them over the screen).
    """
    log_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = log_dir / LOG_FILE_NAME
    handler = _OpenedOnFirstRecord(path)
    handler.addFilter(_NoTracebacks())
    for old in list(logger.handlers):
        logger.removeHandler(old)
        old.close()
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)  # LOG_LEVEL=DEBUG changes nothing: there is no debug detail
    logger.propagate = False
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())
    return path


def close_logging() -> None:
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()


def _reference(value: object) -> str:
    text = str(value)
    return text if _REFERENCE.fullmatch(text) else "<redacted>"


def log_event(event: str, level: int = logging.INFO, **references: object) -> None:
    """Log `event` (a fixed name like "lock" or "incident") with reference-like values only."""
    parts = [f"event={_reference(event)}"]
    parts += [f"{name}={_reference(value)}" for name, value in references.items()]
    logger.log(level, " ".join(parts))


def new_incident_id() -> str:
    """Eight letters and digits a worker can read out over the phone."""
    return os.urandom(4).hex().upper()  # what secrets.token_hex does, without its imports


def _where(traceback: TracebackType | None) -> str:
    """The innermost frame of our own code: module path and line number, no values."""
    place = "unknown"
    package = Path(__file__).resolve().parent
    while traceback is not None:
        filename = Path(traceback.tb_frame.f_code.co_filename)
        if filename.is_relative_to(package):
            relative = filename.relative_to(package.parent).with_suffix("")
            place = f"{'.'.join(relative.parts)}:{traceback.tb_lineno}"
        traceback = traceback.tb_next
    return place


def log_incident(error: BaseException, incident: str | None = None) -> str:
    """Record an unexpected error as its incident id, type and place; returns the id."""
    incident = incident or new_incident_id()
    kind = type(error)
    log_event(
        "incident",
        logging.ERROR,
        incident=incident,
        type=f"{kind.__module__}.{kind.__qualname__}",
        at=_where(error.__traceback__),
    )
    return incident


def crash_message(incident: str) -> str:
    """What the terminal shows after a crash: the incident id and what to do, nothing else."""
    return (
        f"sofs stopped unexpectedly (incident {incident}). Your saved work is safe: every "
        "save is all or nothing.\nTell IT the incident number, then start sofs again."
    )
