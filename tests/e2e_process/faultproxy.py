"""A small TCP fault proxy on 127.0.0.1 between `sofs sync` and `sofs serve` (reference/sync.md
§5.1 layer B, the fallback for Toxiproxy).

It runs its own asyncio loop on a thread, so a test (sync or async) sets a fault and then runs
a client in a subprocess or in process. A fault targets the requests whose request line starts
with `match` (HTTP/1.1 without pipelining: a client's next bytes after a response are the next
request), `times` times, then the proxy passes traffic again. Modes:

- `refuse`: nothing listens on the port (connections are refused), until `clear()`;
- `delay`: the request reaches the service `seconds` late (the client may have given up);
- `hang`: the request never reaches the service and no answer comes;
- `reset_after_bytes`: the service's answer passes up to `after_bytes` bytes of its body, then
  the client's connection is reset (RST), as when a link drops after the service committed;
- `truncate`: the same, but the connection is closed cleanly (FIN) mid-body.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["refuse", "delay", "hang", "reset_after_bytes", "truncate"]
HOST = "127.0.0.1"
_CHUNK = 65536


@dataclass
class Fault:
    mode: Mode
    match: str = ""  # a request line prefix, e.g. "POST /sync/v1/push"; "" = any request
    seconds: float = 0.0  # delay
    after_bytes: int = 0  # reset_after_bytes / truncate: body bytes let through first
    times: int = 1  # requests it applies to


@dataclass(eq=False)  # kept in a set, by identity
class _Connection:
    client_writer: asyncio.StreamWriter
    upstream_writer: asyncio.StreamWriter
    at_request_start: bool = True
    fault: Fault | None = None
    response_head: bytearray = field(default_factory=bytearray)
    body_passed: int = 0


class FaultProxy:
    """`FaultProxy(upstream_port).start()`; `.port` is where clients connect."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = 0
        #: Request lines seen, in order (method and path only), and faults that fired.
        self.requests: list[str] = []
        self.fired: list[str] = []
        #: Requests a `delay` fault held and then handed to the service.
        self.delivered_late = 0
        self._fault: Fault | None = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.Server | None = None
        self._connections: set[_Connection] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    # --- Control, from the test's thread -------------------------------------------------------

    def start(self) -> FaultProxy:
        self._thread.start()
        self._call(self._listen())
        return self

    def set(self, fault: Fault) -> None:
        with self._lock:
            self._fault = fault
        if fault.mode == "refuse":
            self._call(self._refuse())

    def clear(self) -> None:
        with self._lock:
            self._fault = None
        if self._server is None:
            self._call(self._listen())

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        if not self._thread.is_alive():
            return
        self._call(self._shutdown())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    # --- The loop's side -------------------------------------------------------------------------

    async def _listen(self) -> None:
        self._server = await asyncio.start_server(self._accept, HOST, self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _refuse(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for connection in list(self._connections):
            connection.client_writer.transport.abort()
            connection.upstream_writer.transport.abort()
        if server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=2)

    async def _shutdown(self) -> None:
        await self._refuse()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _claim(self, request_line: str) -> Fault | None:
        """The fault for this request, counting it off; None to pass it through."""
        method, _, rest = request_line.partition(" ")
        path = rest.split(" ", 1)[0].split("?", 1)[0]  # no query: cursors are opaque noise
        self.requests.append(f"{method} {path}")
        with self._lock:
            fault = self._fault
            if fault is None or fault.mode == "refuse" or not request_line.startswith(fault.match):
                return None
            fault.times -= 1
            if fault.times <= 0:
                self._fault = None
            self.fired.append(f"{fault.mode} {path}")
            return Fault(fault.mode, fault.match, fault.seconds, fault.after_bytes, 1)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            try:
                up_reader, up_writer = await asyncio.open_connection(HOST, self.upstream_port)
            except OSError:  # the service is down: the client sees its connection reset
                _reset(writer)
                return
            connection = _Connection(writer, up_writer)
            self._connections.add(connection)
            try:
                await asyncio.gather(
                    self._requests(reader, connection), self._responses(up_reader, connection)
                )
            finally:
                self._connections.discard(connection)
                writer.transport.abort()
                up_writer.transport.abort()
        except (OSError, asyncio.CancelledError):
            pass
        finally:
            self._tasks.discard(task)

    async def _requests(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        """Client to service: spot each request's first line, and delay or swallow it."""
        upstream = connection.upstream_writer
        while True:
            data = await reader.read(_CHUNK)
            if not data:
                if connection.fault is None or connection.fault.mode != "delay":
                    with contextlib.suppress(OSError):
                        upstream.write_eof()
                return
            if connection.at_request_start:
                connection.at_request_start = False
                line = data.split(b"\r\n", 1)[0].decode("latin-1")
                connection.fault = self._claim(line)
                connection.response_head.clear()
                connection.body_passed = 0
                fault = connection.fault
                if fault is not None and fault.mode == "delay":
                    # Hand the request over late, whatever the client does meanwhile.
                    rest = await _read_available(reader)
                    self._tasks.add(asyncio.create_task(self._late(upstream, data + rest, fault)))
                    continue
            fault = connection.fault
            if fault is not None and fault.mode == "hang":
                continue
            if fault is not None and fault.mode == "delay":
                continue  # the client sent more after the held request: it is stale
            upstream.write(data)
            await upstream.drain()

    async def _late(self, upstream: asyncio.StreamWriter, data: bytes, fault: Fault) -> None:
        task = asyncio.current_task()
        try:
            await asyncio.sleep(fault.seconds)
            upstream.write(data)
            await upstream.drain()
            self.delivered_late += 1
        except OSError:
            pass
        finally:
            if task is not None:
                self._tasks.discard(task)

    async def _responses(self, reader: asyncio.StreamReader, connection: _Connection) -> None:
        """Service to client: pass the answer, or cut it after some bytes of its body."""
        client = connection.client_writer
        while True:
            data = await reader.read(_CHUNK)
            if not data:
                client.close()
                return
            connection.at_request_start = True
            fault = connection.fault
            if fault is None or fault.mode not in ("reset_after_bytes", "truncate"):
                with contextlib.suppress(OSError):
                    client.write(data)
                    await client.drain()
                continue
            allowed, cut = _cut(connection, data, fault.after_bytes)
            client.write(allowed)
            await client.drain()
            if not cut:
                continue
            await asyncio.sleep(0.05)  # let the client read what it was given
            if fault.mode == "reset_after_bytes":
                _reset(client)
            else:
                client.close()
            connection.upstream_writer.transport.abort()
            return


def _cut(connection: _Connection, data: bytes, body_bytes: int) -> tuple[bytes, bool]:
    """The part of `data` to pass when only `body_bytes` of the body may pass; and whether
    the connection is to be cut after it."""
    passed = bytearray()
    if b"\r\n\r\n" not in connection.response_head:
        before = len(connection.response_head)
        connection.response_head += data
        end = connection.response_head.find(b"\r\n\r\n")
        if end < 0:
            return data, False
        head_part = end + 4 - before
        passed += data[:head_part]
        data = data[head_part:]
    room = body_bytes - connection.body_passed
    passed += data[:room]
    connection.body_passed += min(room, len(data))
    return bytes(passed), len(data) >= room


async def _read_available(reader: asyncio.StreamReader) -> bytes:
    """What else the client sends right away (the rest of a request's body)."""
    rest = b""
    while True:
        try:
            more = await asyncio.wait_for(reader.read(_CHUNK), timeout=0.05)
        except TimeoutError:
            return rest
        if not more:
            return rest
        rest += more


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with RST (SO_LINGER 0) rather than FIN: a dropped link, not a finished answer."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
