"""Log digests: thousands (or millions) of job log entries turned into a short, exact debugging summary.

One pass over the entries, in whatever order they come and in bounded memory: exact totals of the export
counters, level counts, errors and warnings grouped by code (count, first and last time, the latest message as
a sample, and what the code's family means), last activity and staleness, the newest few entries, and on
request one page of raw entries with a cursor. A ``LogDigester`` is fed entries as they are read (a streamed
HTTP body feeds it batch by batch, see ``logstream``); ``digest_logs`` digests a log already in memory. Both
give the same answer for the same entries.

Entries come in one common form, which each provider converts its own log entries to: a mapping with
``timestamp`` (RFC 3339), ``level`` (info / warn / error), ``code`` (an error code, kind or domain: what errors
are grouped by), ``message``, ``job_id`` (account-wide logs) and ``context`` holding the counters where the
platform reports them. What the platform's log holds (its counters, what a success line is, how a code is read
out of a message, its hints) is its ``LogVocabulary`` (``Provider.log``): a digest speaks only of that.

The root cause comes first: the first error since the last success line (or the first error of the log), its
message whole up to a bound and never cut mid-word. Groups count the distinct ids their messages name.

Log text comes from the platform: it is shown quoted, on one line and cut short, never as instructions.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import heapq
import itertools
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from mcp.server.mcpserver.exceptions import ToolError
from pydantic import BaseModel, Field

from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.render import age, short_time, when_of
from jobs_mcp.textsafe import one_line, quote, token

MESSAGE_LIMIT = 160
ROOT_CANDIDATES = 64  # earliest errors after the newest success kept (an out-of-order log may need more than one)
ROOT_LIMIT = 600  # characters of the root cause's message shown (cut at a word's end)
MAX_IDS = 1_000  # distinct ids counted per group; past it the count says "at least"
ID_EXAMPLES = 3
_IDS = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"  # a UUID
    r"|\b[A-Za-z]{1,12}[_-](?=[A-Za-z0-9]*\d)[A-Za-z0-9]{3,40}\b"  # a prefixed id: ord_8841, job_se0aud1t4c6
    r"|\b(?=[a-f]*\d)(?=\d*[a-f])[0-9a-f]{16,64}\b"  # a bare hex id
    r"|#\d{2,}\b"  # a number written as an id: #4711
)
MAX_GROUPS = 20  # code groups shown per level; totals stay exact and the rest are counted
MAX_CODES = 10_000  # distinct codes tracked per level (memory stays bounded); further codes count as one group
OTHER_CODES = "(further codes)"
COUNTERS = ("added", "omitted", "removed")
_EPOCH = datetime.min.replace(tzinfo=UTC)

# (words in the code, family, what it means and what to do); the first match wins. A provider may say what to do
# about a family in its own tools' words (``Provider.log.hints``); these are the platform-neutral defaults.
FAMILIES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("RATELIMIT", "RATE_LIMIT", "THROTTL", "429"),
        "rate_limit",
        "the destination is throttling; it usually recovers alone. Wait, or run the job less often",
    ),
    (
        ("UNAUTHORIZED", "FORBIDDEN", "AUTH", "DENIED"),
        "auth",
        "credentials expired or lost access: reconnect them, then resume or restart the job",
    ),
    (
        ("BADREQ", "INVALID", "JSON"),
        "bad_request",
        "the job's config or payload is wrong: read the job, fix its configuration, then run it again",
    ),
    (
        ("NOTFOUND", "NOT_FOUND"),
        "not_found",
        "something the job points at (segment, workflow, table) is gone: check its config",
    ),
    (
        ("TIMEOUT", "TIMED_OUT", "TIMEDOUT"),
        "timeout",
        "the job or a call it makes ran out of time: check what it waits on, then run it again",
    ),
    (
        ("INTERNAL", "FAULT", "UNKNOWN", "UNAVAILABLE", "BAD_GATEWAY"),
        "platform",
        "a platform-side fault: restart the job once; if it persists, escalate to the platform's support",
    ),
)
RATE_WORDS = ("rate limit", "too many requests", "throttl")


def classify(code: str, sample: str = "", hints: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(family, hint) of an error code; a generic code whose message speaks of rate limits is a rate limit.
    ``hints`` (family -> what to do) are the provider's words for the same advice."""
    family, hint = _family(code, sample)
    return family, (hints or {}).get(family, hint)


def _family(code: str, sample: str) -> tuple[str, str]:
    upper = code.upper()
    for words, family, hint in FAMILIES:
        if any(word in upper for word in words):
            if family == "platform" and any(w in sample.lower() for w in RATE_WORDS):
                return FAMILIES[0][1], FAMILIES[0][2]
            return family, hint
    if any(w in sample.lower() for w in RATE_WORDS):
        return FAMILIES[0][1], FAMILIES[0][2]
    return "other", "look at the sample message and the newest entries"


class Totals(BaseModel):  # the account digest's (Lytics') counters
    added: int = 0
    omitted: int = 0
    removed: int = 0


class Levels(BaseModel):
    info: int = 0
    warn: int = 0
    error: int = 0
    other: int = 0


class CodeGroup(BaseModel):
    code: str
    count: int
    first: datetime | None = None
    last: datetime | None = None
    sample: str = Field(description="the latest message with this code, one line, cut short")
    family: str
    hint: str
    ids: int = Field(0, description="distinct ids (orders, jobs, rows...) the group's messages name")
    ids_capped: bool = Field(False, description="more distinct ids than were counted: ids is a lower bound")
    id_examples: list[str] = Field(default_factory=list)


class RootCause(BaseModel):
    timestamp: datetime | None
    code: str
    family: str
    hint: str
    message: str = Field(description="the error's message, whole up to a bound, never cut mid-word")
    since: str = Field(description="which error this is: the first since the last success, or the log's first")


class LogLine(BaseModel):
    timestamp: datetime | None
    level: str
    code: str
    message: str


class StaleInfo(BaseModel):
    silent_hours: float
    message: str


class LogPage(BaseModel):
    order: str = Field("oldest", description="oldest: in log order from its start; newest: from its end backwards")
    level: str | None = Field(None, description="only entries of this level are paged (and counted in total)")
    start: int
    entries: list[LogLine]
    next_cursor: str | None
    total: int


class LogDigest(BaseModel):
    job_id: str | None = None
    entries: int
    complete: bool = Field(True, description="false when the log could not be read to its end (see missing)")
    missing: str | None = Field(
        None, description="why the rest of the log is missing; the counts cover only what was read"
    )
    first: datetime | None = None
    last: datetime | None = None
    totals: dict[str, int] | None = Field(
        None, description="the platform's counters summed over the log; null for a platform whose log has none"
    )
    levels: Levels
    root_cause: RootCause | None = None
    errors: list[CodeGroup]
    warnings: list[CodeGroup]
    groups_left_out: int = Field(0, description="code groups beyond the shown ones (their entries are counted)")
    last_activity: datetime | None = None
    success: str | None = Field(None, description="what the platform's success line is called (last_success)")
    last_success: datetime | None = Field(None, description="newest success line (Lytics: an entry that moved data)")
    stale: StaleInfo | None = None
    newest: list[LogLine]
    page: LogPage | None = None


class CursorError(ToolError):
    """A page cursor this server did not issue, or one past the end of the log."""

    def __init__(self, problem: str) -> None:
        super().__init__(f"cursor: {problem}. Leave cursor out to start from the beginning of the log.")


class _Group:
    __slots__ = ("count", "first", "ids", "ids_capped", "last", "sample", "sample_at")

    def __init__(self) -> None:
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.sample: Any = ""  # the raw message, made one line only when shown
        self.sample_at = _EPOCH
        self.ids: dict[str, None] = {}  # distinct ids named by the messages, in order of first sight (bounded)
        self.ids_capped = False

    def add(self, when: datetime | None, message: Any) -> None:
        self.count += 1
        if message.__class__ is str and message:
            ids = self.ids
            for found in _IDS.findall(message):
                if found not in ids:
                    if len(ids) >= MAX_IDS:
                        self.ids_capped = True
                        break
                    ids[found] = None
        if when is not None:
            if self.first is None or when < self.first:
                self.first = when
            if self.last is None or when > self.last:
                self.last = when
        if not self.sample or (when or _EPOCH) >= self.sample_at:
            self.sample, self.sample_at = message, when or _EPOCH


_LEVELS = {"info": "info", "warn": "warn", "warning": "warn", "error": "error"}


def entry_level(raw: Any) -> str:
    if raw.__class__ is str and raw in _LEVELS:
        return _LEVELS[raw]
    return _LEVELS.get(str(raw or "").lower(), "other")


def counter_value(value: Any) -> int:
    """A non-negative int or string of digits; anything else (negative, bool, junk) counts 0."""
    if value.__class__ is int:
        return value if value > 0 else 0
    if isinstance(value, str) and len(value) <= 30 and value.strip().isdecimal():
        return int(value)
    return 0


def as_utc(when: datetime | None) -> datetime | None:
    return when.astimezone(UTC) if when is not None else None


T = TypeVar("T")


def slot(table: dict[str, T], key: str, limit: int, make: Callable[[], T], overflow: str = OTHER_CODES) -> T:
    """The tally of ``key`` in ``table``, made when new; past ``limit`` keys, new ones share the ``overflow``
    tally (memory stays bounded, counts stay exact)."""
    if key not in table and len(table) >= limit:
        key = overflow
    found = table.get(key)
    if found is None:
        found = table[key] = make()
    return found


def _key(value: Any, limit: int = 64) -> str:
    """A code or job id from the log as a grouping key: one line, bounded; "(none)" when empty."""
    return one_line(value if value not in (None, "") else "", limit) or "(none)"


class Keys:
    """Grouping keys of raw codes or job ids, remembered (a log repeats a few codes many times); bounded."""

    def __init__(self, limit: int = MAX_CODES) -> None:
        self._seen: dict[str, str] = {}
        self._limit = limit

    def __call__(self, raw: Any) -> str:
        if raw.__class__ is not str:
            return _key(raw)
        key = self._seen.get(raw)
        if key is None:
            key = _key(raw)
            if len(self._seen) < self._limit:
                self._seen[raw] = key
        return key


def _message(raw: Any) -> Any:
    """A message as kept for a sample: bounded text (made one line only if it is shown)."""
    if raw.__class__ is str:
        return raw[: MESSAGE_LIMIT * 4]
    return str(raw)[: MESSAGE_LIMIT * 4] if raw else ""


show_token = token  # a code, id or status as is when it looks like one; quoted as data otherwise


def _line(entry: Any, when: datetime | None) -> LogLine:
    if not isinstance(entry, Mapping):
        return LogLine(timestamp=None, level="other", code="", message="")  # still an entry: paging stays exact
    return LogLine(
        timestamp=as_utc(when),
        level=entry_level(entry.get("level")),
        code=one_line(entry.get("code") or "", 64),
        message=one_line(entry.get("message") or "", MESSAGE_LIMIT),
    )


MAX_NEWEST_SKIP = 10_000  # entries a newest-first page may start behind the newest (they are held while reading)


def encode_cursor(offset: int, newest_first: bool = False) -> str:
    return base64.urlsafe_b64encode(f"{'n' if newest_first else 'o'}:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, newest_first: bool = False) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("not a cursor this server issued") from None
    if text[:2] not in ("o:", "n:") or not text[2:].isdigit():
        raise CursorError("not a cursor this server issued")
    if (text[0] == "n") != newest_first:
        raise CursorError(f"it pages {'newest' if text[0] == 'n' else 'oldest'} first: ask with that page_from")
    offset = int(text[2:])
    if newest_first and offset > MAX_NEWEST_SKIP:
        raise CursorError(f"newest-first pages reach back {MAX_NEWEST_SKIP:,} entries; page from the oldest instead")
    return offset


def _groups(groups: dict[str, _Group], hints: Mapping[str, str] | None) -> tuple[list[CodeGroup], int]:
    ordered = sorted(groups.items(), key=lambda item: (-item[1].count, item[0]))
    shown = []
    for code, g in ordered[:MAX_GROUPS]:
        sample = one_line(g.sample, MESSAGE_LIMIT)
        family, hint = classify(code, sample, hints)
        first, last = as_utc(g.first), as_utc(g.last)
        examples = [one_line(i, 40) for i in itertools.islice(g.ids, ID_EXAMPLES)]
        shown.append(
            CodeGroup(
                code=code,
                count=g.count,
                first=first,
                last=last,
                sample=sample,
                family=family,
                hint=hint,
                ids=len(g.ids),
                ids_capped=g.ids_capped,
                id_examples=examples,
            )
        )
    return shown, max(len(ordered) - MAX_GROUPS, 0)


class LogDigester:
    """The digest of one log, fed entries in batches as they are read; its memory does not grow with the log
    (a few counters per code, the newest few entries, and the one page asked for).

    The newest entries: a log mostly comes in time order, so entries no older than the last one kept go to a
    ring buffer of the last few; an entry older than that (a log that is out of order, or newest first) goes to
    a small heap of the newest such. The newest few of the two together are the log's newest.

    The root cause: the earliest error later than the newest success line (the first error of the failing
    streak); when a success line followed every error, the latest error. The earliest few errors later than the
    newest success line so far are kept in order; a success line read later that is newer than some of them (an
    out-of-order log) puts those aside."""

    def __init__(
        self,
        *,
        newest: int = 5,
        page_size: int = 0,
        cursor: str | None = None,
        vocabulary: LogVocabulary | None = None,
        page_from: str = "oldest",
        level: str | None = None,
    ) -> None:
        self.newest_first = page_from == "newest"
        self.level = level  # page only entries of this level
        # a bad cursor is refused before anything is read
        self.start = decode_cursor(cursor, self.newest_first) if cursor else 0
        self.cursor = cursor
        self.newest = newest
        self.page_size = page_size
        self.vocabulary = vocabulary or LogVocabulary()
        self.entries = 0
        self.missing: str | None = None
        self.totals = dict.fromkeys(self.vocabulary.counters, 0)
        self.levels = dict.fromkeys(("info", "warn", "error", "other"), 0)
        self.groups: dict[str, dict[str, _Group]] = {"error": {}, "warn": {}}
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.last_success: datetime | None = None
        # the earliest errors later than the newest success line, (when, index, code, message), in order: the first
        # is the root cause (more are kept in case a success line read later is newer than it)
        self.roots: list[tuple[datetime, int, str, Any]] = []
        self.latest_error: tuple[datetime, int, str, Any] | None = None  # shown when a success followed every error
        self.ring: deque[tuple[datetime, int, Any]] = deque(maxlen=newest)
        self.strays: list[tuple[datetime, int, Any]] = []  # a min-heap of at most ``newest``
        self.page: list[LogLine] = []
        self.paged = 0  # entries that could be paged (of the level asked for)
        self.tail: deque[LogLine] = deque(maxlen=self.start + page_size)  # newest-first paging: the last ones
        self._keys = Keys()

    @classmethod
    def for_args(cls, args: Any, vocabulary: LogVocabulary | None = None) -> LogDigester:
        """A digester for a log tool's arguments (``newest``, ``page_size`` and ``cursor`` where it has them)."""
        return cls(
            newest=getattr(args, "newest", 5),
            page_size=getattr(args, "page_size", 0),
            cursor=getattr(args, "cursor", None),
            vocabulary=vocabulary,
            page_from=getattr(args, "page_from", "oldest"),
            level=getattr(args, "level", None),
        )

    def stop(self, reason: str) -> None:
        """The log could not be read to its end: the digest says so instead of passing a part off as the whole."""
        self.missing = reason

    def feed(self, entries: Iterable[Any]) -> None:
        """Digest the next entries of the log. The hot loop: state lives in locals and is written back at the end
        (also when the iterable fails midway, e.g. a stream that breaks off)."""
        levels, groups, keys, totals = self.levels, self.groups, self._keys, self.totals
        vocabulary = self.vocabulary
        counters, success_words, generic = vocabulary.counters, vocabulary.success_words, vocabulary.generic_codes
        first, last, last_success, roots, latest_error = (
            self.first,
            self.last,
            self.last_success,
            self.roots,
            self.latest_error,
        )
        ring, strays, newest, index = self.ring, self.strays, self.newest, self.entries
        latest = ring[-1][0] if ring else _EPOCH
        paging = self._page if self.page_size else None
        try:
            for entry in entries:
                index += 1
                if entry.__class__ is not dict and not isinstance(entry, Mapping):
                    levels["other"] += 1
                    if paging is not None:
                        paging(entry, None, "other")
                    continue
                when = when_of(entry.get("timestamp"))
                level = entry.get("level")
                level = (_LEVELS.get(level) if level.__class__ is str else None) or entry_level(level)
                levels[level] += 1
                if when is not None:
                    if first is None or when < first:
                        first = when
                    if last is None or when > last:
                        last = when
                succeeded = False
                if counters:
                    context = entry.get("context")
                    if context.__class__ is dict or (context and isinstance(context, Mapping)):  # abc checks slow
                        for name in counters:
                            n = context.get(name, 0)
                            if n.__class__ is not int or n < 0:
                                n = counter_value(n)  # the rare odd counter
                            if n:
                                totals[name] += n
                                succeeded = True
                elif success_words and level == "info":
                    said = entry.get("message")
                    succeeded = said.__class__ is str and any(w in said.lower() for w in success_words)
                if succeeded and level == "info" and when is not None and (last_success is None or when > last_success):
                    last_success = when
                    if roots and roots[0][0] <= when:  # errors before a success are not what the log ends with
                        del roots[: bisect.bisect_right(roots, (when, index))]
                if level == "error" or level == "warn":
                    code = keys(entry.get("code"))
                    message = entry.get("message")
                    if code in generic:
                        code = _key(vocabulary.code_of(code, message))
                    by_code = groups[level]
                    group = by_code.get(code) or slot(by_code, code, MAX_CODES, _Group)
                    kept = _message(message)
                    group.add(when, kept)
                    if level == "error":
                        key = when or _EPOCH
                        if latest_error is None or (key, index) >= latest_error[:2]:
                            latest_error = (key, index, code, kept)
                        if (last_success is None or key > last_success) and (
                            len(roots) < ROOT_CANDIDATES or (key, index) < roots[-1][:2]
                        ):
                            bisect.insort(roots, (key, index, code, kept))
                            del roots[ROOT_CANDIDATES:]
                if newest:
                    key = when or _EPOCH
                    if key >= latest:
                        ring.append((key, index, entry))
                        latest = key
                    elif len(strays) < newest:
                        heapq.heappush(strays, (key, index, entry))
                    elif (key, index) > strays[0][:2]:
                        heapq.heapreplace(strays, (key, index, entry))
                if paging is not None:
                    paging(entry, when, level)
        finally:
            self.entries = index
            self.first, self.last, self.last_success, self.latest_error = first, last, last_success, latest_error

    def _page(self, entry: Any, when: datetime | None, level: str) -> None:
        """One entry offered to the raw page: kept when it is of the level asked for and within the page."""
        if self.level is not None and level != self.level:
            return
        self.paged += 1
        if self.newest_first:
            self.tail.append(_line(entry, when))
        elif self.start < self.paged <= self.start + self.page_size:
            self.page.append(_line(entry, when))

    def _root_cause(self) -> RootCause | None:
        if self.roots:
            when, _, code, message = self.roots[0]
            since = (
                f"the first error after the last success ({short_time(self.last_success)} UTC)"
                if self.last_success is not None
                else "the first error of the log"
            )
        elif self.latest_error is not None:
            when, _, code, message = self.latest_error
            since = f"the latest error; the log succeeded after it, last at {short_time(self.last_success)} UTC"
        else:
            return None
        text = one_line(message, ROOT_LIMIT)
        family, hint = classify(code, text, self.vocabulary.hints)
        return RootCause(
            timestamp=None if when is _EPOCH else as_utc(when),
            code=code,
            family=family,
            hint=hint,
            message=text,
            since=since,
        )

    def finish(
        self,
        *,
        now: datetime,
        job_id: str | None = None,
        job_status: str | None = None,
        active: bool = False,  # the job should be writing to its log right now (the provider judges its status)
        stale_after: timedelta = timedelta(hours=1),
    ) -> LogDigest:
        start, size, hints = self.start, self.page_size, self.vocabulary.hints
        total = self.paged if size else self.entries
        if self.cursor and start >= total and self.missing is None:
            raise CursorError(f"it points past the end of the log ({total:,} entries)")
        errors, left_errors = _groups(self.groups["error"], hints)
        warnings, left_warnings = _groups(self.groups["warn"], hints)
        last = as_utc(self.last)
        stale = None
        if active and self.missing is None and (last is None or now - last > stale_after):
            silent = (now - last).total_seconds() / 3600 if last else float("inf")
            said = f"no log entry for {age(last, now)}" if last else "no log entries at all"
            stale = StaleInfo(silent_hours=round(silent, 1) if last else -1, message=f"{said} on a {job_status} job")
        newest = heapq.nlargest(self.newest, [*self.ring, *self.strays])
        success = self.vocabulary.success or None
        return LogDigest(
            job_id=job_id,
            entries=self.entries,
            complete=self.missing is None,
            missing=self.missing,
            first=as_utc(self.first),
            last=last,
            totals=dict(self.totals) if self.vocabulary.counters else None,
            levels=Levels(**self.levels),
            root_cause=self._root_cause(),
            errors=errors,
            warnings=warnings,
            groups_left_out=left_errors + left_warnings,
            last_activity=last,
            success=success,
            last_success=as_utc(self.last_success) if success else None,
            stale=stale,
            newest=[_line(entry, None if when is _EPOCH else when) for when, _, entry in newest],
            page=(
                LogPage(
                    order="newest" if self.newest_first else "oldest",
                    level=self.level,
                    start=start,
                    entries=list(reversed(self.tail))[start : start + size] if self.newest_first else self.page,
                    next_cursor=encode_cursor(start + size, self.newest_first) if start + size < total else None,
                    total=total,
                )
                if size
                else None
            ),
        )


def digest_logs(
    entries: Iterable[Any],  # common entries (see the module docstring); anything else counts as unreadable
    *,
    now: datetime,
    vocabulary: LogVocabulary | None = None,
    job_id: str | None = None,
    job_status: str | None = None,
    active: bool = False,
    newest: int = 5,
    stale_after: timedelta = timedelta(hours=1),
    page_size: int = 0,
    cursor: str | None = None,
    page_from: str = "oldest",
    level: str | None = None,
    missing: str | None = None,  # why these entries are not the whole log, when they are not
) -> LogDigest:
    """The digest of a log already in memory (what a ``LogDigester`` gives when fed the same entries)."""
    digester = LogDigester(
        newest=newest, page_size=page_size, cursor=cursor, vocabulary=vocabulary, page_from=page_from, level=level
    )
    digester.feed(entries)
    if missing:
        digester.stop(missing)
    return digester.finish(now=now, job_id=job_id, job_status=job_status, active=active, stale_after=stale_after)


def _ids(g: CodeGroup) -> str:
    if not g.ids:
        return ""
    counted = f"{'at least ' if g.ids_capped else ''}{g.ids:,} distinct id{'s' if g.ids != 1 else ''}"
    return f" · {counted} (e.g. {', '.join(show_token(i) for i in g.id_examples)})"


def _group_lines(title: str, groups: list[CodeGroup]) -> list[str]:
    if not groups:
        return []
    lines = [f"{title}:"]
    for g in groups:
        span = f"{short_time(g.first)} → {short_time(g.last)}" if g.first != g.last else short_time(g.last)
        lines.append(f"- {show_token(g.code)} ×{g.count:,} ({g.family}) {span}: {quote(g.sample)}{_ids(g)}")
        lines.append(f"  → {g.hint}")
    return lines


def _runs(lines: list[LogLine]) -> list[str]:
    """Log lines, newest first, with a run of identical entries folded into one line."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        e, j = lines[i], i
        while j + 1 < len(lines) and (lines[j + 1].level, lines[j + 1].code, lines[j + 1].message) == (
            e.level,
            e.code,
            e.message,
        ):
            j += 1
        when = short_time(e.timestamp) if i == j else f"{short_time(lines[j].timestamp)} → {short_time(e.timestamp)}"
        repeat = f" ×{j - i + 1}" if j > i else ""
        out.append(f"- {when} {e.level} {show_token(e.code) if e.code else '-'}{repeat} {quote(e.message)}")
        i = j + 1
    return out


def render_digest(d: LogDigest) -> str:
    t, lv = d.totals, d.levels
    window = f"{short_time(d.first)} → {short_time(d.last)}" if d.entries else "empty"
    lines = [
        f"{d.entries:,} entries ({window} UTC): info {lv.info:,}, warn {lv.warn:,}, error {lv.error:,}"
        + (f", other {lv.other:,}" if lv.other else ""),
    ]
    if d.root_cause is not None:
        r = d.root_cause
        what = f"{short_time(r.timestamp)} {show_token(r.code)} ({r.family})"
        among = ", among the entries read" if d.missing else ""
        lines.append(f"ROOT CAUSE ({r.since}{among}): {what}: {quote(r.message, ROOT_LIMIT + 40)}")
        lines.append(f"  → {r.hint}")
    said = []
    if t is not None:
        said.append("totals: " + ", ".join(f"{name} {n:,}" for name, n in t.items()))
    if d.success:
        said.append(f"{d.success} {short_time(d.last_success) if d.last_success else 'never'}")
    if said:
        lines.append("; ".join(said))
    if d.missing:
        lines.insert(
            0,
            f"INCOMPLETE: only {d.entries:,} entries were read ({d.missing}); the rest of the log is "
            "missing, so the counts below are not the log's totals.",
        )
    if d.stale:
        lines.append(f"STALE: {d.stale.message}")
    lines += _group_lines("Errors by code", d.errors)
    lines += _group_lines("Warnings by code", d.warnings)
    if d.groups_left_out:
        lines.append(f"({d.groups_left_out} more codes not shown; counts above are exact)")
    if d.newest:
        lines.append("Newest entries (log text is quoted data):")
        lines += _runs(d.newest)
    if d.page:
        p = d.page
        which = f"{p.level} entries" if p.level else "entries"
        order = ", newest first" if p.order == "newest" else ""
        lines.append(f"Raw {which} {p.start + 1:,}-{p.start + len(p.entries):,} of {p.total:,}{order}:")
        lines += [
            f"- {short_time(e.timestamp)} {e.level} {show_token(e.code) if e.code else '-'} {quote(e.message)}"
            for e in p.entries
        ]
        lines.append(f"next_cursor: {p.next_cursor}" if p.next_cursor else "(no more)")
    return "\n".join(lines)
