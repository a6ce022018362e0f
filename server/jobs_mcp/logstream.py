"""Reading a log out of an HTTP answer as it arrives: entries are parsed one by one and fed to a digester, so
memory stays flat however long the log is (a year of a job's log can be hundreds of MB).

The event loop receives the body and hands it, in chunks of ~256 KB through a small bounded buffer, to a worker
thread where ``jsonitems`` decodes the entries (with the standard library's C decoder) and the digester's loop
consumes them; the event loop stays free to serve other requests meanwhile. Values are what ``json.loads`` gives.

A body that breaks off (connection lost, read timeout, invalid JSON) leaves the digester with what was read and
a reason: the digest then says it is incomplete instead of passing a part off as the whole. When nothing at all
could be read, the read fails with an explained error instead.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream

from jobs_mcp.errors import ApiError
from jobs_mcp.jsonitems import BrokenJson, JsonItems
from jobs_mcp.operations import Progress, QueryParams

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient

CHUNK = 256 * 1024  # bytes handed to the parser at a time (fewer thread hops than the network's own chunks)
BUFFERED = 4  # chunks that may wait for the parser: the most the body ever holds in memory (about 1 MB)
PROGRESS_EVERY = 8 * 1024 * 1024  # bytes between progress reports


class Digester(Protocol):
    """What a log is streamed into (``LogDigester``, ``AccountDigester``)."""

    entries: int

    def feed(self, entries: Iterable[Any]) -> None: ...

    def stop(self, reason: str) -> None: ...


async def read_log(
    api: ApiClient,
    path: str,
    *,
    at: str,
    digester: Digester,
    params: QueryParams | None = None,
    entry: Callable[[Any], Any] | None = None,
    progress: Progress | None = None,
) -> Any:
    """GET ``path`` and stream the array at ``at`` (dotted path; "" or a bare-array answer: the top level) into
    ``digester``, each entry through ``entry`` first. Returns the rest of the document (the array left empty:
    the job a log belongs to, or just the envelope). An HTTP error status raises the explained ``ApiError``, as
    any read does."""
    send, receive = anyio.create_memory_object_stream[bytes](BUFFERED)
    cut: list[str] = []  # why the body stopped short, as the event loop saw it

    async def pump(response: httpx.Response) -> None:
        total = int(response.headers.get("content-length", 0) or 0) or None
        received, reported, pending = 0, 0, bytearray()
        # BrokenResource: the parser stopped early (the body is not valid JSON); nothing more to hand over.
        with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            async with send:
                try:
                    async for chunk in response.aiter_bytes():
                        received += len(chunk)
                        pending += chunk
                        if len(pending) >= CHUNK:
                            await send.send(bytes(pending))
                            pending.clear()
                        if progress is not None and received - reported >= PROGRESS_EVERY:
                            reported = received
                            await progress(received, total, f"{received / 1e6:,.0f} MB of the log read")
                except httpx.TimeoutException:
                    cut.append(f"{api.platform} stopped sending for {api.read_timeout:g} s")
                except httpx.TransportError as exc:
                    cut.append(
                        f"the connection to {api.platform} dropped after {received:,} bytes ({type(exc).__name__})"
                    )
                if pending:  # what arrived before the end (or the break) is digested too
                    await send.send(bytes(pending))

    parse = _Parse(_Chunks(receive), at, digester, entry)
    request = api.stream(path, params=params, accept="application/json")
    # The streams are closed however this ends (an error status raises before the body is read).
    with send, receive:
        async with request as response, anyio.create_task_group() as tg:
            tg.start_soon(pump, response)
            try:
                await anyio.to_thread.run_sync(parse.run)
            finally:
                receive.close()
                tg.cancel_scope.cancel()  # the parser is done: stop receiving whatever the body still holds
    problem = cut[0] if cut else parse.invalid
    if problem is None:
        return parse.rest
    if not parse.started:
        raise ApiError(
            f"{api.platform} answered GET {path}, but {problem} before any log entry could be read. Try again."
        )
    digester.stop(problem)
    return parse.rest


class _Chunks:
    """Blocking reads of the chunks the event loop receives, for the parser in the worker thread."""

    def __init__(self, receive: MemoryObjectReceiveStream[bytes]) -> None:
        self._receive = receive

    def read(self) -> bytes:
        try:
            return anyio.from_thread.run(self._receive.receive)
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            return b""  # the end of the body (or of what arrived of it)


class _Parse:
    """The worker thread's part: parse the body and feed the entries to the digester."""

    def __init__(self, chunks: _Chunks, at: str, digester: Digester, entry: Callable[[Any], Any] | None) -> None:
        self.chunks, self.at, self.digester, self.entry = chunks, at, digester, entry
        self.rest: Any = None
        self.invalid: str | None = None  # why the body is not a readable document, if it is not
        self.started = False  # some of the log was read, or the whole document was

    def run(self) -> None:
        parser = JsonItems(self.chunks.read)
        items: Iterator[Any] = parser.items(tuple(self.at.split(".")) if self.at else ())
        if self.entry is not None:
            items = map(self.entry, items)
        before = self.digester.entries
        try:
            self.digester.feed(items)
        except BrokenJson as exc:
            self.invalid = str(exc)
        self.started = self.digester.entries > before or self.invalid is None
        self.rest = parser.rest
