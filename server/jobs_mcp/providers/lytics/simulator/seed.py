"""The sandbox's demo account, built deterministically from a seed and a moment ``now``.

``build_account(now)`` returns the same jobs, workflows, auth providers, streams, schema fields, quota and logs
for the same ``now``, so tests can recompute what the simulator serves. Every timestamp is relative to ``now``.
Each job's log is a generator function (``SeedJob.logs``), run only when the store needs the entries; the huge
Facebook log (10,000+ entries) is inserted only when first read.

What is real and what is invented:
- real (from Lytics' published API and its job-manager skill): the job fields, status vocabulary, JobLog shape,
  the export context keys ``added``/``omitted``/``removed`` and ``user_email``, the v2 error codes;
- invented: every name, id and number; workflow ``name``/``description``/``requires_auth`` and the config
  field definitions of each workflow (``FIELDS``, served by ``GET /api/workflow/{id}``); the work-state
  object under ``state``; the stream, schema-field and quota shapes (no public source gives them); the log
  messages (the real wording is unknown); the ``added``/``omitted``/``removed`` keys on import runs; the
  ``RATELIMIT-429`` code.
"""

from __future__ import annotations

import functools
import hashlib
import json
import random
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, NamedTuple

from jobs_mcp.providers.lytics.simulator.envelope import (
    BADREQ,
    INTERNAL,
    JOB_BADREQ,
    JOB_FAULT,
    RATE_LIMIT,
    UNAUTHORIZED,
    rfc3339,
)

SEED = 20261123
USER_EMAIL = "sandbox.user@example.com"  # who the simulator says started, paused or killed a job
AID = 4711
ACCOUNT_ID = "9d3c0a7e51f84b2c8e6d4f1a0b2c3d4e"
USER_ID = "1b7e4c2d9a0f48e3b6c5d2a1f0e9d8c7"

# Jobs the demo and the tests rely on.
FACEBOOK_EXPORT_ID = "4f2a9c0e1b7d4e6a8c3f5b2d9e0a1c7b"  # fault-7, expired token, 10k+ log entries
RATE_LIMITED_JOB_ID = "7c1e5a3f9b2d4c8e0a6f1b3d5e7c9a2b"  # fault-3, RATELIMIT-429 errors
BAD_CONFIG_JOB_ID = "2d8f4b6a0c1e4a9b8d7c6e5f4a3b2c1d"  # fault-1, JOB-BADREQ-002 and BADREQ-001
STALE_JOB_ID = "5e9b1d3f7a2c4e6b8d0f1a3c5e7b9d2f"  # running, nothing logged for 26 h
HEALTHY_EXPORT_ID = "3a6c9e2b5d8f4a1c7e0b3d6f9a2c5e8b"  # running, a run every 4 minutes
FAILED_JOB_ID = "8b2d4f6a1c3e4b5d9f7a0c2e4b6d8f1a"  # failed after internal errors
PAUSED_JOB_ID = "6f0a2c4e8b1d4f3a9c5e7b0d2f4a6c8e"  # paused by a user
KILLED_JOB_ID = "9e4c6a8f2b0d4e1c3a5f7b9d1e3c5a7f"  # killed 3 h ago (its log is in the last 24 h)
HIDDEN_JOB_ID = "0c8e2a4f6b9d4c7e1a3f5b7d9c0e2a4b"  # hidden, running

FACEBOOK_AUTH_ID = "a1f3c5e7b9d24f6a8c0e2b4d6f8a1c3e"  # expired: breaks the Facebook export
FACEBOOK_TEAM_AUTH_ID = "b2e4d6f8a0c14e3b5d7f9a1c3e5b7d9f"
GOOGLE_ADS_AUTH_ID = "c3d5f7a9b1e24d4c6e8a0b2d4f6c8e0a"
SALESFORCE_AUTH_ID = "d4c6e8b0a2f34c5d7f9b1c3e5a7d9f1b"
BIGQUERY_AUTH_ID = "e5b7d9f1c3a44b6e8a0c2d4f6b8e0a2c"
MAILCHIMP_AUTH_ID = "f6a8c0e2d4b54a7f9b1d3e5a7c9f1b3d"
ACTIVE_AUTH_ID = "0a2c4e6f8b1d4a3c5e7f9b2d4a6c8e1f"  # AWS S3 keys, active; used by the tests' creates

Entry = dict[str, Any]


def _hex(*parts: str) -> str:
    """A stable 32-hex id derived from names (for the jobs and objects nobody refers to by constant)."""
    return hashlib.md5(":".join(parts).encode(), usedforsecurity=False).hexdigest()


# --- catalogue -----------------------------------------------------------------------------------------------


def _field(name: str, kind: str, description: str, *options: Any, required: bool = False) -> dict[str, Any]:
    """One config field declaration as ``GET /api/workflow/{id}`` serves it (INVENTED: no public source gives
    Lytics' workflow field definitions; the shape is ours: name, type, required, options, description)."""
    declared: dict[str, Any] = {"name": name, "type": kind, "required": required, "description": description}
    if options:
        declared["options"] = list(options)
    return declared


SALESFORCE_OBJECTS = ("Contact", "Lead", "Account", "Opportunity", "CampaignMember")
SEGMENT = _field("segment_id", "string", "ID of the audience (segment) to send", required=True)
FIELDS: dict[str, tuple[dict[str, Any], ...]] = {
    "facebook_audience_populate": (
        SEGMENT,
        _field("audience_name", "string", "name of the Facebook custom audience", required=True),
        _field("withbackfill", "boolean", "also send the users already in the audience"),
    ),
    "google_ads_customer_match": (
        SEGMENT,
        _field("customer_list", "string", "Customer Match list to fill", required=True),
        _field("upload_key_type", "string", "how users are matched", "CONTACT_INFO", "CRM_ID", "MOBILE_ADVERTISER_ID"),
    ),
    "salesforce_import": (
        _field("objects", "array", "objects to import", *SALESFORCE_OBJECTS, required=True),
        _field("poll_minutes", "integer", "minutes between imports", 15, 30, 60, 120, 240),
    ),
    "bigquery_export": (
        _field("project", "string", "Google Cloud project", required=True),
        _field("dataset", "string", "BigQuery dataset", required=True),
        _field("table", "string", "table to write", required=True),
        _field("mode", "string", "what is written", "profiles", "events"),
    ),
    "mailchimp_sync": (
        _field("list_id", "string", "Mailchimp list (audience) ID", required=True),
        SEGMENT,
        _field("double_opt_in", "boolean", "ask new members to confirm by email"),
        _field("merge_fields", "object", "Lytics field -> Mailchimp merge tag"),
    ),
    "webhook_triggers": (
        _field("webhook_url", "string", "URL called for each user", required=True),
        _field("segment_id", "string", "audience whose entries or exits call the URL (default: every user)"),
        _field("trigger", "string", "when the URL is called", "enter", "exit", "both"),
    ),
    "s3_import": (
        _field("bucket", "string", "S3 bucket to read", required=True),
        _field("prefix", "string", "only keys under this prefix"),
        _field("format", "string", "file format", "csv", "json"),
    ),
    "user_backfill": (
        _field("stream", "string", "event stream to replay"),
        _field("days", "integer", "days of events to replay"),
    ),
}


class Workflow(NamedTuple):
    id: str
    provider: str  # display name, used in log messages
    direction: Literal["export", "import"]
    requires_auth: bool
    description: str
    hidden: bool = False

    def public(self) -> dict[str, Any]:
        """The v1 workflow object: ``id``, ``provider_id``, ``hidden`` are real; the rest is invented."""
        return {
            "id": self.id,
            "provider_id": _hex("provider", self.provider),
            "hidden": self.hidden,
            "name": self.id.replace("_", " ").title(),
            "description": self.description,
            "requires_auth": self.requires_auth,
        }

    def detail(self) -> dict[str, Any]:
        """One workflow with its config fields (INVENTED route and shape, see ``_field``)."""
        return self.public() | {"fields": [dict(f) for f in FIELDS[self.id]]}


WORKFLOWS = (
    Workflow("facebook_audience_populate", "Facebook", "export", True, "Send audience members to a Facebook audience"),
    Workflow(
        "google_ads_customer_match", "Google Ads", "export", True, "Upload audiences to Google Ads Customer Match"
    ),
    Workflow("salesforce_import", "Salesforce", "import", True, "Import contacts, leads and accounts from Salesforce"),
    Workflow("bigquery_export", "BigQuery", "export", True, "Write profiles or events to a BigQuery table"),
    Workflow("mailchimp_sync", "Mailchimp", "export", True, "Keep a Mailchimp list in step with an audience"),
    Workflow("webhook_triggers", "Webhook", "export", False, "Call a URL when users enter or leave an audience"),
    Workflow("s3_import", "Amazon S3", "import", True, "Load CSV or JSON files from an S3 bucket"),
    Workflow("user_backfill", "Lytics", "import", False, "Internal: rebuild profiles from raw events", hidden=True),
)
WORKFLOW_BY_ID = {w.id: w for w in WORKFLOWS}

# (id, provider, name, type, status, days since created)
_AUTHS = (
    (FACEBOOK_AUTH_ID, "Facebook", "Facebook Ads (growth team)", "oauth2", "expired", 410),
    (FACEBOOK_TEAM_AUTH_ID, "Facebook", "Facebook Ads (brand team)", "oauth2", "active", 120),
    (GOOGLE_ADS_AUTH_ID, "Google Ads", "Google Ads manager account", "oauth2", "active", 300),
    (SALESFORCE_AUTH_ID, "Salesforce", "Salesforce production", "oauth2", "active", 500),
    (BIGQUERY_AUTH_ID, "BigQuery", "BigQuery service account", "service_account", "active", 260),
    (MAILCHIMP_AUTH_ID, "Mailchimp", "Mailchimp API key", "api_key", "active", 90),
    (ACTIVE_AUTH_ID, "Amazon S3", "AWS data-lake keys", "aws_keys", "active", 200),
)


# --- logs ----------------------------------------------------------------------------------------------------


class Series(NamedTuple):
    """``size`` entries of one kind, ``step`` apart, the newest ``last`` before now (each up to 20 % earlier)."""

    kind: str
    size: int
    last: timedelta
    step: timedelta = timedelta(0)

    def oldest(self) -> timedelta:
        return self.last + self.step * (self.size - 1 + 0.2)  # + the most an entry can be moved earlier


LogLine = tuple[str, str, str, dict[str, Any]]  # level, code, message, context


def _rint(rng: random.Random, low: int, high: int) -> int:
    """``rng.randint`` in one draw (three times faster; it matters over 10,000 entries)."""
    return low + int(rng.random() * (high - low + 1))


def _run(rng: random.Random, wf: Workflow) -> LogLine:
    added, omitted = _rint(rng, 40, 2400), _rint(rng, 0, 60)
    if wf.direction == "import":
        return "info", "", f"Import run finished: {added} records loaded, {omitted} skipped", _counts(added, omitted)
    removed = _rint(rng, 0, 90)
    text = f"Export run finished: {added} users sent to {wf.provider}, {omitted} skipped, {removed} removed"
    return "info", "", text, _counts(added, omitted, removed)


def _counts(added: int, omitted: int, removed: int = 0) -> dict[str, Any]:
    return {"added": added, "omitted": omitted, "removed": removed}


def _by_user(what: str) -> Callable[[random.Random, Workflow], LogLine]:
    return lambda _rng, _wf: ("info", "", f"Job {what} by user {USER_EMAIL}", {"user_email": USER_EMAIL})


KINDS: dict[str, Callable[[random.Random, Workflow], LogLine]] = {
    "run": _run,
    "created": _by_user("created"),
    "paused": _by_user("paused"),
    "pausing": lambda _r, _w: ("info", "", f"Pause requested by user {USER_EMAIL}", {"user_email": USER_EMAIL}),
    "killed": _by_user("killed"),
    "completed": lambda _r, _w: ("info", "", "One-time run done; the job is complete and will not run again", {}),
    "auth_expired": lambda _r, wf: (
        "error",
        UNAUTHORIZED,
        f"{wf.provider} refused the job's access token: the token has expired. Reconnect the auth provider.",
        {},
    ),
    "backoff": lambda r, _w: (
        "error",
        JOB_FAULT,
        f"Run failed {_rint(r, 3, 9)} times in a row; waiting before the next attempt",
        {},
    ),
    "slow": lambda r, wf: ("warn", "", f"{wf.provider} answered slowly; retried a batch of {_rint(r, 2, 40)}00", {}),
    "retry_auth": lambda _r, wf: ("warn", "", f"Retrying the {wf.provider} upload after an authorization error", {}),
    "rate_limited": lambda r, wf: (
        "error",
        RATE_LIMIT,
        f"{wf.provider} rate limit hit: too many requests this window ({_rint(r, 1, 5)} min until reset)",
        {},
    ),
    "throttle": lambda _r, wf: ("warn", "", f"Slowing uploads down to stay under the {wf.provider} rate limit", {}),
    "bad_config": lambda _r, _w: (
        "error",
        JOB_BADREQ,
        "Job config is invalid: dataset 'lytics_exports_v2' does not exist in project 'acme-analytics'",
        {},
    ),
    "bad_request": lambda _r, wf: (
        "error",
        BADREQ,
        f"{wf.provider} rejected a request as malformed: the table schema lacks column 'user_id'",
        {},
    ),
    "internal": lambda _r, wf: ("error", INTERNAL, f"{wf.provider} answered with an internal server error", {}),
    "failed": lambda _r, _w: (
        "error",
        JOB_FAULT,
        "Job stopped after 10 hours of consecutive errors; resume it once the cause is fixed",
        {},
    ),
    "lost": lambda _r, _w: ("warn", "", "Lost contact with the job's worker; its state cannot be determined", {}),
}


class _Line(NamedTuple):
    ago: int  # whole seconds before now
    entry: Entry  # without its timestamp
    head: str  # the entry's JSON up to the timestamp's value


@functools.lru_cache(maxsize=64)
def _relative_log(job_id: str, workflow: str, script: tuple[Series, ...], seed: int) -> tuple[_Line, ...]:
    """A job's log, oldest first, timed in seconds before now. It does not depend on now, so it is built once per
    process; each new sandbox only stamps it with times (10,000 entries: ~20 ms instead of ~150 ms)."""
    wf = WORKFLOW_BY_ID[workflow]
    lines: list[tuple[int, int, Entry]] = []  # (-seconds before now, order, entry): sorts oldest first
    for n, series in enumerate(script):
        rng = random.Random(f"{seed}:{job_id}:{n}")
        make = KINDS[series.kind]
        for i in range(series.size):
            ago = series.last + series.step * (series.size - 1 - i + rng.random() * 0.2)
            level, code, message, context = make(rng, wf)
            entry = {"job_id": job_id, "context": context, "code": code, "message": message, "level": level}
            lines.append((-round(ago.total_seconds()), len(lines), entry))
    lines.sort(key=lambda line: line[:2])
    return tuple(_Line(-neg, entry, json.dumps(entry)[:-1] + ', "timestamp": "') for neg, _, entry in lines)


def _stamped(lines: tuple[_Line, ...], now: datetime) -> Iterator[tuple[str, _Line]]:
    """Each line with its RFC 3339 time (what ``rfc3339`` gives, built faster: the date part once per day)."""
    base = int(now.timestamp())
    dates: dict[int, str] = {}
    for line in lines:
        day, second = divmod(base - line.ago, 86400)
        date = dates.get(day) or dates.setdefault(day, rfc3339(datetime.fromtimestamp(day * 86400, UTC))[:11])
        hour, second = divmod(second, 3600)
        minute, second = divmod(second, 60)
        yield f"{date}{hour:02d}:{minute:02d}:{second:02d}Z", line


def generate_logs(job_id: str, workflow: str, script: tuple[Series, ...], now: datetime, seed: int) -> Iterator[Entry]:
    """A job's whole log as JobLog dicts, oldest first; the same entries every call for the same arguments."""
    for ts, line in _stamped(_relative_log(job_id, workflow, script, seed), now):
        yield {**line.entry, "context": dict(line.entry["context"]), "timestamp": ts}


def encoded_logs(
    job_id: str, workflow: str, script: tuple[Series, ...], now: datetime, seed: int
) -> Iterator[tuple[str, str, str]]:
    """The same log as rows for the store: (job_id, timestamp, the entry's JSON)."""
    for ts, line in _stamped(_relative_log(job_id, workflow, script, seed), now):
        yield job_id, ts, line.head + ts + '"}'


# --- jobs ----------------------------------------------------------------------------------------------------

H, M, D = timedelta(hours=1), timedelta(minutes=1), timedelta(days=1)


class JobSpec(NamedTuple):
    id: str
    name: str
    workflow: str
    status: str
    script: tuple[Series, ...]
    auth: str | None = None  # None: the workflow's usual auth (if it needs one)
    hidden: bool = False
    extra: Mapping[str, Any] = {}
    lazy: bool = False  # log inserted only when first read


def _default_script(status: str) -> tuple[Series, ...]:
    """A handful of entries that fit the status (for the jobs no test looks at closely)."""
    if status == "running":
        return (Series("run", 10, 12 * M, 30 * M),)
    if status == "sleeping":
        return (Series("run", 8, 2 * H, 6 * H),)
    if status == "paused":
        return (Series("run", 6, 2 * D + H, 4 * H), Series("paused", 1, 2 * D))
    if status == "pausing":
        return (Series("run", 10, H, H), Series("pausing", 1, M))
    if status == "completed":
        return (Series("run", 5, 10 * D + H, H), Series("completed", 1, 10 * D))
    if status == "deleting":
        return (Series("run", 6, 30 * M, H), Series("killed", 1, 5 * M))
    if status == "deleted":
        return (Series("run", 6, 40 * D, D), Series("killed", 1, 39 * D))
    if status == "unknown":
        return (Series("run", 5, 2 * D, H), Series("lost", 1, 2 * D - 30 * M))
    return ()  # initializing: just created


FACEBOOK_SCRIPT = (
    Series("run", 9_800, 36 * H + 10 * M, 10 * M),  # weeks of healthy runs
    Series("slow", 30, 40 * H, 2 * D),
    Series("auth_expired", 400, 2 * M, 324 * timedelta(seconds=1)),  # every ~5.4 min for the last 36 h
    Series("backoff", 7, 20 * M, 5 * H),
    Series("retry_auth", 12, H, 3 * H),
)
FACEBOOK_LOG_COUNT = 1 + sum(s.size for s in FACEBOOK_SCRIPT)  # + the "created" entry

NAMED_JOBS = (
    JobSpec(
        FACEBOOK_EXPORT_ID,
        "Facebook high-value audience export",
        "facebook_audience_populate",
        "fault-7",
        FACEBOOK_SCRIPT,
        auth=FACEBOOK_AUTH_ID,
        lazy=True,
        extra={"description": "High-LTV customers to the Facebook retargeting audience", "tag": "growth"},
    ),
    JobSpec(
        RATE_LIMITED_JOB_ID,
        "Google Ads customer match: lapsed buyers",
        "google_ads_customer_match",
        "fault-3",
        (
            Series("run", 300, 13 * H, 30 * M),
            Series("rate_limited", 120, 3 * M, 6 * M),
            Series("throttle", 40, 10 * M, 18 * M),
            Series("backoff", 3, 30 * M, 3 * H),
        ),
    ),
    JobSpec(
        BAD_CONFIG_JOB_ID,
        "BigQuery nightly events export",
        "bigquery_export",
        "fault-1",
        (
            Series("run", 48, 25 * H, H),
            Series("bad_config", 12, 15 * M, 2 * H),
            Series("bad_request", 6, 40 * M, 4 * H),
        ),
        extra={"updated_ago": 24 * H},  # the config edit that broke it
    ),
    JobSpec(
        STALE_JOB_ID, "Salesforce contacts import", "salesforce_import", "running", (Series("run", 200, 26 * H, 2 * H),)
    ),
    JobSpec(
        HEALTHY_EXPORT_ID,
        "Mailchimp newsletter audience sync",
        "mailchimp_sync",
        "running",
        (Series("run", 1_440, M, 4 * M),),
        extra={"quiet_time_of_day": "02:00", "quiet_timezone": "America/Los_Angeles", "quiet_period": 4, "tag": "crm"},
    ),
    JobSpec(
        FAILED_JOB_ID,
        "Salesforce leads import",
        "salesforce_import",
        "failed",
        (Series("run", 30, 12 * H, H), Series("internal", 20, H, 30 * M), Series("failed", 1, 20 * M)),
    ),
    JobSpec(
        PAUSED_JOB_ID,
        "Google Ads: cart abandoners",
        "google_ads_customer_match",
        "paused",
        (Series("run", 40, 3 * D + H, 3 * H), Series("paused", 1, 3 * D)),
    ),
    JobSpec(
        KILLED_JOB_ID,
        "Facebook test export (old)",
        "facebook_audience_populate",
        "deleted",
        (Series("run", 20, 3 * H + 10 * M, 30 * M), Series("killed", 1, 3 * H)),
        auth=FACEBOOK_TEAM_AUTH_ID,
    ),
    JobSpec(
        HIDDEN_JOB_ID, "Internal profile backfill", "user_backfill", "running", _default_script("running"), hidden=True
    ),
)

_OTHER_JOBS = (  # name, workflow, status, hidden
    ("Facebook lookalike seed export", "facebook_audience_populate", "running", False),
    ("Facebook retargeting: browsers", "facebook_audience_populate", "sleeping", False),
    ("Facebook holiday audience 2025", "facebook_audience_populate", "sleeping", False),
    ("Google Ads: high lifetime value", "google_ads_customer_match", "running", False),
    ("Google Ads: newsletter subscribers", "google_ads_customer_match", "sleeping", False),
    ("Google Ads: seasonal promo (ended)", "google_ads_customer_match", "deleted", False),
    ("BigQuery hourly events export", "bigquery_export", "running", False),
    ("BigQuery segment membership export", "bigquery_export", "sleeping", False),
    ("BigQuery audience snapshot export", "bigquery_export", "pausing", False),
    ("Salesforce accounts import", "salesforce_import", "running", False),
    ("Salesforce campaign members import", "salesforce_import", "sleeping", False),
    ("Salesforce one-time migration import", "salesforce_import", "completed", False),
    ("Mailchimp win-back sync", "mailchimp_sync", "running", False),
    ("Mailchimp product updates sync", "mailchimp_sync", "running", False),
    ("Mailchimp legacy list sync", "mailchimp_sync", "deleting", False),
    ("Webhook: churn risk alerts", "webhook_triggers", "running", False),
    ("Webhook: VIP signups", "webhook_triggers", "sleeping", False),
    ("Webhook: legacy CRM ping", "webhook_triggers", "unknown", False),
    ("Webhook: QA test endpoint", "webhook_triggers", "paused", True),
    ("S3 daily orders import", "s3_import", "running", False),
    ("S3 product catalog import", "s3_import", "initializing", False),
    ("S3 store visits import", "s3_import", "sleeping", False),
    ("S3 2025 history backfill", "s3_import", "completed", False),
)

JOB_SPECS = NAMED_JOBS + tuple(
    JobSpec(_hex("job", name), name, wf, status, _default_script(status), hidden=hidden)
    for name, wf, status, hidden in _OTHER_JOBS
)

_USUAL_AUTH = {
    "facebook_audience_populate": FACEBOOK_TEAM_AUTH_ID,
    "google_ads_customer_match": GOOGLE_ADS_AUTH_ID,
    "salesforce_import": SALESFORCE_AUTH_ID,
    "bigquery_export": BIGQUERY_AUTH_ID,
    "mailchimp_sync": MAILCHIMP_AUTH_ID,
    "s3_import": ACTIVE_AUTH_ID,
}


def _config(rng: random.Random, spec: JobSpec) -> dict[str, Any]:
    segment = _hex("segment", spec.name)
    slug = spec.name.lower().split(":")[-1].strip().replace(" ", "_")[:40]
    configs: dict[str, dict[str, Any]] = {
        "facebook_audience_populate": {"segment_id": segment, "audience_name": spec.name, "withbackfill": True},
        "google_ads_customer_match": {"segment_id": segment, "customer_list": slug, "upload_key_type": "CONTACT_INFO"},
        "salesforce_import": {"objects": ["Contact", "Lead"], "poll_minutes": rng.choice((30, 60, 120))},
        "bigquery_export": {"project": "acme-analytics", "dataset": "lytics_exports", "table": slug},
        "mailchimp_sync": {"list_id": segment[:10], "segment_id": segment, "double_opt_in": False},
        "webhook_triggers": {
            "webhook_url": f"https://hooks.acme.example/{slug}",
            "segment_id": segment,
            "trigger": "enter",
        },
        "s3_import": {"bucket": "acme-data-lake", "prefix": f"{slug}/", "format": rng.choice(("csv", "json"))},
        "user_backfill": {"stream": "default", "days": 30},
    }
    return configs[spec.workflow]


# Reset to these by a PUT that leaves them out (Lytics replaces the whole job); also a new job's defaults.
JOB_DEFAULTS: dict[str, Any] = {
    "description": "",
    "tag": "",
    "hidden": False,
    "verbose_logging": False,
    "expires_at": None,
    "drop_events_during_quiet_window": False,
    "quiet_time_of_day": "",
    "quiet_timezone": "",
    "quiet_period": 0,
    "meta": None,
}


def job_document(
    *, job_id: str, name: str, workflow: str, config: dict[str, Any], auth_ids: list[str], status: str,
    created: str, updated: str, fields: dict[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """A job object as GET /v2/job/{id} returns it (the fields Lytics documents; nothing more)."""
    deleted = status in ("deleted", "deleting")
    return {
        "id": job_id,
        "aid": AID,
        "account_id": ACCOUNT_ID,
        "user_id": USER_ID,
        "name": name,
        "workflow": workflow,
        "workflow_id": _hex("workflow", workflow),
        "config": config,
        "auth_ids": auth_ids,
        "status": status,
        "created": created,
        "updated": updated,
        "deleted": deleted,
        "monitoring": None,
        **JOB_DEFAULTS,
        **(fields or {}),
    }


class SeedJob(NamedTuple):
    doc: dict[str, Any]  # the public job object
    work: dict[str, Any]  # what only ?show_state=true shows: state, last_run, sleep_until
    logs: Callable[[], Iterator[Entry]]  # the JobLog entries, oldest first
    rows: Callable[[], Iterator[tuple[str, str, str]]]  # the same as (job_id, timestamp, JSON) for the store
    lazy: bool


def _seed_job(spec: JobSpec, now: datetime, seed: int) -> SeedJob:
    rng = random.Random(f"{seed}:{spec.id}")
    wf = WORKFLOW_BY_ID[spec.workflow]
    age = max((s.oldest() for s in spec.script), default=4 * M) + H
    extra = dict(spec.extra)
    updated_ago = extra.pop("updated_ago", age * (1 - rng.random() * 0.5))  # edited in the first half of its life
    created = now - age
    auth = spec.auth or _USUAL_AUTH.get(spec.workflow)
    faults = int(spec.status.split("-")[1]) if spec.status.startswith("fault-") else 0
    doc = job_document(
        job_id=spec.id,
        name=spec.name,
        workflow=spec.workflow,
        config=_config(rng, spec),
        auth_ids=[auth] if auth and wf.requires_auth else [],
        status=spec.status,
        created=rfc3339(created),
        updated=rfc3339(now - min(updated_ago, age)),
        fields={"hidden": spec.hidden, **extra},
    )
    runs = [s for s in spec.script if s.kind == "run"]
    last_run = rfc3339(now - min(s.last for s in runs)) if runs else None
    sleeping = spec.status == "sleeping" or faults > 0
    work = {
        # INVENTED shape: the real work state is workflow-specific and undocumented.
        **({"cycle": CYCLE_SECONDS} if spec.id == CYCLING_JOB_ID else {}),
        "state": {"consecutive_errors": faults, "runs": sum(s.size for s in runs)},
        "last_run": last_run,
        "sleep_until": rfc3339(now + timedelta(minutes=_rint(rng, 5, 240))) if sleeping else None,
    }
    script = (Series("created", 1, age), *spec.script)
    args = (spec.id, spec.workflow, script, now, seed)
    return SeedJob(doc, work, lambda: generate_logs(*args), lambda: encoded_logs(*args), spec.lazy)


# A live job that moves between running and sleeping on its own as the clock goes (as real ones do), so a
# proposal about it must not go stale for that alone. INVENTED period.
CYCLING_JOB_ID = _hex("job", "Webhook: churn risk alerts")
CYCLE_SECONDS = 20


# --- the rest of the account -----------------------------------------------------------------------------------


def _streams(now: datetime, rng: random.Random) -> list[dict[str, Any]]:
    """INVENTED shape (no public source): one healthy busy stream, one quiet, one silent for days."""
    out = []
    for name, silent, first_days in (("default", 2 * M, 700), ("web_events", 40 * M, 400), ("mobile_app", 4 * D, 300)):
        out.append(
            {
                "stream": name,
                "ct": _rint(rng, 2_000_000, 90_000_000),
                "last_msg_ts": rfc3339(now - silent),
                "first_msg_ts": rfc3339(now - first_days * D),
                "recent_ct_24h": 0 if silent > D else _rint(rng, 20_000, 900_000),
            }
        )
    return out


_FIELDS = (  # id, type, description, identity, pii
    ("email", "string", "Email address", True, True),
    ("user_id", "string", "Customer id from the web app", True, False),
    ("_uid", "string", "Lytics cookie id", True, False),
    ("first_name", "string", "First name", False, True),
    ("last_name", "string", "Last name", False, True),
    ("phone", "string", "Mobile phone number", False, True),
    ("city", "string", "City from the last order", False, False),
    ("lifetime_value", "number", "Total order value", False, False),
    ("last_purchase", "date", "Time of the last order", False, False),
    ("channels", "[]string", "Channels the user was seen on", False, False),
    ("score_churn", "number", "Churn risk score", False, False),
    ("legacy_crm_id", "string", "Retired CRM id", False, False),
)


def _fields() -> list[dict[str, Any]]:
    """INVENTED shape: schema fields with identity and PII flags."""
    return [
        {
            "id": fid,
            "type": kind,
            "shortdesc": desc,
            "is_identity": ident,
            "is_pii": pii,
            "hidden": fid.startswith("legacy"),
        }
        for fid, kind, desc, ident, pii in _FIELDS
    ]


def _quota(now: datetime) -> dict[str, Any]:
    """INVENTED shape: a monthly event quota, 93 % used."""
    start = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return {
        "limit": 500_000_000,
        "used": 465_000_000,
        "period": "monthly",
        "period_start": rfc3339(start),
        "thresholds": [{"pct": 50, "notified": True}, {"pct": 80, "notified": True}, {"pct": 100, "notified": False}],
    }


class SeedAccount(NamedTuple):
    now: datetime
    jobs: tuple[SeedJob, ...]
    workflows: list[dict[str, Any]]
    auths: list[dict[str, Any]]
    streams: list[dict[str, Any]]
    fields: list[dict[str, Any]]
    quota: dict[str, Any]

    def job(self, job_id: str) -> SeedJob:
        return next(j for j in self.jobs if j.doc["id"] == job_id)


def build_account(now: datetime, seed: int = SEED) -> SeedAccount:
    """The whole demo account at ``now`` (cheap: job logs are generator functions, not lists)."""
    auths = [
        {"id": aid, "provider_id": _hex("provider", provider), "name": name, "type": kind, "status": status,
         "created": rfc3339(now - days * D)}
        for aid, provider, name, kind, status, days in _AUTHS
    ]  # fmt: skip
    return SeedAccount(
        now=now,
        jobs=tuple(_seed_job(spec, now, seed) for spec in JOB_SPECS),
        workflows=[w.detail() for w in WORKFLOWS],  # the list route leaves ``fields`` out
        auths=auths,
        streams=_streams(now, random.Random(f"{seed}:streams")),
        fields=_fields(),
        quota=_quota(now),
    )
