"""Run a command in a pseudo-terminal and keep every byte it writes to the "terminal".

Used for what only a real terminal shows: what is left in scrollback after a crash or a
hang-up, and which escape sequences the app actually sends.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pty
import select
import signal
import struct
import sys
import termios
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ENTER = b"\r"
CTRL_Q = b"\x11"
F12 = b"\x1b[24~"
LEAVE_ALT_SCREEN = b"\x1b[?1049l"


def child_env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm-256color", **extra}
    for name in ("NO_COLOR", "TEXTUAL", "COLUMNS", "LINES"):
        env.pop(name, None)
    return env


class PtySession:
    """One child process on its own pseudo-terminal (80×24 unless told otherwise)."""

    def __init__(self, argv: list[str], *, cols: int = 80, rows: int = 24) -> None:
        env = child_env()
        pid, fd = pty.fork()
        if pid == 0:  # the child: size its terminal, then become the command
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            os.execvpe(argv[0], argv, env)
        self.pid = pid
        self.fd: int | None = fd
        self.output = bytearray()
        self.status: int | None = None

    def _read(self, timeout: float) -> bool:
        """Read what is there; False once the terminal is closed (the child has gone)."""
        if self.fd is None:
            return False
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.fd, 65536)
        except OSError as exc:
            if exc.errno != errno.EIO:
                raise
            return False
        self.output += data
        return bool(data)

    def read_until(self, marker: bytes, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while marker not in self.output:
            if time.monotonic() > deadline or not self._read(0.1):
                tail = bytes(self.output[-2000:])
                raise AssertionError(f"{marker!r} never appeared; last output: {tail!r}")

    def send(self, data: bytes) -> None:
        assert self.fd is not None
        os.write(self.fd, data)

    def wait(self, timeout: float = 30.0) -> int:
        """Read until the child exits; its exit code (negative: killed by that signal)."""
        deadline = time.monotonic() + timeout
        while self._read(0.1) and time.monotonic() < deadline:
            pass
        while time.monotonic() < deadline:
            done, status = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(status)
                self.close()
                return self.status
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"still running after {timeout} s; output: {bytes(self.output)!r}")

    def hang_up(self) -> None:
        """Close the terminal, as closing its window does: the kernel sends SIGHUP."""
        self.close()

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def kill(self) -> None:
        try:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        self.close()

    def scrollback(self) -> bytes:
        """What stays in the terminal after the app leaves its alternate screen."""
        _, _, after = bytes(self.output).rpartition(LEAVE_ALT_SCREEN)
        return after


def sofs(*args: str) -> list[str]:
    return [sys.executable, "-m", "sofs_tui", *args]
