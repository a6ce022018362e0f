"""The Strait simulator's model and its demo project: document shapes, how runs unfold over time, the seed.

``seed_project(store, now)`` fills an empty ``DocStore`` with twelve jobs, their versions and dependencies and a few
hundred runs (with their events) in every run status, all relative to ``now`` and drawn from ``random.Random(SEED)``,
so the same ``now`` gives the same project. The simulator (``simulator.py``) uses the same pieces at run time:
``job_document``/``run_document`` build documents, ``public`` renders them the way Strait's Go structs marshal
(``omitempty`` fields dropped when zero), ``plan`` turns a run's *script* (one ``Attempt`` per try) into dated
status steps, and ``advance`` applies the steps that are due, so a run moves on its own as the clock passes.

Real (strait-dev/strait @ac094a3): the Job, JobRun, JobVersion, JobDependency and RunEvent fields and which of them
are omitted when empty; UUIDv7 ids and ``ver_`` + 12 character version ids; the 15 run statuses and the transitions
used here (delayed->queued, queued->dequeued|executing, dequeued->executing, executing->queued on a retry, executing->
completed|failed|timed_out|crashed|system_failed|dead_letter, waiting->executing); failures from the HTTP dispatcher
("endpoint returned 503", error classes by status code, client/auth errors not retried, retries exhausted ->
``dead_letter``), "execution timed out" (class ``transient``) -> ``timed_out``, failures the job reports itself
through the SDK -> ``failed`` (no class, not retried); retries add ``retry_priority_boost`` to the priority and wait
1 s x 2^(attempt-1) +-20% (linear/fixed/custom strategies as in the worker's backoff); a triggered run's
metadata (``_sentry_*`` keys, ``dependency_key`` taken from the payload, the job's ``default_run_metadata``).

Invented (no public source): every name, id, URL, number and message of the demo project; what each job's code
logs (the run events) and the ``error`` events written on failures; the wording of crash, system-failure and expiry
errors; queue waits, durations and execution-trace numbers; that the worker heartbeats every 15 s; cron firing
catching up at most 50 missed runs per job.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import random
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jobs_mcp.sandbox.docstore import Doc, DocStore

SEED = 2002
PROJECT_ID = "proj_northwind_data"  # the project every sandbox API key belongs to

# Sandbox API keys that keep their limited scopes even when the simulator accepts any token.
READ_ONLY_TOKEN = "sandbox-read-only"  # jobs:read, runs:read
NO_TRIGGER_TOKEN = "sandbox-no-trigger"  # every job/run scope except jobs:trigger
JOBS_ONLY_TOKEN = "sandbox-jobs-only"  # jobs:read, jobs:write, jobs:trigger (no runs:* scopes)
ALL_SCOPES = frozenset({"jobs:read", "jobs:write", "jobs:trigger", "runs:read", "runs:write"})
SANDBOX_TOKENS: dict[str, frozenset[str]] = {
    READ_ONLY_TOKEN: frozenset({"jobs:read", "runs:read"}),
    NO_TRIGGER_TOKEN: ALL_SCOPES - {"jobs:trigger"},
    JOBS_ONLY_TOKEN: frozenset({"jobs:read", "jobs:write", "jobs:trigger"}),
}


def fixed_id(*parts: str) -> str:
    """A stable UUIDv7-shaped id for a seeded object (the time bits point at 2026-05-01)."""
    digest = int(hashlib.sha256(":".join(parts).encode()).hexdigest(), 16)
    return _uuid7_bits(1_777_593_600_000, digest >> 180, digest & ((1 << 62) - 1))


def _uuid7_bits(millis: int, rand_a: int, rand_b: int) -> str:
    value = (millis << 80) | (0x7 << 76) | ((rand_a & 0xFFF) << 64) | (0b10 << 62) | (rand_b & ((1 << 62) - 1))
    text = f"{value:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def uuid7(moment: datetime, rng: random.Random) -> str:
    return _uuid7_bits(int(moment.timestamp() * 1000), rng.getrandbits(12), rng.getrandbits(62))


def version_id(rng: random.Random) -> str:
    return "ver_" + "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(12))


# Jobs the demo and the tests rely on.
UPSTREAM_JOB_ID = fixed_id("job", "nightly-orders-etl")  # daily ETL; one run executing now (releases WAITING_RUN_ID)
CATALOG_JOB_ID = fixed_id("job", "product-catalog-sync")  # hourly, healthy
DEPENDENT_JOB_ID = fixed_id("job", "reindex-search-catalog")  # depends on the two above; a run waiting on them
HEALTHY_JOB_ID = fixed_id("job", "sync-stripe-invoices")  # busy: every 5 minutes, ~99% completed
FAILING_JOB_ID = fixed_id("job", "export-warehouse-snapshots")  # failing since its endpoint changed 31 h ago
FLAKY_JOB_ID = fixed_id("job", "dbt-models-refresh")  # about a third of its runs fail (reported through the SDK)
PAUSED_JOB_ID = fixed_id("job", "send-weekly-digest-emails")  # paused 3 days ago, with a reason
DISABLED_JOB_ID = fixed_id("job", "legacy-ftp-ingest")  # enabled: false since 19 days
WORKER_JOB_ID = fixed_id("job", "ml-feature-backfill")  # worker mode: dequeued, crashed, paused, replay_staged runs
MANUAL_JOB_ID = fixed_id("job", "gdpr-erasure-requests")  # manual only, payload_schema requires user_id
FANOUT_JOB_ID = fixed_id("job", "partner-webhook-fanout")  # every 15 minutes; queued and system_failed runs
VERSIONED_JOB_ID = fixed_id("job", "marketing-attribution-model")  # at version 4, three earlier versions recorded

HEALTHY_JOB_SLUG = "sync-stripe-invoices"
FAILING_JOB_SLUG = "export-warehouse-snapshots"
PAUSED_JOB_SLUG = "send-weekly-digest-emails"

# Runs in each status (the first are non-terminal and move on with the clock).
RUNNING_RUN_ID = fixed_id("run", "stripe-executing")  # executing, completes RUNNING_RUN_REMAINING_SECS after seeding
UPSTREAM_RUN_ID = fixed_id("run", "orders-etl-executing")  # executing, completes UPSTREAM_RUN_REMAINING_SECS after
WAITING_RUN_ID = fixed_id("run", "reindex-waiting")  # waiting for UPSTREAM_RUN_ID (same dependency_key)
QUEUED_RUN_ID = fixed_id("run", "fanout-queued")  # queued, starts within a few seconds
DEQUEUED_RUN_ID = fixed_id("run", "ml-dequeued")  # dequeued by a worker, executing a few seconds later
DELAYED_RUN_ID = fixed_id("run", "gdpr-delayed")  # scheduled DELAYED_RUN_STARTS_AFTER_SECS after seeding
PAUSED_RUN_ID = fixed_id("run", "ml-paused")  # run-level pause; stays paused
REPLAY_STAGED_RUN_ID = fixed_id("run", "ml-replay-staged")  # a dead-lettered OOM run staged for replay; stays
COMPLETED_RUN_ID = fixed_id("run", "stripe-completed")
FAILED_RUN_ID = fixed_id("run", "dbt-failed")  # failed: dbt reported a missing relation through the SDK
DEAD_LETTER_RUN_ID = fixed_id("run", "warehouse-dead-letter")  # 3 x "endpoint returned 503", then dead_letter
TIMED_OUT_RUN_ID = fixed_id("run", "warehouse-timed-out")  # 3 x "execution timed out"
CRASHED_RUN_ID = fixed_id("run", "ml-crashed")
SYSTEM_FAILED_RUN_ID = fixed_id("run", "fanout-system-failed")
CANCELED_RUN_ID = fixed_id("run", "gdpr-canceled")
EXPIRED_RUN_ID = fixed_id("run", "gdpr-expired")
IDEMPOTENT_RUN_ID = fixed_id("run", "gdpr-idempotent")  # completed 2 h ago with idempotency_key IDEMPOTENCY_KEY
IDEMPOTENCY_KEY = "erasure-ticket-48213"
RUN_BY_STATUS = {
    "delayed": DELAYED_RUN_ID,
    "queued": QUEUED_RUN_ID,
    "dequeued": DEQUEUED_RUN_ID,
    "executing": RUNNING_RUN_ID,
    "waiting": WAITING_RUN_ID,
    "completed": COMPLETED_RUN_ID,
    "failed": FAILED_RUN_ID,
    "timed_out": TIMED_OUT_RUN_ID,
    "crashed": CRASHED_RUN_ID,
    "system_failed": SYSTEM_FAILED_RUN_ID,
    "canceled": CANCELED_RUN_ID,
    "expired": EXPIRED_RUN_ID,
    "dead_letter": DEAD_LETTER_RUN_ID,
    "replay_staged": REPLAY_STAGED_RUN_ID,
    "paused": PAUSED_RUN_ID,
}
RUNNING_RUN_REMAINING_SECS = 50
UPSTREAM_RUN_REMAINING_SECS = 360
DELAYED_RUN_STARTS_AFTER_SECS = 1800

DEPENDENCY_ON_UPSTREAM_ID = fixed_id("dep", "reindex->orders")
DEPENDENCY_ON_CATALOG_ID = fixed_id("dep", "reindex->catalog")
VERSIONED_DEPENDENCY_ID = fixed_id("dep", "attribution->orders")
VERSIONED_JOB_VERSION_IDS = ("ver_4m8q2xk7d1pa", "ver_9c3n5tw0hy6e", "ver_b7r1j4v8z2sm")  # versions 1, 2, 3
VERSIONED_JOB_CURRENT_VERSION_ID = "ver_k2d6f9p3w5xq"
FAILING_JOB_PREVIOUS_VERSION_ID = "ver_t5e8a1c4n7ub"  # version 1 (the endpoint that still worked)

STATUSES = (
    "delayed",
    "queued",
    "dequeued",
    "executing",
    "waiting",
    "completed",
    "failed",
    "timed_out",
    "crashed",
    "system_failed",
    "canceled",
    "expired",
    "dead_letter",
    "replay_staged",
    "paused",
)
TERMINAL = frozenset(
    {"completed", "failed", "timed_out", "crashed", "system_failed", "canceled", "expired", "dead_letter"}
)
ACTIVE = frozenset({"queued", "delayed", "dequeued", "executing", "waiting"})  # block a job's deletion
HEARTBEAT_SECS = 15
CRON_CATCH_UP = 50

# --- time ----------------------------------------------------------------------------------------------------

_RFC3339 = re.compile(r"^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with trailing zeros of the fraction dropped, as Go's RFC3339Nano writes it."""
    moment = moment.astimezone(UTC)
    text = moment.replace(microsecond=0, tzinfo=None).isoformat()
    if moment.microsecond:
        text += "." + f"{moment.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_stamp(text: str) -> datetime:
    match = _RFC3339.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 time")
    fraction = (match[2] or ".0")[1:7].ljust(6, "0")
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(f"{match[1]}.{fraction}{zone}").astimezone(UTC)


# --- document shapes -----------------------------------------------------------------------------------------

REQ, OMIT, OPT = "req", "omit", "opt"  # always shown / omitted when zero / omitted only when null
Fields = tuple[tuple[str, str], ...]

JOB_FIELDS: Fields = (
    ("id", REQ),
    ("project_id", REQ),
    ("group_id", OMIT),
    ("name", REQ),
    ("slug", REQ),
    ("description", OMIT),
    ("cron", OMIT),
    ("payload_schema", OPT),
    ("tags", OMIT),
    ("endpoint_url", REQ),
    ("fallback_endpoint_url", OMIT),
    ("max_attempts", REQ),
    ("timeout_secs", REQ),
    ("max_concurrency", OMIT),
    ("max_concurrency_per_key", OMIT),
    ("execution_window_cron", OMIT),
    ("timezone", OMIT),
    ("rate_limit_max", OMIT),
    ("rate_limit_window_secs", OMIT),
    ("rate_limit_keys", OMIT),
    ("dedup_window_secs", OMIT),
    ("enabled", REQ),
    ("paused", REQ),
    ("paused_at", OPT),
    ("pause_reason", OMIT),
    ("webhook_url", OMIT),
    ("run_ttl_secs", OMIT),
    ("retry_strategy", OMIT),
    ("retry_delays_secs", OMIT),
    ("retry_priority_boost", OMIT),
    ("dlq_alert_threshold", OPT),
    ("queue_depth_alert_threshold", OPT),
    ("poison_pill_threshold", OPT),
    ("environment_id", OMIT),
    ("default_run_metadata", OMIT),
    ("version", REQ),
    ("version_id", OMIT),
    ("version_policy", OMIT),
    ("backwards_compatible", OMIT),
    ("cron_overlap_policy", OMIT),
    ("result_schema", OPT),
    ("debounce_window_secs", OMIT),
    ("batch_window_secs", OMIT),
    ("batch_max_size", OMIT),
    ("execution_mode", OMIT),
    ("queue", OMIT),
    ("on_complete_trigger_workflow", OMIT),
    ("on_complete_trigger_job", OMIT),
    ("on_complete_payload_mapping", OPT),
    ("on_failure_trigger_job", OMIT),
    ("on_failure_trigger_workflow", OMIT),
    ("on_failure_payload_mapping", OPT),
    ("created_by", OMIT),
    ("updated_by", OMIT),
    ("created_at", REQ),
    ("updated_at", REQ),
)
RUN_FIELDS: Fields = (
    ("id", REQ),
    ("job_id", REQ),
    ("project_id", REQ),
    ("tags", OMIT),
    ("status", REQ),
    ("attempt", REQ),
    ("payload", OPT),
    ("result", OPT),
    ("metadata", OMIT),
    ("error", OMIT),
    ("error_class", OMIT),
    ("triggered_by", REQ),
    ("scheduled_at", OPT),
    ("started_at", OPT),
    ("finished_at", OPT),
    ("heartbeat_at", OPT),
    ("next_retry_at", OPT),
    ("expires_at", OPT),
    ("parent_run_id", OMIT),
    ("priority", REQ),
    ("idempotency_key", OMIT),
    ("job_version", REQ),
    ("job_version_id", OMIT),
    ("workflow_step_run_id", OMIT),
    ("max_attempts_override", OMIT),
    ("timeout_secs_override", OMIT),
    ("retry_backoff", OMIT),
    ("retry_initial_delay_secs", OMIT),
    ("retry_max_delay_secs", OMIT),
    ("execution_trace", OPT),
    ("debug_mode", REQ),
    ("continuation_of", OMIT),
    ("lineage_depth", REQ),
    ("created_by", OMIT),
    ("batch_id", OMIT),
    ("concurrency_key", OMIT),
    ("execution_mode", OMIT),
    ("queue_name", OMIT),
    ("is_rollback", OMIT),
    ("replayed_run_id", OMIT),
    ("created_at", REQ),
)
VERSION_FIELDS: Fields = (
    ("id", REQ),
    ("job_id", REQ),
    ("version", REQ),
    ("version_id", OMIT),
    ("backwards_compatible", OMIT),
    ("name", REQ),
    ("slug", REQ),
    ("description", OMIT),
    ("cron", OMIT),
    ("payload_schema", OPT),
    ("tags", OMIT),
    ("endpoint_url", REQ),
    ("fallback_endpoint_url", OMIT),
    ("max_attempts", REQ),
    ("timeout_secs", REQ),
    ("webhook_url", OMIT),
    ("run_ttl_secs", OMIT),
    ("created_at", REQ),
)
DEPENDENCY_FIELDS: Fields = (
    ("id", REQ),
    ("job_id", REQ),
    ("depends_on_job_id", REQ),
    ("condition", REQ),
    ("created_at", REQ),
)
EVENT_FIELDS: Fields = (
    ("id", REQ),
    ("run_id", REQ),
    ("type", REQ),
    ("level", OMIT),
    ("message", REQ),
    ("data", OPT),
    ("created_at", REQ),
)


def public(doc: Mapping[str, Any], fields: Fields) -> Doc:
    """The document as the API marshals it: field order of the Go struct, ``omitempty`` fields dropped when zero."""
    out: Doc = {}
    for name, rule in fields:
        value = doc.get(name)
        if (rule == OPT and value is None) or (rule == OMIT and not value):
            continue
        out[name] = value
    return out


JOB_DEFAULTS: Doc = {
    "endpoint_url": "",
    "max_attempts": 3,
    "timeout_secs": 300,
    "retry_priority_boost": 1,
    "enabled": True,
    "paused": False,
    "version": 1,
    "version_policy": "pin",
    "execution_mode": "http",
    "queue": "default",
}


def job_document(values: Mapping[str, Any], *, job_id: str, version: str, actor: str, at: str) -> Doc:
    """A new job (version 1) from checked create values; private keys (``_...``) are never rendered."""
    doc: Doc = {**JOB_DEFAULTS, **values}
    doc.update(
        id=job_id,
        project_id=PROJECT_ID,
        version=1,
        version_id=version,
        created_by=actor,
        updated_by=actor,
        created_at=at,
        updated_at=at,
    )
    return doc


VERSIONED_KEYS = tuple(name for name, _rule in VERSION_FIELDS if name not in ("id", "job_id", "created_at"))


def version_snapshot(job: Mapping[str, Any], *, row_id: str, at: str) -> Doc:
    """The row an update writes: the job as it was *before* the change (its old version and version_id)."""
    return {"id": row_id, "job_id": job["id"], **{k: job.get(k) for k in VERSIONED_KEYS}, "created_at": at}


def canonical_json(value: Any) -> str:
    """Sorted keys, no spaces, ``<``, ``>``, ``&`` escaped: the canonical form Strait hashes payloads in."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def payload_hash(payload: Any) -> str:
    return hashlib.sha256(canonical_json({} if payload is None else payload).encode()).hexdigest()


def run_document(
    job: Mapping[str, Any],
    *,
    run_id: str,
    at: datetime,
    triggered_by: str,
    payload: Any = None,
    tags: Mapping[str, str] | None = None,
    priority: int = 0,
    idempotency_key: str = "",
    created_by: str = "",
    scheduled_at: datetime | None = None,
    ttl_secs: int | None = None,
    metadata: Mapping[str, str] | None = None,
    batch_id: str = "",
    concurrency_key: str = "",
) -> Doc:
    """A fresh run of ``job``: ``delayed`` when scheduled in the future, else ``queued`` (dependencies aside)."""
    delayed = scheduled_at is not None and scheduled_at > at
    base = scheduled_at if delayed and scheduled_at is not None else at
    ttl = ttl_secs or int(job.get("run_ttl_secs") or 0) or int(job["timeout_secs"]) + 60
    meta = dict(metadata or {})
    if isinstance(payload, dict) and isinstance(payload.get("dependency_key"), str):
        meta["dependency_key"] = payload["dependency_key"]
    for key, value in (job.get("default_run_metadata") or {}).items():
        meta.setdefault(key, value)
    return {
        "id": run_id,
        "job_id": job["id"],
        "project_id": job["project_id"],
        "tags": {**(job.get("tags") or {}), **(tags or {})},
        "status": "delayed" if delayed else "queued",
        "attempt": 1,
        "payload": {} if payload is None else payload,
        "metadata": meta,
        "triggered_by": triggered_by,
        "scheduled_at": stamp(scheduled_at) if scheduled_at is not None else None,
        "expires_at": stamp(base + timedelta(seconds=ttl)),
        "priority": priority,
        "idempotency_key": idempotency_key,
        "job_version": job["version"],
        "job_version_id": job.get("version_id", ""),
        "debug_mode": False,
        "lineage_depth": 0,
        "created_by": created_by,
        "batch_id": batch_id,
        "concurrency_key": concurrency_key,
        "execution_mode": job.get("execution_mode") or "http",
        "queue_name": job.get("queue") or "default",
        "created_at": stamp(at),
    }


# --- cron ----------------------------------------------------------------------------------------------------

_MONTHS = {
    n: i for i, n in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), 1)
}
_WEEKDAYS = {n: i for i, n in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}


class Cron(NamedTuple):
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    any_day: bool
    any_weekday: bool


def cron_field_count(expr: str) -> int:
    return len(expr.split())


def _cron_number(text: str, names: Mapping[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def _cron_field(text: str, low: int, high: int, names: Mapping[str, int]) -> tuple[set[int], bool]:
    values: set[int] = set()
    star = False
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 0
        if slash and step < 1:
            raise ValueError(f"invalid step in {part}")
        step = step or 1
        if span in ("*", "?"):
            start, end = low, high
            star = star or step == 1
        else:
            first, dash, last = span.partition("-")
            start = _cron_number(first, names)
            end = _cron_number(last, names) if dash else (high if slash else start)
        if start < low or end > high or start > end:
            raise ValueError(f"{part} is out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return values, star


@functools.lru_cache(maxsize=256)
def parse_cron(expr: str) -> Cron:
    """A five-field cron expression (robfig/cron's standard parser: no seconds, no descriptors)."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields, got {len(fields)}")
    minutes, _ = _cron_field(fields[0], 0, 59, {})
    hours, _ = _cron_field(fields[1], 0, 23, {})
    days, any_day = _cron_field(fields[2], 1, 31, {})
    months, _ = _cron_field(fields[3], 1, 12, _MONTHS)
    weekdays, any_weekday = _cron_field(fields[4], 0, 6, _WEEKDAYS)
    return Cron(
        tuple(sorted(minutes)),
        tuple(sorted(hours)),
        frozenset(days),
        frozenset(months),
        frozenset(weekdays),
        any_day,
        any_weekday,
    )


def zone_of(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _day_matches(cron: Cron, day: date) -> bool:
    by_date, by_weekday = day.day in cron.days, day.isoweekday() % 7 in cron.weekdays
    if cron.any_day or cron.any_weekday:
        return by_date and by_weekday
    return by_date or by_weekday


def cron_next(expr: str, zone_name: str | None, after: datetime) -> datetime | None:
    """The first firing strictly after ``after`` (None for an expression that never fires or does not parse)."""
    try:
        cron = parse_cron(expr)
    except ValueError:
        return None
    zone = zone_of(zone_name)
    day = after.astimezone(zone).date()
    for _ in range(366 * 5):
        if day.month in cron.months and _day_matches(cron, day):
            for hour in cron.hours:
                for minute in cron.minutes:
                    moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                    if moment > after:
                        return moment.astimezone(UTC)
        day += timedelta(days=1)
    return None


def cron_lag(rng: random.Random) -> timedelta:
    """How long after its firing time the scheduler enqueues a cron run (so runs of one minute never tie)."""
    return timedelta(microseconds=rng.randint(5_000, 900_000))


def cron_between(expr: str, zone_name: str | None, after: datetime, until: datetime) -> Iterator[datetime]:
    moment = cron_next(expr, zone_name, after)
    while moment is not None and moment <= until:
        yield moment
        moment = cron_next(expr, zone_name, moment)


# --- how a run unfolds ---------------------------------------------------------------------------------------


class Attempt(NamedTuple):
    """One try of a run: ``outcome`` is ok | http | connect | timeout | sdk_fail | crash | system."""

    outcome: str
    secs: float  # how long the try runs (a timeout runs the job's timeout_secs instead)
    detail: Any = None  # ok: the result; http: the status code; others: the error message
    logs: tuple[tuple[str, str], ...] = ()  # (level, message) the job's code logs during the try


def script_json(script: Sequence[Attempt]) -> list[Any]:
    return [[a.outcome, a.secs, a.detail, [list(entry) for entry in a.logs]] for a in script]


def script_from_json(raw: Sequence[Any]) -> list[Attempt]:
    return [Attempt(str(o), float(s), d, tuple((str(lv), str(m)) for lv, m in logs)) for o, s, d, logs in raw]


def _http_class(code: int) -> str:
    if code == 429:
        return "rate_limited"
    if code in (401, 403):
        return "auth"
    return "client" if 400 <= code < 500 else "server"


def retryable(attempt: Attempt) -> bool:
    """Whether the dispatcher retries this failure (client, auth, budget and oom errors are final)."""
    if attempt.outcome == "http":
        return _http_class(int(attempt.detail)) not in ("client", "auth")
    return attempt.outcome in ("connect", "timeout")


def _failure(attempt: Attempt) -> tuple[str, str, str]:
    """(error, error_class, final status) of a failed try."""
    if attempt.outcome == "http":
        return f"endpoint returned {attempt.detail}", _http_class(int(attempt.detail)), "dead_letter"
    if attempt.outcome == "connect":
        return str(attempt.detail), "connection", "dead_letter"
    if attempt.outcome == "timeout":
        return "execution timed out", "transient", "timed_out"
    if attempt.outcome == "crash":
        return str(attempt.detail), "", "crashed"
    if attempt.outcome == "system":
        return str(attempt.detail), "server", "system_failed"
    return str(attempt.detail), "", "failed"


def retry_delay(job: Mapping[str, Any], attempt: int, rng: random.Random) -> timedelta:
    strategy, custom = job.get("retry_strategy") or "", job.get("retry_delays_secs") or []
    if strategy == "linear":
        secs = float(attempt)
    elif strategy == "fixed":
        secs = 1.0
    elif strategy == "custom" and custom:
        secs = float(custom[min(attempt - 1, len(custom) - 1)])
    else:
        secs = float(2 ** min(attempt - 1, 12))
    secs = min(max(secs, 1.0), 3600.0)
    return timedelta(seconds=secs * rng.uniform(0.8, 1.2))


def _step(at: datetime, status: str | None, events: Sequence[Doc] = (), **changes: Any) -> Doc:
    step: Doc = {"at": stamp(at), "status": status, "set": changes}
    if events:
        step["events"] = list(events)
    return step


def _trace(wait: timedelta, secs: float, rng: random.Random) -> Doc:
    connect, transfer = rng.randint(8, 60), rng.randint(1, 40)
    ttfb = max(int(secs * 1000) - connect - transfer, 1)
    dequeue = rng.randint(2, 25)
    return {
        "queue_wait_ms": int(wait.total_seconds() * 1000),
        "dequeue_ms": dequeue,
        "connect_ms": connect,
        "ttfb_ms": ttfb,
        "transfer_ms": transfer,
        "total_ms": dequeue + connect + ttfb + transfer,
        "dispatch_ms": connect + ttfb + transfer,
    }


def plan(
    job: Mapping[str, Any],
    run: Mapping[str, Any],
    start: datetime,
    script: Sequence[Attempt],
    rng: random.Random,
    *,
    released: bool = False,
) -> list[Doc]:
    """Dated steps taking ``run`` from its current status through every try of ``script`` to a final status.

    ``start`` is when the run is ready (its creation, or when a waiting run's dependencies were met: ``released``).
    Worker-mode jobs pass through ``dequeued``; a try that fails with tries left goes back to ``queued`` with
    ``next_retry_at``; the last try decides the final status.
    """
    steps: list[Doc] = []
    moment = start
    if run["status"] == "delayed" and run.get("scheduled_at"):
        moment = max(moment, parse_stamp(run["scheduled_at"]))
        steps.append(_step(moment, "queued"))
    queued_at, priority = moment, int(run.get("priority") or 0)
    boost = int(job.get("retry_priority_boost") or 0)
    worker = job.get("execution_mode") == "worker"
    for number, attempt in enumerate(script, start=1):
        moment += timedelta(seconds=rng.uniform(0.5, 2.0))
        if worker and not (released and number == 1):
            steps.append(_step(moment, "dequeued"))
            moment += timedelta(seconds=rng.uniform(2.0, 4.0))
        secs = float(job.get("timeout_secs") or 300) if attempt.outcome == "timeout" else attempt.secs
        end = moment + timedelta(seconds=secs)
        begin: Doc = {"started_at": stamp(moment), "heartbeat_at": stamp(moment), "attempt": number}
        if attempt.outcome == "crash":
            begin["_hb_until"] = stamp(max(moment, end - timedelta(seconds=90)))
        steps.append(_step(moment, "executing", next_retry_at=None, **begin))
        for index, (level, message) in enumerate(attempt.logs, start=1):
            at = moment + timedelta(seconds=secs * index / (len(attempt.logs) + 1))
            steps.append(_step(at, None, [{"type": "log", "level": level, "message": message}]))
        trace = _trace(moment - queued_at, secs, rng)
        if attempt.outcome == "ok":
            result = attempt.detail if attempt.detail is not None else {}
            steps.append(
                _step(
                    end,
                    "completed",
                    finished_at=stamp(end),
                    heartbeat_at=stamp(end),
                    result=result,
                    execution_trace=trace,
                )
            )
            return steps
        error, error_class, final = _failure(attempt)
        event = {"type": "error", "level": "error", "message": error}
        if number < len(script):
            retry_at = end + retry_delay(job, number, rng)
            priority = min(priority + boost, 10) if boost > 0 else priority
            steps.append(
                _step(
                    end,
                    "queued",
                    [event],
                    attempt=number + 1,
                    error=error,
                    error_class=error_class or None,
                    started_at=None,
                    finished_at=None,
                    next_retry_at=stamp(retry_at),
                    priority=priority,
                )
            )
            moment = queued_at = retry_at
            continue
        final_fields: Doc = {"finished_at": stamp(end), "error": error, "error_class": error_class or None}
        if final != "crashed":
            final_fields["heartbeat_at"] = stamp(end)
        steps.append(_step(end, final, [event], execution_trace=trace, _hb_until=None, **final_fields))
    return steps


def _event_id(run_id: str, at: str, index: int) -> str:
    return uuid7(parse_stamp(at), random.Random(f"{run_id}|{at}|{index}"))


def advance(run: Doc, now: datetime) -> tuple[bool, list[Doc]]:
    """Apply every step of ``run`` due by ``now`` (and the worker's heartbeat): (changed?, new event documents)."""
    events: list[Doc] = []
    steps: list[Doc] = list(run.get("_steps") or [])
    changed = False
    while steps and parse_stamp(steps[0]["at"]) <= now:
        step = steps.pop(0)
        changed = True
        if step.get("status"):
            run["status"] = step["status"]
        for key, value in step.get("set", {}).items():
            if value is None:
                run.pop(key, None)
            else:
                run[key] = value
        for index, event in enumerate(step.get("events", [])):
            at = step["at"]
            events.append({"id": _event_id(run["id"], at, index), "run_id": run["id"], **event, "created_at": at})
    if changed:
        if steps:
            run["_steps"] = steps
        else:
            run.pop("_steps", None)
    if run["status"] == "executing" and run.get("started_at"):
        started = parse_stamp(run["started_at"])
        beat = started + timedelta(
            seconds=HEARTBEAT_SECS * math.floor((now - started).total_seconds() / HEARTBEAT_SECS)
        )
        if run.get("_hb_until"):
            beat = min(beat, parse_stamp(run["_hb_until"]))
        if run.get("heartbeat_at") is None or beat > parse_stamp(run["heartbeat_at"]):
            run["heartbeat_at"] = stamp(beat)
            changed = True
    return changed, events


def is_live(run: Mapping[str, Any]) -> bool:
    """Whether the run can still move by itself (steps to come, waiting on dependencies, or heartbeating)."""
    return bool(run.get("_steps")) or bool(run.get("_await")) or run.get("status") == "executing"


# --- what each job's code does (scripts) ---------------------------------------------------------------------

Profile = Callable[[Mapping[str, Any], random.Random, datetime], list[Attempt]]


def _tries(job: Mapping[str, Any], failure: Attempt) -> list[Attempt]:
    """``failure`` on every try the job allows (once when the dispatcher does not retry it)."""
    return [failure] * (int(job.get("max_attempts") or 1) if retryable(failure) else 1)


def _then_ok(job: Mapping[str, Any], failure: Attempt, ok: Attempt) -> list[Attempt]:
    return [failure, ok] if int(job.get("max_attempts") or 1) > 1 and retryable(failure) else [ok]


def _default(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    ok = Attempt("ok", round(rng.uniform(1.5, 12.0), 3), {"ok": True}, (("info", "handler invoked"),))
    if rng.random() < 0.04:
        return _then_ok(job, Attempt("http", rng.uniform(0.2, 2.0), 502), ok)
    return [ok]


def _stripe(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    invoices = rng.randint(0, 240)
    items = invoices * rng.randint(1, 4)
    ok = Attempt(
        "ok",
        round(rng.uniform(6.0, 35.0), 3),
        {"invoices_synced": invoices, "line_items": items, "next_cursor": f"in_1Q{rng.getrandbits(40):010x}"},
        (
            ("info", f"fetching invoices updated since {stamp(at - timedelta(minutes=5))}"),
            ("info", f"upserted {invoices} invoices and {items} line items into billing.invoices"),
        ),
    )
    if rng.random() < 0.05:
        limited = Attempt("http", rng.uniform(1.0, 4.0), 429, (("warn", "Stripe API answered 429 (rate limited)"),))
        return _then_ok(job, limited, ok)
    return [ok]


def _export_logs(at: datetime, base: str) -> tuple[str, str]:
    hour = at.strftime("%Y-%m-%dT%H")
    return (
        "info",
        f"exporting snapshot orders@{hour} via {base} to s3://northwind-warehouse-exports/snapshots/{hour}/",
    )


def _warehouse_ok(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    files = rng.randint(18, 64)
    result = {"snapshot": f"orders@{at.strftime('%Y-%m-%dT%H')}", "files": files, "bytes": files * 134_217_728}
    logs = (_export_logs(at, "https://exports.northwind-data.io/v1/export"), ("info", f"wrote {files} parquet files"))
    return [Attempt("ok", round(rng.uniform(120.0, 300.0), 3), result, logs)]


def _warehouse_failing(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    start = _export_logs(at, "https://exports.northwind-data.io/v2/export")
    roll = rng.random()
    if roll < 0.6:
        request = f"{rng.getrandbits(64):016X}"
        denied = (
            "COPY INTO @warehouse_export_stage failed: Access Denied (Service: Amazon S3; Status Code: 403; "
            f"Error Code: AccessDenied; Request ID: {request}) - role arn:aws:iam::418207719326:role/"
            "warehouse-export-v2 is not allowed s3:PutObject on northwind-warehouse-exports"
        )
        logs = (start, ("error", denied), ("error", "export aborted; answering 503 so Strait retries"))
        return _tries(job, Attempt("http", round(rng.uniform(4.0, 11.0), 3), 503, logs))
    if roll < 0.85:
        stalled = ("warn", "S3 multipart upload stalled: no part acknowledged in the last 120s")
        return _tries(job, Attempt("timeout", 0.0, None, (start, stalled)))
    refused = "dial tcp 10.42.7.19:8443: connect: connection refused"
    return _tries(job, Attempt("connect", round(rng.uniform(0.05, 0.3), 3), refused))


_DBT_FAILURES = (
    (
        "dbt run failed: 2 of 148 models errored - Database Error in model fct_orders "
        '(models/marts/fct_orders.sql): relation "raw.stripe_charges_v2" does not exist',
        (
            ("error", "Database Error in model fct_orders (models/marts/fct_orders.sql)"),
            ("error", 'relation "raw.stripe_charges_v2" does not exist'),
            ("warn", "skipping 14 models downstream of fct_orders"),
        ),
    ),
    (
        "dbt test failed: 3 of 412 tests failed - not_null_fct_orders_customer_id (1204 rows)",
        (
            ("warn", "FAIL 1204 not_null_fct_orders_customer_id"),
            ("warn", "FAIL 7 unique_dim_customers_customer_id"),
        ),
    ),
)


def _dbt(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    begin = ("info", "dbt build --select tag:hourly+ (148 models, 412 tests)")
    if rng.random() < 0.33:
        message, logs = _DBT_FAILURES[0] if rng.random() < 0.7 else _DBT_FAILURES[1]
        return [Attempt("sdk_fail", round(rng.uniform(90.0, 300.0), 3), message, (begin, *logs))]
    secs = round(rng.uniform(240.0, 480.0), 3)
    done = ("info", f"finished 148 models and 412 tests in {int(secs)}s")
    return [Attempt("ok", secs, {"models_run": 148, "tests_passed": 412, "warnings": rng.randint(0, 6)}, (begin, done))]


def _orders(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    day = (at - timedelta(days=1)).strftime("%Y-%m-%d")
    rows = rng.randint(380_000, 520_000)
    logs = (
        ("info", f"downloading shopify export orders_{day}.csv.gz"),
        ("info", f"loaded {rows} rows into raw.orders (partition {day})"),
        ("info", "rebuilt analytics.fct_orders"),
    )
    return [Attempt("ok", round(rng.uniform(600.0, 900.0), 3), {"rows_loaded": rows, "partition": day}, logs)]


def _catalog(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    upserted, archived = rng.randint(40, 900), rng.randint(0, 25)
    logs = (("info", f"pulled {upserted} changed products from the PIM"),)
    ok = Attempt("ok", round(rng.uniform(30.0, 90.0), 3), {"products_upserted": upserted, "archived": archived}, logs)
    if rng.random() < 0.03:
        return _then_ok(job, Attempt("http", rng.uniform(0.5, 3.0), 502), ok)
    return [ok]


def _reindex(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    docs = rng.randint(180_000, 210_000)
    logs = (("info", f"reindexing {docs} documents into catalog-v7"), ("info", "swapped alias catalog -> catalog-v7"))
    return [
        Attempt("ok", round(rng.uniform(120.0, 240.0), 3), {"documents_indexed": docs, "index": "catalog-v7"}, logs)
    ]


def _ml(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    rows = rng.randint(2_000_000, 9_000_000)
    logs = (("info", "loading feature views user_activity_7d, order_value_30d"), ("info", f"materialized {rows} rows"))
    if rng.random() < 0.1:
        lost = "worker ml-gpu-2 stopped heartbeating for 90s; the run was marked crashed"
        return [Attempt("crash", round(rng.uniform(600.0, 1500.0), 3), lost, logs[:1])]
    return [Attempt("ok", round(rng.uniform(900.0, 2400.0), 3), {"rows_materialized": rows}, logs)]


def _gdpr(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    systems = ["postgres", "s3", "mailchimp", "zendesk"]
    logs = (("info", f"erasing the subject from {len(systems)} systems"),)
    return [Attempt("ok", round(rng.uniform(4.0, 15.0), 3), {"systems_erased": systems}, logs)]


def _fanout(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    deliveries = rng.randint(5, 140)
    ok = Attempt("ok", round(rng.uniform(0.8, 4.0), 3), {"deliveries": deliveries, "partners": 9})
    if rng.random() < 0.06:
        return _then_ok(job, Attempt("http", rng.uniform(0.2, 1.0), 502), ok)
    return [ok]


def _digest(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    sent = rng.randint(12_000, 14_000)
    return [Attempt("ok", round(rng.uniform(60.0, 180.0), 3), {"emails_sent": sent}, (("info", f"sent {sent}"),))]


def _ftp(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    return [Attempt("http", round(rng.uniform(0.1, 0.5), 3), 404)]


def _attribution(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    touchpoints = rng.randint(1_000_000, 1_600_000)
    result = {"touchpoints": touchpoints, "model": "shapley-v3"}
    return [
        Attempt("ok", round(rng.uniform(300.0, 540.0), 3), result, (("info", f"scored {touchpoints} touchpoints"),))
    ]


PROFILES: dict[str, Profile] = {
    "default": _default,
    "stripe": _stripe,
    "warehouse_ok": _warehouse_ok,
    "warehouse_failing": _warehouse_failing,
    "dbt": _dbt,
    "orders": _orders,
    "catalog": _catalog,
    "reindex": _reindex,
    "ml": _ml,
    "gdpr": _gdpr,
    "fanout": _fanout,
    "digest": _digest,
    "ftp": _ftp,
    "attribution": _attribution,
}


def script_for(job: Mapping[str, Any], rng: random.Random, at: datetime) -> list[Attempt]:
    """What the job's endpoint does on a run started at ``at`` (jobs made through the API use ``default``)."""
    return PROFILES.get(str(job.get("_profile") or "default"), _default)(job, rng, at)


# --- the demo project ----------------------------------------------------------------------------------------

_ENDPOINTS = "https://jobs.northwind-data.io"
_SLACK = "https://hooks.slack.com/services/T04NWD8Q1/B07JOBS2Q/wK3pXr8sZ1mN4vQ7"


class JobSpec(NamedTuple):
    job_id: str
    slug: str
    name: str
    age_days: float
    profile: str
    values: Doc


def _specs() -> list[JobSpec]:
    gdpr_schema = {
        "type": "object",
        "required": ["user_id"],
        "properties": {"user_id": {"type": "string"}, "ticket": {"type": "string"}, "dry_run": {"type": "boolean"}},
    }
    return [
        JobSpec(UPSTREAM_JOB_ID, "nightly-orders-etl", "Nightly orders ETL", 210, "orders", {
            "description": "Loads yesterday's Shopify orders into raw.orders and rebuilds analytics.fct_orders.",
            "cron": "0 2 * * *", "timezone": "America/New_York", "endpoint_url": f"{_ENDPOINTS}/etl/orders",
            "timeout_secs": 3600, "tags": {"team": "data-platform", "tier": "critical", "domain": "orders"},
            "retry_strategy": "exponential", "webhook_url": _SLACK, "_webhook_secret": "whsec_2f8c1e9a7b3d4f6a",
        }),
        JobSpec(CATALOG_JOB_ID, "product-catalog-sync", "Product catalog sync", 160, "catalog", {
            "description": "Pulls changed products from the PIM into the catalog database.",
            "cron": "0 * * * *", "endpoint_url": f"{_ENDPOINTS}/catalog/sync", "timeout_secs": 600,
            "tags": {"team": "commerce", "domain": "catalog"}, "max_concurrency": 1,
        }),
        JobSpec(DEPENDENT_JOB_ID, "reindex-search-catalog", "Reindex search catalog", 120, "reindex", {
            "description": "Rebuilds the catalog search index once orders and products are fresh.",
            "cron": "30 8 * * *", "endpoint_url": f"{_ENDPOINTS}/search/reindex", "timeout_secs": 1200,
            "tags": {"team": "search", "domain": "catalog"},
        }),
        JobSpec(HEALTHY_JOB_ID, HEALTHY_JOB_SLUG, "Sync Stripe invoices", 300, "stripe", {
            "description": "Mirrors new and updated Stripe invoices into billing.invoices.",
            "cron": "*/5 * * * *", "endpoint_url": f"{_ENDPOINTS}/billing/stripe-invoices", "timeout_secs": 120,
            "tags": {"team": "billing", "source": "stripe", "tier": "critical"}, "max_concurrency": 1,
            "max_attempts": 4, "default_run_metadata": {"owner": "billing-oncall"}, "cron_overlap_policy": "skip",
        }),
        JobSpec(FAILING_JOB_ID, FAILING_JOB_SLUG, "Export warehouse snapshots", 75, "warehouse_failing", {
            "description": "Hourly parquet snapshot of the orders mart to S3 for the analytics partners.",
            "cron": "15 * * * *", "endpoint_url": f"{_ENDPOINTS}/warehouse/v2/export", "timeout_secs": 600,
            "tags": {"team": "analytics", "destination": "s3", "tier": "critical"}, "dlq_alert_threshold": 5,
            "fallback_endpoint_url": "https://exports-fallback.northwind-data.io/warehouse/export",
        }),
        JobSpec(FLAKY_JOB_ID, "dbt-models-refresh", "dbt models refresh", 140, "dbt", {
            "description": "Runs dbt build for the hourly-tagged models and their children.",
            "cron": "0 */4 * * *", "endpoint_url": f"{_ENDPOINTS}/dbt/build", "timeout_secs": 1800,
            "max_attempts": 1, "tags": {"team": "analytics", "tool": "dbt"},
        }),
        JobSpec(PAUSED_JOB_ID, PAUSED_JOB_SLUG, "Send weekly digest emails", 400, "digest", {
            "description": "Monday-morning product digest to opted-in customers.",
            "cron": "0 8 * * 1", "timezone": "Europe/Berlin", "endpoint_url": f"{_ENDPOINTS}/email/weekly-digest",
            "timeout_secs": 900, "tags": {"team": "growth", "channel": "email"},
        }),
        JobSpec(DISABLED_JOB_ID, "legacy-ftp-ingest", "Legacy FTP ingest", 700, "ftp", {
            "description": "Deprecated: pulled partner CSV drops from the old FTP server.",
            "cron": "0 3 * * *", "endpoint_url": "https://legacy-ingest.northwind-data.io/ftp/pull",
            "tags": {"team": "data-platform", "status": "deprecated"}, "max_attempts": 2,
        }),
        JobSpec(WORKER_JOB_ID, "ml-feature-backfill", "ML feature backfill", 45, "ml", {
            "description": "Materializes historical feature views on the GPU worker pool.",
            "execution_mode": "worker", "queue": "gpu-backfill", "timeout_secs": 7200, "max_attempts": 2,
            "tags": {"team": "ml", "pool": "gpu"}, "max_concurrency": 2,
        }),
        JobSpec(MANUAL_JOB_ID, "gdpr-erasure-requests", "GDPR erasure requests", 260, "gdpr", {
            "description": "Erases a data subject from every system; triggered by the privacy desk per ticket.",
            "endpoint_url": f"{_ENDPOINTS}/privacy/erase", "timeout_secs": 300, "payload_schema": gdpr_schema,
            "tags": {"team": "privacy", "compliance": "gdpr"}, "run_ttl_secs": 86400,
        }),
        JobSpec(FANOUT_JOB_ID, "partner-webhook-fanout", "Partner webhook fan-out", 90, "fanout", {
            "description": "Delivers order events to partner webhooks.",
            "cron": "*/15 * * * *", "endpoint_url": f"{_ENDPOINTS}/integrations/fanout", "timeout_secs": 60,
            "queue": "webhooks", "max_concurrency": 5, "tags": {"team": "integrations"}, "retry_strategy": "linear",
        }),
        JobSpec(VERSIONED_JOB_ID, "marketing-attribution-model", "Marketing attribution model", 90, "attribution", {
            "description": "Daily multi-touch attribution over yesterday's sessions and orders.",
            "cron": "0 5 * * *", "endpoint_url": f"{_ENDPOINTS}/marketing/attribution", "timeout_secs": 1800,
            "tags": {"team": "marketing"},
        }),
    ]  # fmt: skip


class _Seeder:
    def __init__(self, store: DocStore, now: datetime) -> None:
        self.store = store
        self.now = now.astimezone(UTC)
        self.rng = random.Random(SEED)
        self.jobs: dict[str, Doc] = {}
        self.history: dict[str, list[tuple[datetime, Doc]]] = {}  # job id -> (valid from, job as it was)
        self.live: list[str] = []

    def ago(self, **delta: float) -> datetime:
        return self.now - timedelta(**delta)

    # jobs ------------------------------------------------------------------------------------------------------

    def add_job(self, spec: JobSpec) -> Doc:
        created = self.ago(days=spec.age_days, minutes=self.rng.randint(0, 600))
        version = version_id(self.rng)
        values = {"name": spec.name, "slug": spec.slug, "_profile": spec.profile, **spec.values}
        doc = job_document(values, job_id=spec.job_id, version=version, actor="user_2p8Qf3kLm", at=stamp(created))
        self.jobs[spec.job_id] = doc
        self.history[spec.job_id] = [(created, dict(doc))]
        return doc

    def edit(self, job_id: str, at: datetime, new_version_id: str, row_version_id: str, **changes: Any) -> None:
        """An update: record the version as it was, then apply ``changes`` as the next version."""
        job = self.jobs[job_id]
        job["version_id"] = row_version_id
        row = version_snapshot(job, row_id=fixed_id("version", job_id, str(job["version"])), at=stamp(at))
        self.store.put("version", row["id"], row, parent=job_id)
        job.update(changes, version=job["version"] + 1, version_id=new_version_id, updated_at=stamp(at))
        self.history[job_id].append((at, dict(job)))

    def as_of(self, job_id: str, at: datetime) -> Doc:
        current = self.history[job_id][0][1]
        for since, state in self.history[job_id]:
            if since <= at:
                current = state
        return current

    def depend(self, dep_id: str, job_id: str, on: str, condition: str, at: datetime) -> None:
        doc = {"id": dep_id, "job_id": job_id, "depends_on_job_id": on, "condition": condition, "created_at": stamp(at)}
        self.store.put("dependency", dep_id, doc, parent=job_id)

    # runs ------------------------------------------------------------------------------------------------------

    def add_run(
        self,
        job_id: str,
        created: datetime,
        script: Sequence[Attempt] | None = None,
        *,
        run_id: str | None = None,
        anchor: tuple[str, datetime] | None = None,
        until: datetime | None = None,
        **options: Any,
    ) -> Doc:
        """A run created at ``created`` that plays ``script`` (the job's profile when None) up to ``until``/now.

        ``anchor=(status, moment)`` shifts the whole timeline so that the run enters ``status`` at ``moment``.
        """
        job = self.as_of(job_id, created)
        options.setdefault("triggered_by", "cron")
        if options["triggered_by"] == "cron":
            created += cron_lag(self.rng)
        rid = run_id or uuid7(created, self.rng)
        doc = run_document(job, run_id=rid, at=created, **options)
        script = list(script) if script is not None else script_for(job, self.rng, created)
        steps = plan(job, doc, created, script, self.rng)
        if anchor is not None:
            status, moment = anchor
            entered = next(parse_stamp(s["at"]) for s in steps if s["status"] == status)
            shift = moment - entered
            for step in steps:
                step["at"] = stamp(parse_stamp(step["at"]) + shift)
                for key in ("started_at", "heartbeat_at", "finished_at", "next_retry_at", "_hb_until"):
                    if isinstance(step["set"].get(key), str):
                        step["set"][key] = stamp(parse_stamp(step["set"][key]) + shift)
            doc["created_at"] = stamp(created + shift)
            doc["expires_at"] = stamp(parse_stamp(doc["expires_at"]) + shift)
        doc["_steps"] = steps
        doc["_script"] = script_json(script)
        _changed, events = advance(doc, until or self.now)
        self.store.put("run", rid, doc, parent=job_id)
        self.store.put_many("event", [(e["id"], rid, e) for e in events])
        return doc

    def settle(self, run: Doc, **fields: Any) -> None:
        """Freeze ``run`` in a status of its own (cancel, expiry, pause, replay staging)."""
        run.pop("_steps", None)
        run.pop("_hb_until", None)
        for key, value in fields.items():
            if value is None:
                run.pop(key, None)
            else:
                run[key] = value
        self.store.put("run", run["id"], run, parent=run["job_id"])

    def cron_history(self, job_id: str, span: timedelta, *, skip_last: int = 0) -> list[datetime]:
        job = self.jobs[job_id]
        fires = list(cron_between(job["cron"], job.get("timezone"), self.now - span, self.now))
        kept = fires[: len(fires) - skip_last] if skip_last else fires
        for fire in kept:
            self.add_run(job_id, fire)
        return fires

    # the whole project -----------------------------------------------------------------------------------------

    def run(self) -> None:
        for spec in _specs():
            self.add_job(spec)
        self.edits()
        self.depend(DEPENDENCY_ON_UPSTREAM_ID, DEPENDENT_JOB_ID, UPSTREAM_JOB_ID, "completed", self.ago(days=118))
        self.depend(DEPENDENCY_ON_CATALOG_ID, DEPENDENT_JOB_ID, CATALOG_JOB_ID, "completed", self.ago(days=118))
        self.depend(VERSIONED_DEPENDENCY_ID, VERSIONED_JOB_ID, UPSTREAM_JOB_ID, "any", self.ago(days=60))
        self.healthy_runs()
        self.failing_runs()
        self.pipeline_runs()
        self.other_runs()
        for job_id, job in self.jobs.items():
            nxt = cron_next(job["cron"], job.get("timezone"), self.now) if job.get("cron") else None
            job["_next_fire"] = stamp(nxt) if nxt else None
            self.store.put("job", job_id, job)
        self.live = [r["id"] for r in self.store.all("run") if is_live(r)]
        self.store.set_meta("active_runs", json.dumps(self.live))
        fires = [j["_next_fire"] for j in self.jobs.values() if j.get("_next_fire")]
        self.store.set_meta("cron_due", min(fires, key=parse_stamp) if fires else "")
        self.store.set_meta("last_created", stamp(self.now))

    def edits(self) -> None:
        v = VERSIONED_JOB_ID
        self.edit(v, self.ago(days=45), VERSIONED_JOB_VERSION_IDS[1], VERSIONED_JOB_VERSION_IDS[0], cron="0 6 * * *")
        self.edit(v, self.ago(days=20), VERSIONED_JOB_VERSION_IDS[2], VERSIONED_JOB_VERSION_IDS[1], timeout_secs=3600)
        self.edit(
            v,
            self.ago(days=2),
            VERSIONED_JOB_CURRENT_VERSION_ID,
            VERSIONED_JOB_VERSION_IDS[2],
            tags={"team": "marketing", "model": "shapley-v3"},
            description="Daily multi-touch (Shapley) attribution over yesterday's sessions and orders.",
        )
        failing = self.jobs[FAILING_JOB_ID]
        failing["endpoint_url"] = f"{_ENDPOINTS}/warehouse/v1/export"
        failing["_profile"] = "warehouse_ok"
        self.history[FAILING_JOB_ID] = [(self.ago(days=75, hours=1), dict(failing))]
        self.edit(
            FAILING_JOB_ID,
            self.ago(hours=31),
            version_id(self.rng),
            FAILING_JOB_PREVIOUS_VERSION_ID,
            endpoint_url=f"{_ENDPOINTS}/warehouse/v2/export",
            _profile="warehouse_failing",
        )
        paused = self.jobs[PAUSED_JOB_ID]
        paused.update(
            paused=True,
            paused_at=stamp(self.ago(days=3, hours=2)),
            pause_reason="Paused during the SendGrid to Postmark migration; resume after the DNS cutover (INC-2291)",
            updated_at=stamp(self.ago(days=3, hours=2)),
        )
        disabled = self.jobs[DISABLED_JOB_ID]
        disabled.update(enabled=False, updated_at=stamp(self.ago(days=19)))

    def healthy_runs(self) -> None:
        fires = self.cron_history(HEALTHY_JOB_ID, timedelta(hours=12), skip_last=3)
        for fire in fires[-3:]:
            run_id = COMPLETED_RUN_ID if fire == fires[-3] else None
            ok = _stripe(self.jobs[HEALTHY_JOB_ID], self.rng, fire)[-1]
            self.add_run(HEALTHY_JOB_ID, fire, [ok._replace(secs=min(ok.secs, 30.0))], run_id=run_id)
        ok = _stripe(self.jobs[HEALTHY_JOB_ID], self.rng, self.now)[-1]._replace(secs=RUNNING_RUN_REMAINING_SECS + 40)
        self.add_run(
            HEALTHY_JOB_ID,
            self.ago(seconds=42),
            [ok],
            run_id=RUNNING_RUN_ID,
            triggered_by="manual",
            created_by="apikey:billing-backfill",
            anchor=("executing", self.ago(seconds=40)),
        )
        self.cron_history(CATALOG_JOB_ID, timedelta(hours=48))
        self.cron_history(FANOUT_JOB_ID, timedelta(hours=12))

    def failing_runs(self) -> None:
        job = self.jobs[FAILING_JOB_ID]
        fires = self.cron_history(FAILING_JOB_ID, timedelta(hours=48), skip_last=3)
        timeout = Attempt("timeout", 0.0, None, (_export_logs(fires[-3], f"{_ENDPOINTS}/warehouse/v2/export"),))
        self.add_run(FAILING_JOB_ID, fires[-3], _tries(job, timeout), run_id=TIMED_OUT_RUN_ID)
        denied = _warehouse_failing(job, random.Random(7), fires[-2])  # roll < 0.6: three 503s
        self.add_run(FAILING_JOB_ID, fires[-2], denied, run_id=DEAD_LETTER_RUN_ID)
        self.add_run(FAILING_JOB_ID, fires[-1])
        flaky = self.cron_history(FLAKY_JOB_ID, timedelta(days=7), skip_last=2)
        message, logs = _DBT_FAILURES[0]
        failed = Attempt("sdk_fail", 212.5, message, (("info", "dbt build --select tag:hourly+"), *logs))
        self.add_run(FLAKY_JOB_ID, flaky[-2], [failed], run_id=FAILED_RUN_ID)
        self.add_run(FLAKY_JOB_ID, flaky[-1])
        for days in (40, 33, 26, 21, 20):
            self.add_run(DISABLED_JOB_ID, self.ago(days=days, hours=self.rng.uniform(0, 1)))

    def pipeline_runs(self) -> None:
        for job_id in (UPSTREAM_JOB_ID, DEPENDENT_JOB_ID, VERSIONED_JOB_ID):
            for fire in list(
                cron_between(
                    self.jobs[job_id]["cron"], self.jobs[job_id].get("timezone"), self.ago(days=7), self.ago(hours=1)
                )
            ):
                self.add_run(job_id, fire)
        key = f"orders-{self.now.strftime('%Y-%m-%d')}"
        upstream = _orders(self.jobs[UPSTREAM_JOB_ID], self.rng, self.now)[0]
        upstream = upstream._replace(secs=UPSTREAM_RUN_REMAINING_SECS + 480.0)
        self.add_run(
            UPSTREAM_JOB_ID,
            self.ago(minutes=8, seconds=2),
            [upstream],
            run_id=UPSTREAM_RUN_ID,
            triggered_by="manual",
            payload={"dependency_key": key, "full_refresh": False},
            created_by="user_2p8Qf3kLm",
            anchor=("executing", self.ago(minutes=8)),
        )
        self.add_run(
            CATALOG_JOB_ID,
            self.ago(minutes=20),
            triggered_by="manual",
            payload={"dependency_key": key},
            created_by="user_2p8Qf3kLm",
        )
        waiting = run_document(
            self.jobs[DEPENDENT_JOB_ID],
            run_id=WAITING_RUN_ID,
            at=self.ago(minutes=7),
            triggered_by="manual",
            payload={"dependency_key": key},
            created_by="user_2p8Qf3kLm",
        )
        waiting.update(status="waiting", _await=True)
        waiting["_script"] = script_json(_reindex(self.jobs[DEPENDENT_JOB_ID], self.rng, self.now))
        self.store.put("run", WAITING_RUN_ID, waiting, parent=DEPENDENT_JOB_ID)

    def other_runs(self) -> None:
        job = self.jobs[PAUSED_JOB_ID]
        for fire in cron_between(job["cron"], job["timezone"], self.ago(days=30), self.ago(days=3, hours=2)):
            self.add_run(PAUSED_JOB_ID, fire)
        self.worker_runs()
        self.gdpr_runs()
        self.add_run(
            FANOUT_JOB_ID,
            self.ago(seconds=0.2),
            run_id=QUEUED_RUN_ID,
            triggered_by="manual",
            payload={"event": "order.refunded", "order_id": "ord_88213"},
        )
        broken = Attempt(
            "system", 0.2, "dispatch aborted: circuit breaker open for jobs.northwind-data.io/integrations"
        )
        self.add_run(FANOUT_JOB_ID, self.ago(hours=5, minutes=3), [broken], run_id=SYSTEM_FAILED_RUN_ID)

    def worker_runs(self) -> None:
        ml, jid = self.jobs[WORKER_JOB_ID], WORKER_JOB_ID
        for days in (12, 9, 6, 4):
            self.add_run(jid, self.ago(days=days, hours=3), triggered_by="manual", payload={"days": 30})
        lost = "worker ml-gpu-2 stopped heartbeating for 90s; the run was marked crashed"
        crash = Attempt("crash", 1260.0, lost, (("info", "loading feature views user_activity_7d, order_value_30d"),))
        self.add_run(
            jid, self.ago(hours=26), [crash], run_id=CRASHED_RUN_ID, triggered_by="manual", payload={"days": 90}
        )
        oom = self.add_run(
            jid,
            self.ago(days=3),
            _ml(ml, self.rng, self.ago(days=3)),
            run_id=REPLAY_STAGED_RUN_ID,
            triggered_by="manual",
            payload={"days": 365},
            until=self.ago(days=3, minutes=-20),
        )
        self.settle(
            oom,
            status="replay_staged",
            finished_at=stamp(self.ago(days=3, minutes=-20)),
            heartbeat_at=None,
            error="CUDA out of memory. Tried to allocate 2.50 GiB (GPU 0; 22.19 GiB total capacity)",
            error_class="oom",
            result=None,
            execution_trace=None,
        )
        long_run = Attempt("ok", 5400.0, {"rows_materialized": 0}, (("info", "loading feature views"),))
        paused = self.add_run(
            jid,
            self.ago(hours=5),
            [long_run],
            run_id=PAUSED_RUN_ID,
            triggered_by="manual",
            payload={"days": 180},
            until=self.ago(hours=4, minutes=30),
        )
        self.settle(paused, status="paused", heartbeat_at=stamp(self.ago(hours=4, minutes=30)))
        self.add_run(
            jid,
            self.ago(seconds=3),
            [long_run._replace(secs=1800.0)],
            run_id=DEQUEUED_RUN_ID,
            triggered_by="manual",
            payload={"days": 30},
            anchor=("dequeued", self.ago(seconds=0.5)),
        )

    def gdpr_runs(self) -> None:
        jid = MANUAL_JOB_ID
        for hours in (200, 150, 97, 49, 30):
            user = f"usr_{self.rng.getrandbits(32):08x}"
            self.add_run(
                jid,
                self.ago(hours=hours),
                triggered_by="manual",
                payload={"user_id": user},
                created_by="apikey:privacy-desk",
            )
        self.add_run(
            jid,
            self.ago(hours=2),
            triggered_by="manual",
            run_id=IDEMPOTENT_RUN_ID,
            idempotency_key=IDEMPOTENCY_KEY,
            payload={"user_id": "usr_5d1e7a30", "ticket": "PRIV-48213"},
            created_by="apikey:privacy-desk",
        )
        canceled = self.add_run(
            jid,
            self.ago(hours=6),
            triggered_by="manual",
            run_id=CANCELED_RUN_ID,
            scheduled_at=self.ago(hours=1),
            payload={"user_id": "usr_09c4b2e1", "ticket": "PRIV-48190"},
            created_by="apikey:privacy-desk",
            until=self.ago(hours=5, minutes=40),
        )
        self.settle(
            canceled, status="canceled", finished_at=stamp(self.ago(hours=5, minutes=40)), error="canceled by user"
        )
        expired = self.add_run(
            jid,
            self.ago(days=4),
            triggered_by="manual",
            run_id=EXPIRED_RUN_ID,
            ttl_secs=3600,
            scheduled_at=self.ago(days=4, hours=-1),
            payload={"user_id": "usr_7f3a9c02", "ticket": "PRIV-47977"},
            created_by="apikey:privacy-desk",
            until=self.ago(days=4, hours=-1),
        )
        self.settle(
            expired,
            status="expired",
            finished_at=expired["expires_at"],
            error="run expired before a worker picked it up",
        )
        self.add_run(
            jid,
            self.ago(minutes=4),
            triggered_by="manual",
            run_id=DELAYED_RUN_ID,
            scheduled_at=self.now + timedelta(seconds=DELAYED_RUN_STARTS_AFTER_SECS),
            payload={"user_id": "usr_b81c66d4", "ticket": "PRIV-48230"},
            created_by="apikey:privacy-desk",
        )


def seed_project(store: DocStore, now: datetime) -> None:
    """Fill an empty store with the demo project as it stands at ``now``."""
    _Seeder(store, now).run()
