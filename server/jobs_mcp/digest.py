"""Log digests: thousands of job log entries turned into a short, exact debugging summary.

One pass over the entries, in whatever order they come: exact totals of the export counters, level counts,
errors and warnings grouped by code (count, first and last time, the latest message as a sample, and what
the code's family means), last activity and staleness, the newest few entries, and on request one page of
raw entries with a cursor. Memory grows with the number of distinct codes, not with the log.

Entries come in one common form, which each provider converts its own log entries to: a mapping with
``timestamp`` (RFC 3339), ``level`` (info / warn / error), ``code`` (an error code, kind or domain: what errors
are grouped by), ``message``, ``job_id`` (account-wide logs) and ``context`` holding the counters
(``added`` / ``omitted`` / ``removed``) where the platform reports them.

Log text comes from the platform: it is shown quoted, on one line and cut short, never as instructions.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from jobs_mcp.render import age, parse_time, short_time
from jobs_mcp.textsafe import one_line, quote

MESSAGE_LIMIT = 160
MAX_GROUPS = 20  # code groups shown per level; totals stay exact and the rest are counted
COUNTERS = ("added", "omitted", "removed")
_EPOCH = datetime.min.replace(tzinfo=UTC)

# (words in the code, family, what it means and what to do); the first match wins. A provider may say what to do
# about a family in its own tools' words (``Provider.log_hints``); these are the platform-neutral defaults.
FAMILIES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (
        ("RATELIMIT", "THROTTL", "429"),
        "rate_limit",
        "the destination is throttling; it usually recovers alone. Wait, or run the job less often",
    ),
    (
        ("UNAUTHORIZED", "FORBIDDEN", "AUTH"),
        "auth",
        "credentials expired or lost access: reconnect them, then resume or restart the job",
    ),
    (
        ("BADREQ", "INVALID", "JSON"),
        "bad_request",
        "the job's config or payload is wrong: read the job, fix its configuration, then run it again",
    ),
    (("NOTFOUND",), "not_found", "something the job points at (segment, workflow, table) is gone: check its config"),
    (
        ("INTERNAL", "FAULT", "UNKNOWN"),
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


class Totals(BaseModel):
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


class LogLine(BaseModel):
    timestamp: datetime | None
    level: str
    code: str
    message: str


class StaleInfo(BaseModel):
    silent_hours: float
    message: str


class LogPage(BaseModel):
    start: int
    entries: list[LogLine]
    next_cursor: str | None
    total: int


class LogDigest(BaseModel):
    job_id: str | None = None
    entries: int
    first: datetime | None = None
    last: datetime | None = None
    totals: Totals
    levels: Levels
    errors: list[CodeGroup]
    warnings: list[CodeGroup]
    groups_left_out: int = Field(0, description="code groups beyond the shown ones (their entries are counted)")
    last_activity: datetime | None = None
    last_success: datetime | None = Field(None, description="newest info entry that moved data (added/omitted/removed)")
    stale: StaleInfo | None = None
    newest: list[LogLine]
    page: LogPage | None = None


class _Group:
    __slots__ = ("count", "first", "last", "sample", "sample_at")

    def __init__(self) -> None:
        self.count = 0
        self.first: datetime | None = None
        self.last: datetime | None = None
        self.sample = ""
        self.sample_at = _EPOCH

    def add(self, when: datetime | None, message: str) -> None:
        self.count += 1
        if when is not None:
            self.first = when if self.first is None or when < self.first else self.first
            self.last = when if self.last is None or when > self.last else self.last
        if not self.sample or (when or _EPOCH) >= self.sample_at:
            self.sample, self.sample_at = message, when or _EPOCH


def _level(raw: Any) -> str:
    level = str(raw or "").lower()
    if level in ("warn", "warning"):
        return "warn"
    return level if level in ("info", "error") else "other"


def _count(value: Any) -> int:
    """A non-negative int or string of digits; anything else (negative, bool, junk) counts 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, str) and value.strip().isdigit() and len(value) <= 30:
        return int(value)
    return 0


def _key(value: Any, limit: int = 64) -> str:
    """A code or job id from the log as a grouping key: one line, bounded; "(none)" when empty."""
    return one_line(value if value not in (None, "") else "", limit) or "(none)"


_TOKEN = re.compile(r"\(none\)|[A-Za-z0-9][A-Za-z0-9_.:/-]{0,63}")


def _shown(token: str) -> str:
    """A code, id or status as is when it looks like one; quoted as data otherwise (it comes from the API)."""
    return token if _TOKEN.fullmatch(token) else quote(token, 64)


def _line(entry: Mapping[str, Any], when: datetime | None) -> LogLine:
    return LogLine(
        timestamp=when,
        level=_level(entry.get("level")),
        code=one_line(entry.get("code") or "", 64),
        message=one_line(entry.get("message") or "", MESSAGE_LIMIT),
    )


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("not a cursor this server issued") from None
    if not text.startswith("o:") or not text[2:].isdigit():
        raise ValueError("not a cursor this server issued")
    return int(text[2:])


def _groups(groups: dict[str, _Group], hints: Mapping[str, str] | None) -> tuple[list[CodeGroup], int]:
    ordered = sorted(groups.items(), key=lambda item: (-item[1].count, item[0]))
    shown = []
    for code, g in ordered[:MAX_GROUPS]:
        family, hint = classify(code, g.sample, hints)
        shown.append(
            CodeGroup(code=code, count=g.count, first=g.first, last=g.last, sample=g.sample, family=family, hint=hint)
        )
    return shown, max(len(ordered) - MAX_GROUPS, 0)


def digest_logs(
    entries: Iterable[Any],  # common entries (see the module docstring); anything else counts as unreadable
    *,
    now: datetime,
    job_id: str | None = None,
    job_status: str | None = None,
    active: bool = False,  # the job should be writing to its log right now (the provider judges its status)
    hints: Mapping[str, str] | None = None,
    newest: int = 5,
    stale_after: timedelta = timedelta(hours=1),
    page_size: int = 0,
    cursor: str | None = None,
) -> LogDigest:
    start = decode_cursor(cursor) if cursor else 0
    totals = dict.fromkeys(COUNTERS, 0)
    levels = dict.fromkeys(("info", "warn", "error", "other"), 0)
    groups: dict[str, dict[str, _Group]] = {"error": {}, "warn": {}}
    first = last = last_success = None
    heap: list[tuple[datetime, int, Mapping[str, Any]]] = []
    page: list[LogLine] = []
    total = 0
    for index, entry in enumerate(entries):
        total += 1
        if not isinstance(entry, Mapping):
            levels["other"] += 1
            if page_size and start <= index < start + page_size:
                page.append(_line({}, None))  # still an entry of the log: paging stays exact
            continue
        when = parse_time(entry.get("timestamp"))
        level = _level(entry.get("level"))
        levels[level] += 1
        if when is not None:
            first = when if first is None or when < first else first
            last = when if last is None or when > last else last
        context = entry.get("context")
        moved = 0
        if isinstance(context, Mapping):
            for key in COUNTERS:
                n = _count(context.get(key))
                totals[key] += n
                moved += abs(n)
        if level == "info" and moved and when is not None and (last_success is None or when > last_success):
            last_success = when
        if level in groups:
            code = _key(entry.get("code"))
            group = groups[level].get(code)
            if group is None:
                group = groups[level][code] = _Group()
            group.add(when, one_line(entry.get("message") or "", MESSAGE_LIMIT))
        if newest:
            item = (when or _EPOCH, index, entry)
            if len(heap) < newest:
                heapq.heappush(heap, item)
            elif item[:2] > heap[0][:2]:
                heapq.heapreplace(heap, item)
        if page_size and start <= index < start + page_size:
            page.append(_line(entry, when))
    if cursor and start >= total:
        raise ValueError(f"the cursor points past the end of the log ({total:,} entries)")
    errors, left_errors = _groups(groups["error"], hints)
    warnings, left_warnings = _groups(groups["warn"], hints)
    stale = None
    if active and (last is None or now - last > stale_after):
        silent = (now - last).total_seconds() / 3600 if last else float("inf")
        said = f"no log entry for {age(last, now)}" if last else "no log entries at all"
        stale = StaleInfo(silent_hours=round(silent, 1) if last else -1, message=f"{said} on a {job_status} job")
    return LogDigest(
        job_id=job_id,
        entries=total,
        first=first,
        last=last,
        totals=Totals(**totals),
        levels=Levels(**levels),
        errors=errors,
        warnings=warnings,
        groups_left_out=left_errors + left_warnings,
        last_activity=last,
        last_success=last_success,
        stale=stale,
        newest=[_line(entry, None if when is _EPOCH else when) for when, _, entry in sorted(heap, reverse=True)],
        page=(
            LogPage(
                start=start,
                entries=page,
                next_cursor=encode_cursor(start + page_size) if start + page_size < total else None,
                total=total,
            )
            if page_size
            else None
        ),
    )


def _group_lines(title: str, groups: list[CodeGroup]) -> list[str]:
    if not groups:
        return []
    lines = [f"{title}:"]
    for g in groups:
        span = f"{short_time(g.first)} → {short_time(g.last)}" if g.first != g.last else short_time(g.last)
        lines.append(f"- {_shown(g.code)} ×{g.count:,} ({g.family}) {span}: {quote(g.sample)}")
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
        out.append(f"- {when} {e.level} {_shown(e.code) if e.code else '-'}{repeat} {quote(e.message)}")
        i = j + 1
    return out


def render_digest(d: LogDigest) -> str:
    t, lv = d.totals, d.levels
    window = f"{short_time(d.first)} → {short_time(d.last)}" if d.entries else "empty"
    lines = [
        f"{d.entries:,} entries ({window} UTC): info {lv.info:,}, warn {lv.warn:,}, error {lv.error:,}"
        + (f", other {lv.other:,}" if lv.other else ""),
        f"totals: added {t.added:,}, omitted {t.omitted:,}, removed {t.removed:,}; "
        f"last data moved {short_time(d.last_success) if d.last_success else 'never'}",
    ]
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
        lines.append(f"Raw entries {p.start + 1:,}-{p.start + len(p.entries):,} of {p.total:,}:")
        lines += [
            f"- {short_time(e.timestamp)} {e.level} {_shown(e.code) if e.code else '-'} {quote(e.message)}"
            for e in p.entries
        ]
        lines.append(f"next_cursor: {p.next_cursor}" if p.next_cursor else "(end of log)")
    return "\n".join(lines)


# --- the account-wide log --------------------------------------------------------------------------------


class CodeCount(BaseModel):
    code: str
    count: int


class JobLogSummary(BaseModel):
    job_id: str
    name: str = ""
    status: str = ""
    entries: int
    errors: int
    warnings: int
    top_codes: list[CodeCount]
    last_activity: datetime | None = None
    totals: Totals


class AccountLogDigest(BaseModel):
    entries: int
    jobs: int
    jobs_with_errors: int
    totals: Totals
    levels: Levels
    top: list[JobLogSummary]
    jobs_left_out: int = 0


class _JobTally:
    __slots__ = ("codes", "entries", "errors", "last", "totals", "warnings")

    def __init__(self) -> None:
        self.entries = self.errors = self.warnings = 0
        self.codes: dict[str, int] = {}
        self.last: datetime | None = None
        self.totals = dict.fromkeys(COUNTERS, 0)


def digest_account_logs(
    entries: Iterable[Any],
    *,
    now: datetime,
    job_names: Mapping[str, str] | None = None,
    job_statuses: Mapping[str, str] | None = None,
    top: int = 10,
) -> AccountLogDigest:
    """Group the account-wide log per job in one pass; jobs with the most errors first."""
    names, statuses = job_names or {}, job_statuses or {}
    tallies: dict[str, _JobTally] = {}
    levels = dict.fromkeys(("info", "warn", "error", "other"), 0)
    totals = dict.fromkeys(COUNTERS, 0)
    count = 0
    for entry in entries:
        count += 1
        if not isinstance(entry, Mapping):
            levels["other"] += 1
            continue
        job = _key(entry.get("job_id"))
        tally = tallies.get(job)
        if tally is None:
            tally = tallies[job] = _JobTally()
        tally.entries += 1
        level = _level(entry.get("level"))
        levels[level] += 1
        when = parse_time(entry.get("timestamp"))
        if when is not None and (tally.last is None or when > tally.last):
            tally.last = when
        context = entry.get("context")
        if isinstance(context, Mapping):
            for key in COUNTERS:
                n = _count(context.get(key))
                tally.totals[key] += n
                totals[key] += n
        if level in ("error", "warn"):
            if level == "error":
                tally.errors += 1
            else:
                tally.warnings += 1
            code = _key(entry.get("code"))
            tally.codes[code] = tally.codes.get(code, 0) + 1
    ranked = sorted(tallies.items(), key=lambda item: (-item[1].errors, -item[1].warnings, -item[1].entries, item[0]))
    summaries = [
        JobLogSummary(
            job_id=job,
            name=one_line(names.get(job, ""), 80),
            status=one_line(statuses.get(job, ""), 24),
            entries=t.entries,
            errors=t.errors,
            warnings=t.warnings,
            top_codes=[
                CodeCount(code=c, count=n) for c, n in sorted(t.codes.items(), key=lambda cn: (-cn[1], cn[0]))[:3]
            ],
            last_activity=t.last,
            totals=Totals(**t.totals),
        )
        for job, t in ranked[:top]
    ]
    return AccountLogDigest(
        entries=count,
        jobs=len(tallies),
        jobs_with_errors=sum(1 for t in tallies.values() if t.errors),
        totals=Totals(**totals),
        levels=Levels(**levels),
        top=summaries,
        jobs_left_out=max(len(ranked) - top, 0),
    )


def render_account_digest(d: AccountLogDigest, detail_tool: str) -> str:
    t, lv = d.totals, d.levels
    lines = [
        f"Last 24 h: {d.entries:,} entries from {d.jobs} jobs, {d.jobs_with_errors} with errors; "
        f"error {lv.error:,}, warn {lv.warn:,}; added {t.added:,}, omitted {t.omitted:,}, removed {t.removed:,}",
    ]
    if d.top:
        lines.append("| job | status | entries | errors | warnings | top codes | last entry |")
        lines.append("|---|---|---|---|---|---|---|")
        for j in d.top:
            codes = (", ".join(f"{_shown(c.code)} ×{c.count:,}" for c in j.top_codes) or "-").replace("|", "/")
            name = quote(j.name, 50) + f" ({_shown(j.job_id)})" if j.name else _shown(j.job_id)
            status = _shown(j.status).replace("|", "/") if j.status else "-"
            lines.append(
                f"| {name.replace('|', '/')} | {status} | {j.entries:,} | {j.errors:,} | {j.warnings:,} "
                f"| {codes} | {short_time(j.last_activity)} |"
            )
    if d.jobs_left_out:
        lines.append(f"({d.jobs_left_out} quieter jobs not shown)")
    lines.append(f"Next: {detail_tool}(job_id) digests one job's whole log.")
    return "\n".join(lines)
