"""Reading a log out of an HTTP answer as it arrives: entries are parsed one by one and fed to a digester, so
memory stays flat however long the log is (a year of a job's log can be hundreds of MB).

The event loop receives the body and hands it, in chunks of ~256 KB through a small bounded buffer, to a worker
thread where ``jsonitems`` decodes the entries (with the standard library's C decoder) and the digester's loop
consumes them; the event loop stays free to serve other requests meanwhile. Values are what ``json.loads`` gives.

A log sent as text (any content type without "json": one entry a line, as ``journalctl`` or a worker's stdout
writes it) streams through the same digest: each line is read as it arrives, its leading timestamp and level
word taken out (``2026-11-23T10:00:00Z ERROR ...``, ``[WARN] ...``), and its code read out of the message (an
HTTP status, an access denial, a timeout); a line without them is an entry of level "other". NDJSON is read a
JSON value a line.

A body that breaks off (connection lost, read timeout, invalid JSON) leaves the digester with what was read and
a reason: the digest then says it is incomplete instead of passing a part off as the whole. When nothing at all
could be read, the read fails with an explained error instead.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

import anyio
import httpx
from anyio.streams.memory import MemoryObjectReceiveStream

from jobs_mcp.errors import ApiError
from jobs_mcp.jsonitems import MAX_VALUE, BrokenJson, JsonItems
from jobs_mcp.logvocabulary import code_in_message
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
    request = api.stream(path, params=params, accept="application/json, application/x-ndjson;q=0.9, text/*;q=0.8")
    # The streams are closed however this ends (an error status raises before the body is read).
    with send, receive:
        async with request as response, anyio.create_task_group() as tg:
            kind = response.headers.get("content-type", "application/json").lower()
            parse.lines = "ndjson" if "ndjson" in kind else "text" if "json" not in kind else None
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
        self.lines: str | None = None  # "text" or "ndjson": a log sent a line an entry, not one JSON document

    def run(self) -> None:
        read = self.chunks.read
        if self.lines == "text":  # a JSON document sent as text/plain (some APIs do) is still read as JSON
            first = read()
            if first.lstrip()[:1] in (b"{", b"["):
                self.lines = None
            read = _again(first, read)
        parser = JsonItems(read)
        items: Iterator[Any]
        if self.lines is not None:
            items = text_entries(read, ndjson=self.lines == "ndjson")
        else:
            items = parser.items(tuple(self.at.split(".")) if self.at else ())
        if self.entry is not None:
            items = map(self.entry, items)
        before = self.digester.entries
        try:
            self.digester.feed(items)
        except BrokenJson as exc:
            self.invalid = str(exc)
        self.started = self.digester.entries > before or self.invalid is None
        self.rest = parser.rest if self.lines is None else None


def _again(first: bytes, read: Callable[[], bytes]) -> Callable[[], bytes]:
    """``read`` with ``first`` (already read) handed out again first."""
    held = [first]

    def reread() -> bytes:
        return held.pop() if held else read()

    return reread


_TEXT_LINE = re.compile(
    r"\s*(?P<when>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)?\s*"
    r"(?:\[?(?P<level>trace|debug|info|notice|warn|warning|error|err|fatal|critical|crit)\b\]?:?)?\s*(?P<message>.*)",
    re.IGNORECASE | re.DOTALL,
)
_TEXT_LEVELS = {"err": "error", "fatal": "error", "critical": "error", "crit": "error", "notice": "info"}


def text_entry(line: str) -> dict[str, Any]:
    """One line of a text log in the digest's common form."""
    found = _TEXT_LINE.match(line)
    assert found is not None  # (the pattern matches any text)
    level = (found["level"] or "").lower()
    message = found["message"]
    when = found["when"]
    return {
        "timestamp": when.replace(" ", "T", 1).replace(",", ".") if when else None,
        "level": _TEXT_LEVELS.get(level, level),
        "code": code_in_message(message) or ""
        if level in ("warn", "warning", "error", "err", "fatal", "critical", "crit")
        else "",
        "message": message,
    }


def text_entries(read: Callable[[], bytes], *, ndjson: bool = False) -> Iterator[Any]:
    """The entries of a log sent a line an entry, read chunk by chunk (a line cut by a chunk's end waits for its
    rest); blank lines are skipped. NDJSON lines are JSON values; other lines go through ``text_entry``."""
    utf8 = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = ""
    while True:
        chunk = read()
        pending += utf8.decode(chunk, final=not chunk)
        *lines, pending = pending.split("\n") if chunk else [*pending.split("\n"), ""]
        for line in lines:
            line = line.rstrip("\r")
            if not line.strip():
                continue
            if ndjson:
                try:
                    yield json.loads(line)
                except ValueError:
                    raise BrokenJson("the answer broke off or is not valid JSON (an NDJSON line is not JSON)") from None
            else:
                yield text_entry(line)
        if not chunk:
            return
        if len(pending) > MAX_VALUE:
            raise BrokenJson("the answer is not a readable log (a line longer than 16 MB)")
