"""Streamed log digests: the same answer as digesting the parsed body, whatever the chunking; a body cut short is
digested as far as it goes and says so; memory stays flat however long the log is."""

from __future__ import annotations

import functools
import itertools
import json
import tracemalloc
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import anyio
import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jobs_mcp.account_digest import AccountDigester, digest_account_logs
from jobs_mcp.config import sandbox_account
from jobs_mcp.digest import LogDigester, digest_logs
from jobs_mcp.errors import ApiError
from jobs_mcp.http import ApiClient
from jobs_mcp.jsonitems import BrokenJson, JsonItems
from jobs_mcp.logstream import read_log
from jobs_mcp.providers.wiserows.vocabulary import log_entry
from jobs_mcp.registry import provider

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
timestamps = st.one_of(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31)).map(
        lambda d: d.replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")
    ),
    st.sampled_from(["", "garbage", "2026-03-01T10:00:00+02:00", "2026-03-01T08:00:00"]),
    st.integers(0, 2_000_000_000_000),  # WiseRows' epoch milliseconds
    st.none(),
)
counter = st.one_of(st.integers(-5, 10**20), st.sampled_from(["12", "x", "", None, True, 1.5]))
log_entries = st.fixed_dictionaries(
    {
        "job_id": st.sampled_from(["a" * 32, "b" * 32, ""]),
        "level": st.sampled_from(["info", "warn", "warning", "error", "ERROR", None, 3]),
        "code": st.one_of(st.sampled_from(["UNAUTHORIZED-017", "RATELIMIT-429", "", None]), json_values),
        "message": st.one_of(st.text(max_size=30), json_values),
        "timestamp": timestamps,
        "context": st.one_of(st.none(), st.just("nope"), st.fixed_dictionaries({"added": counter, "removed": counter})),
    },
    optional={"extra": json_values},
)
logs = st.lists(st.one_of(log_entries, log_entries, json_values), max_size=40)

# How each kind of log tool's answer is laid out, and how it is digested once parsed in full.
LAYOUTS: dict[str, tuple[str, bool, Callable[[list[Any]], Any]]] = {
    "envelope": ("data", False, lambda entries: {"data": entries, "status": 200, "message": "success"}),
    "bare array": ("data", False, lambda entries: entries),
    "inside a document": (
        "data.logs",
        True,
        lambda entries: {"success": True, "data": {"id": "job_1", "status": "failed", "logs": entries, "n": 1.5}},
    ),
}


class _Body(httpx.AsyncByteStream):
    def __init__(self, chunks: Iterable[bytes], then: Exception | None) -> None:
        self.chunks, self.then = chunks, then

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.then is not None:
            raise self.then


def _client(chunks: Iterable[bytes], then: Exception | None = None) -> ApiClient:
    """An ApiClient whose platform answers a GET with these chunks (then, optionally, a broken connection)."""

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "application/json"}, stream=_Body(chunks, then))

    return ApiClient(sandbox_account("lytics"), provider("lytics"), transport=httpx.MockTransport(answer))


def _split(body: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({min(c, len(body)) for c in cuts} | {0, len(body)})
    return [body[a:b] for a, b in itertools.pairwise(points) if b > a]


async def _streamed(
    chunks: Iterable[bytes], layout: str, digester: Any, then: Exception | None = None, entry: Any = None
) -> Any:
    at, _, _ = LAYOUTS[layout]
    api = _client(chunks, then)
    try:
        return await read_log(api, "/log", at=at, digester=digester, entry=entry)
    finally:
        await api.aclose()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(logs, st.sampled_from(sorted(LAYOUTS)), st.lists(st.integers(0, 10_000), max_size=6), st.booleans())
def test_streaming_gives_the_digest_of_the_parsed_body(
    entries: list[Any], layout: str, cuts: list[int], ascii_only: bool
) -> None:
    _, in_document, lay_out = LAYOUTS[layout]
    body = json.dumps(lay_out(entries), ensure_ascii=ascii_only).encode()
    parsed = json.loads(body)
    in_memory = parsed if isinstance(parsed, list) else parsed["data"]["logs"] if in_document else parsed["data"]
    convert = log_entry if in_document else None
    digester = LogDigester(newest=4, page_size=7)
    rest = anyio.run(_streamed, _split(body, cuts), layout, digester, None, convert)
    whole = digest_logs(map(convert, in_memory) if convert else in_memory, now=NOW, newest=4, page_size=7)
    assert digester.finish(now=NOW) == whole
    if in_document:
        assert rest == {**parsed, "data": {**parsed["data"], "logs": []}}
    accounts = AccountDigester(top=3)
    anyio.run(_streamed, _split(body, cuts[::-1]), layout, accounts, None, convert)
    assert accounts.finish() == digest_account_logs(map(convert, in_memory) if convert else in_memory, top=3)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(log_entries, min_size=1, max_size=30), st.data(), st.booleans())
def test_a_body_cut_short_is_digested_as_far_as_it_goes(entries: list[Any], data: st.DataObject, dropped: bool) -> None:
    body = json.dumps(LAYOUTS["envelope"][2](entries)).encode()
    end = data.draw(st.integers(0, len(body) - 1), label="bytes that arrive")
    then = httpx.ReadError("connection reset") if dropped else None
    digester = LogDigester(newest=3)
    try:
        anyio.run(_streamed, _split(body[:end], [end // 2]), "envelope", digester, then)
    except ApiError as exc:
        assert "before any log entry could be read" in str(exc)
        assert digester.entries == 0
        return
    digest = digester.finish(now=NOW)
    assert not digest.complete and digest.missing
    assert ("dropped" in digest.missing) if dropped else (digest.missing == "the answer broke off or is not valid JSON")
    parsed = json.loads(body)["data"]
    expected = digest_logs(parsed[: digest.entries], now=NOW, newest=3)
    assert digest.model_dump(exclude={"complete", "missing"}) == expected.model_dump(exclude={"complete", "missing"})


def test_invalid_json_mid_log_stops_the_digest_there() -> None:
    body = b'{"data": [{"level": "error", "code": "A"}, {"level": "info"}, {"level": oops}]}'
    digester = LogDigester()
    anyio.run(_streamed, [body], "envelope", digester)
    digest = digester.finish(now=NOW)
    assert (digest.entries, digest.complete, digest.missing) == (2, False, "the answer broke off or is not valid JSON")


def test_an_answer_with_nothing_readable_is_an_error() -> None:
    with pytest.raises(ApiError, match=r"dropped after 15 bytes \(RemoteProtocolError\) before any log entry"):
        anyio.run(_streamed, [b'{"data": [{"lev'], "envelope", LogDigester(), httpx.RemoteProtocolError("closed"))


def _big_log(entries: int) -> Iterator[bytes]:
    """A Lytics-shaped answer of ``entries`` entries, made chunk by chunk (never whole in memory)."""
    yield b'{"data": ['
    for start in range(0, entries, 1000):
        yield ",".join(
            json.dumps(
                {
                    "level": "error" if i % 20 == 0 else "info",
                    "code": f"CODE-{i % 7}" if i % 20 == 0 else "",
                    "message": f"batch {i} uploaded" + " with a message long enough to matter" * 3,
                    "timestamp": f"2026-{1 + i // 2_000_000:02d}-01T00:00:00.{i:06d}Z",
                    "context": {"added": i % 500, "omitted": 1, "removed": 2},
                }
            )
            for i in range(start, min(start + 1000, entries))
        ).encode() + (b"," if start + 1000 < entries else b"")
    yield b'], "status": 200}'


@pytest.mark.slow
def test_memory_stays_flat_however_long_the_log() -> None:
    """100,000 entries (about 27 MB of JSON) are digested in a few MB, about what 10,000 entries need."""

    def peak(entries: int) -> tuple[int, int]:
        digester = LogDigester(newest=5)
        tracemalloc.start()
        try:
            anyio.run(_streamed, _big_log(entries), "envelope", digester)
            return tracemalloc.get_traced_memory()[1], digester.entries
        finally:
            tracemalloc.stop()

    body = sum(len(chunk) for chunk in _big_log(100_000))
    small, read_small = peak(10_000)
    large, read_large = peak(100_000)
    assert (read_small, read_large) == (10_000, 100_000)
    assert large < min(body / 4, 1.5 * small), (small, large, body)


@pytest.mark.parametrize(
    ("text", "path", "items", "rest"),
    [
        ('[12, 345, 6789, {"a": [1, 2]}]', (), [12, 345, 6789, {"a": [1, 2]}], []),
        ('{"status": 200, "data": [1.5, "x"], "more": {"k": null}}', ("data",), [1.5, "x"], None),
        ('{"data": {"id": "j", "logs": [true, false]}, "n": 1}', ("data", "logs"), [True, False], None),
        ('{"data": "not an array"}', ("data",), [], {"data": "not an array"}),
        ('  "a bare string"  ', ("data",), [], "a bare string"),
    ],
)
def test_items_are_read_whatever_the_chunking(text: str, path: tuple[str, ...], items: list[Any], rest: Any) -> None:
    body = text.encode()
    for size in (1, 2, 3, 7, len(body)):
        parser = JsonItems(functools.partial(next, iter([body[i : i + size] for i in range(0, len(body), size)]), b""))
        assert list(parser.items(path)) == items, size
        expected = rest
        if rest is None:  # the document with its array left empty
            expected = json.loads(text)
            inner = expected
            for key in path[:-1]:
                inner = inner[key]
            inner[path[-1]] = []
        assert parser.rest == expected, size


@pytest.mark.parametrize("text", ["[1, 2] [3]", '{"data": [1, 2', '{"data": [1, }', "[1, 2]]", "\xff[1]"])
def test_what_is_not_one_json_document_is_refused(text: str) -> None:
    body = text.encode("latin-1")
    with pytest.raises(BrokenJson):
        list(JsonItems(functools.partial(next, iter([body[:3], body[3:]]), b"")).items(("data",)))


# Values where decoders part ways: NaN and infinities, integers past 64 bits, floats near the limits, strings that
# hold the separator between items or a lone surrogate, deep nesting.
awkward_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**30), 10**30)
    | st.floats()
    | st.sampled_from([5e-324, 1.7976931348623157e308, -0.0, 2**64, -(2**63) - 1])
    | st.text(max_size=8)
    | st.sampled_from(["}, {", "},{", '"}, {"x": 1}', "\\", "\ud800", "\u2028"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=10,
)


@st.composite
def documents(draw: st.DrawFn) -> str:
    """A JSON document with an array of items at "data" (or that is the array), in one of several layouts, at
    times with one character changed (so often not JSON any more)."""
    items = draw(st.lists(st.one_of(st.dictionaries(st.text(max_size=6), awkward_values, max_size=4), awkward_values)))
    doc: Any = draw(st.sampled_from([{"data": items, "n": 1}, items, {"status": 200, "data": items}]))
    layout = {
        "indent": draw(st.sampled_from([None, 0, 2])),
        "separators": draw(st.sampled_from([None, (",", ":"), (", ", ": ")])),
    }
    text = json.dumps(doc, ensure_ascii=draw(st.booleans()), **layout)
    if not text.isascii() and "\ud800" in text:  # a lone surrogate is not UTF-8: written as an escape
        text = json.dumps(doc, **layout)
    if draw(st.booleans()):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["", ",", "]", "}", '"', "{", ":", "x", "1", "\\"])) + text[at + 1 :]
    return text


@settings(max_examples=400, deadline=None)
@given(documents(), st.lists(st.integers(0, 100_000), max_size=8))
def test_items_are_what_json_loads_gives_or_the_document_is_refused(text: str, cuts: list[int]) -> None:
    body = text.encode()
    try:
        parsed = json.loads(text)
    except (ValueError, RecursionError):
        with pytest.raises(BrokenJson):
            list(JsonItems(functools.partial(next, iter(_split(body, cuts)), b"")).items(("data",)))
        return
    expected = parsed if isinstance(parsed, list) else parsed.get("data") if isinstance(parsed, dict) else None
    items = list(JsonItems(functools.partial(next, iter(_split(body, cuts)), b"")).items(("data",)))
    # compared as JSON text: 1 and 1.0 and True differ there, NaN equals NaN, -0.0 is not 0.0
    assert json.dumps(items) == json.dumps(expected if isinstance(expected, list) else [])


# --- time linear in the body, whatever its layout and chunking ---

# How servers lay out JSON: compact, Python's default ", " and ": ", indented, one entry per line, Windows line ends.
WHITESPACE_LAYOUTS: dict[str, Callable[[Any], str]] = {
    "compact": lambda doc: json.dumps(doc, separators=(",", ":")),
    "spaces": json.dumps,
    "indent=2": lambda doc: json.dumps(doc, indent=2),
    "newline per entry": lambda doc: '{"data": [\n' + ",\n".join(json.dumps(e) for e in doc["data"]) + "\n]}",
    "CRLF": lambda doc: json.dumps(doc, indent=2).replace("\n", "\r\n"),
    "tabs": lambda doc: json.dumps(doc, indent="\t"),
}
# Entries whose insides hold what stands between entries in some layout: `}, "`, `},\n` and `},{`.
linear_entries = st.fixed_dictionaries(
    {
        "context": st.fixed_dictionaries({"added": st.integers(0, 500)}),
        "code": st.sampled_from(["", "RATELIMIT-429", "}, {", "},{"]),
        "rows": st.lists(st.fixed_dictionaries({"id": st.integers(0, 9)}), max_size=3),
        "message": st.text(max_size=40),
    }
)


class _DecoderWork:
    """Counts what jsonitems hands its decoders: characters a decoder may read (on a refusal, all the text it was
    offered; on success, the value it read) and calls of the one-run decoder."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import jobs_mcp.jsonitems as module

        self.chars = self.runs = 0
        run, scan, decode = module._decode_run, module._scan, module._decode

        def counted_run(text: str) -> Any:
            self.runs += 1
            self.chars += len(text)
            return run(text)

        def counted(read: Callable[[str, int], tuple[Any, int]]) -> Callable[[str, int], tuple[Any, int]]:
            def reading(text: str, at: int) -> tuple[Any, int]:
                try:
                    value, end = read(text, at)
                except (StopIteration, ValueError):
                    self.chars += len(text) - at
                    raise
                self.chars += end - at
                return value, end

            return reading

        monkeypatch.setattr(module, "_decode_run", counted_run)
        monkeypatch.setattr(module, "_scan", counted(scan))
        monkeypatch.setattr(module, "_decode", counted(decode))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(linear_entries, min_size=1, max_size=5),
    st.integers(1, 300),
    st.sampled_from(sorted(WHITESPACE_LAYOUTS)),
    st.integers(1, 9000),
    st.integers(0, 9000),
)
def test_decoding_work_is_linear_in_the_body(
    kinds: list[Any], repeat: int, layout: str, chunk: int, first: int
) -> None:
    """Every character reaches the decoders a bounded number of times, whatever the layout and wherever the
    chunks end (a refused run is never tried again on the same text; a value cut by many chunk ends is not
    decoded again at each one); the run decoder is called at most about once per chunk."""
    entries = (kinds * repeat)[: max(len(kinds), repeat)]
    text = WHITESPACE_LAYOUTS[layout]({"data": entries, "status": 200})
    body = text.encode()
    chunks = _split(body, list(range(first, len(body), chunk)))
    with pytest.MonkeyPatch.context() as patch:
        work = _DecoderWork(patch)
        items = list(JsonItems(functools.partial(next, iter(chunks), b"")).items(("data",)))
    assert items == entries
    assert work.chars <= 4 * len(text) + 64, (work.chars, len(text), layout, chunk)
    assert work.runs <= len(chunks) + 1, (work.runs, len(chunks))


def test_a_value_across_many_chunks_is_not_decoded_again_at_each() -> None:
    """One 2 MB entry in 100-byte chunks: the text it spans grows by doubling between tries."""
    text = json.dumps({"data": [{"message": "x" * 2_000_000}, {"n": 1}]})
    body = text.encode()
    with pytest.MonkeyPatch.context() as patch:
        work = _DecoderWork(patch)
        items = list(
            JsonItems(functools.partial(next, iter(_split(body, list(range(0, len(body), 100)))), b"")).items(("data",))
        )
    assert len(items) == 2
    assert work.chars <= 4 * len(text), work.chars


# --- text logs ---

text_lines = st.lists(
    st.one_of(
        st.tuples(
            st.sampled_from(["2026-11-23T10:00:00Z ", "2026-11-23 10:00:01.5+02:00 ", "", "[x] "]),
            st.sampled_from(["ERROR ", "[WARN] ", "info: ", "FATAL ", "", "debug "]),
            st.sampled_from(["Access Denied (403)", "request timed out", "ok", "status 503 from upstream", ""]),
            st.text(
                alphabet=st.characters(blacklist_characters="\n\r\x85\u2028\u2029", blacklist_categories=("Cs",)),
                max_size=20,
            ),
        ).map("".join),
        st.just(""),
    ),
    max_size=40,
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text_lines, st.lists(st.integers(0, 2_000), max_size=6), st.booleans())
def test_a_text_log_streams_through_the_same_digest(lines: list[str], cuts: list[int], crlf: bool) -> None:
    """A log sent as text, a line an entry: whatever the chunking, the digest is that of its lines parsed in full."""
    from jobs_mcp.logstream import text_entry

    body = ("\r\n" if crlf else "\n").join(lines).encode()

    def answer(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"content-type": "text/plain"}, stream=_Body(_split(body, cuts), None))

    async def streamed(digester: Any) -> Any:
        api = ApiClient(sandbox_account("lytics"), provider("lytics"), transport=httpx.MockTransport(answer))
        try:
            return await read_log(api, "/log", at="data", digester=digester)
        finally:
            await api.aclose()

    digester = LogDigester(newest=4, page_size=7)
    if not body.lstrip().startswith((b"{", b"[")):
        anyio.run(streamed, digester)
        whole = [text_entry(line) for line in body.decode().replace("\r\n", "\n").split("\n") if line.strip()]
        assert digester.finish(now=NOW) == digest_logs(whole, now=NOW, newest=4, page_size=7)


def test_a_text_line_gives_its_time_level_and_code() -> None:
    from jobs_mcp.logstream import text_entry

    entry = text_entry("2026-11-23 10:00:00Z [ERROR] S3 PutObject failed: Access Denied")
    assert entry == {
        "timestamp": "2026-11-23T10:00:00Z",
        "level": "error",
        "code": "ACCESS_DENIED",
        "message": "S3 PutObject failed: Access Denied",
    }
    assert text_entry("plain words")["level"] == ""
