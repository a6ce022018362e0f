"""The account-wide log digest: every job's entries of the last day, grouped per job in one bounded pass.

Fed like a ``LogDigester`` (batches of common entries as a stream is read), it keeps a few counters per job and
per code, never the entries; jobs with the most errors come first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from jobs_mcp.digest import (
    COUNTERS,
    MAX_CODES,
    OTHER_CODES,
    Keys,
    Levels,
    Totals,
    as_utc,
    counter_value,
    entry_level,
    show_token,
    slot,
)
from jobs_mcp.logvocabulary import LogVocabulary
from jobs_mcp.render import short_time, when_of
from jobs_mcp.textsafe import one_line, quote

MAX_JOBS = 50_000  # jobs tallied one by one; an account's further jobs count together (memory stays bounded)
OTHER_JOBS = "(further jobs)"


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
    complete: bool = Field(True, description="false when the log could not be read to its end (see missing)")
    missing: str | None = Field(
        None, description="why the rest of the log is missing; the counts cover only what was read"
    )
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


class AccountDigester:
    """Per-job tallies of the account-wide log, fed in batches."""

    def __init__(self, *, top: int = 10) -> None:
        self.top = top
        self.entries = 0
        self.missing: str | None = None
        self.tallies: dict[str, _JobTally] = {}
        self.levels = dict.fromkeys(("info", "warn", "error", "other"), 0)
        self.totals = dict.fromkeys(COUNTERS, 0)
        self._jobs, self._codes = Keys(MAX_JOBS), Keys()

    @classmethod
    def for_args(cls, args: Any, vocabulary: LogVocabulary | None = None) -> AccountDigester:
        """A digester for the tool's arguments. Account-wide logs are Lytics' alone, whose entries carry the
        added/omitted/removed counters this digest totals (``vocabulary`` is accepted like ``LogDigester``'s)."""
        return cls(top=getattr(args, "top", 10))

    def stop(self, reason: str) -> None:
        self.missing = reason

    def feed(self, entries: Iterable[Any]) -> None:
        tallies, levels, totals = self.tallies, self.levels, self.totals
        for entry in entries:
            self.entries += 1
            if not isinstance(entry, Mapping):
                levels["other"] += 1
                continue
            tally = slot(tallies, self._jobs(entry.get("job_id")), MAX_JOBS, _JobTally, OTHER_JOBS)
            tally.entries += 1
            level = entry_level(entry.get("level"))
            levels[level] += 1
            when = when_of(entry.get("timestamp"))
            if when is not None and (tally.last is None or when > tally.last):
                tally.last = when
            context = entry.get("context")
            if context.__class__ is dict or (context and isinstance(context, Mapping)):
                for key in COUNTERS:
                    n = counter_value(context.get(key))
                    tally.totals[key] += n
                    totals[key] += n
            if level == "error" or level == "warn":
                if level == "error":
                    tally.errors += 1
                else:
                    tally.warnings += 1
                codes, code = tally.codes, self._codes(entry.get("code"))
                if code not in codes and len(codes) >= MAX_CODES:
                    code = OTHER_CODES  # bounded like the job digest's codes; the count stays exact
                codes[code] = codes.get(code, 0) + 1

    def finish(
        self, *, job_names: Mapping[str, str] | None = None, job_statuses: Mapping[str, str] | None = None
    ) -> AccountLogDigest:
        names, statuses, tallies = job_names or {}, job_statuses or {}, self.tallies
        ranked = sorted(
            tallies.items(), key=lambda item: (-item[1].errors, -item[1].warnings, -item[1].entries, item[0])
        )
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
                last_activity=as_utc(t.last),
                totals=Totals(**t.totals),
            )
            for job, t in ranked[: self.top]
        ]
        return AccountLogDigest(
            entries=self.entries,
            complete=self.missing is None,
            missing=self.missing,
            jobs=len(tallies),
            jobs_with_errors=sum(1 for t in tallies.values() if t.errors),
            totals=Totals(**self.totals),
            levels=Levels(**self.levels),
            top=summaries,
            jobs_left_out=max(len(ranked) - self.top, 0),
        )


def digest_account_logs(
    entries: Iterable[Any],
    *,
    job_names: Mapping[str, str] | None = None,
    job_statuses: Mapping[str, str] | None = None,
    top: int = 10,
) -> AccountLogDigest:
    """The account digest of a log already in memory (what an ``AccountDigester`` gives fed the same entries)."""
    digester = AccountDigester(top=top)
    digester.feed(entries)
    return digester.finish(job_names=job_names, job_statuses=job_statuses)


def render_account_digest(d: AccountLogDigest, detail_tool: str) -> str:
    t, lv = d.totals, d.levels
    lines = [
        f"Last 24 h: {d.entries:,} entries from {d.jobs} jobs, {d.jobs_with_errors} with errors; "
        f"error {lv.error:,}, warn {lv.warn:,}; added {t.added:,}, omitted {t.omitted:,}, removed {t.removed:,}",
    ]
    if d.missing:
        lines.insert(
            0,
            f"INCOMPLETE: only {d.entries:,} entries were read ({d.missing}); the rest of the log is missing, "
            "so the counts below are not the account's totals.",
        )
    if d.top:
        lines.append("| job | status | entries | errors | warnings | top codes | last entry |")
        lines.append("|---|---|---|---|---|---|---|")
        for j in d.top:
            codes = (", ".join(f"{show_token(c.code)} ×{c.count:,}" for c in j.top_codes) or "-").replace("|", "/")
            name = quote(j.name, 50) + f" ({show_token(j.job_id)})" if j.name else show_token(j.job_id)
            status = show_token(j.status).replace("|", "/") if j.status else "-"
            lines.append(
                f"| {name.replace('|', '/')} | {status} | {j.entries:,} | {j.errors:,} | {j.warnings:,} "
                f"| {codes} | {short_time(j.last_activity)} |"
            )
    if d.jobs_left_out:
        lines.append(f"({d.jobs_left_out} quieter jobs not shown)")
    lines.append(f"Next: {detail_tool}(job_id) digests one job's whole log.")
    return "\n".join(lines)
