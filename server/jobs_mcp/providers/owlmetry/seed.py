"""The OwlMetry sandbox's demo data: two teams, their projects, the sandbox credentials and ~40 job runs.

Deterministic (``random.Random(SEED)``); every timestamp is relative to the clock when the store is first seeded.

A run is stored as ``{"run": <the public JobRun as created>, "plan": <how it will unfold>}``; the simulator works
out the status, progress, result and error the run has at any moment from the plan (see ``simulator.settle``).
Plan fields (epoch milliseconds): ``start_ms`` (pending -> running), ``end_ms`` (the natural end), ``outcome``
(completed | failed), ``total`` and ``processed`` (the progress counters at the natural end), ``error``,
``result`` (a fixed result instead of the computed one), ``cancel_ms`` (when a cancel was asked) and ``frozen``
(a settled run that no longer changes: a server restart).

Real (owlmetry/owlmetry@e9b6cab): the 18 job types, their scopes (only ``system`` and ``project`` exist; no type
is team-scoped) and the two project-scoped ones; the JobRun fields; ``triggered_by`` forms; the key prefixes and
the permissions each key type may hold; team roles owner > admin > member; the progress messages, result keys
and error strings of the handlers (``revenuecat_user_backfill``, ``apple_ads_sync``, ``revenuecat_sync``, the
App Store syncs). Team runs of system types come from the dashboard's own routes (e.g. "Sync now" on the
RevenueCat integration), which pass the team id.
Invented: every name, id, count and duration; which projects have which integration; the error texts of the
mid-way failures (Apple Ads 503, DNS failure, statement timeout); the sandbox tokens and their users.
"""

from __future__ import annotations

import base64
import json
import math
import random
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, NamedTuple

from jobs_mcp.providers.owlmetry import vocabulary
from jobs_mcp.sandbox.docstore import DocStore

SEED = 4004
Doc = dict[str, Any]

# --- job types and statuses (real): one table, shared with the provider ----------------------------------------

JOB_TYPES, STATUSES = vocabulary.JOB_TYPES, vocabulary.STATUSES

# --- teams, users, projects --------------------------------------------------------------------------------------

TEAM_ID = "7ff633ef-5ade-45ce-b0d8-a6fa79c36c20"  # "Driftwood Labs", the team every sandbox credential belongs to
OTHER_TEAM_ID = "0db4cd36-c895-4fe6-a4e9-1cd182aae246"  # "Northwind Apps": no sandbox user is a member
OWNER_USER_ID = "f4060375-72b5-472c-872e-ae79665555f1"  # owner of Driftwood Labs (no token)
ADMIN_USER_ID = "99e68bac-a9ab-4866-a0e2-34f10062c04d"
MEMBER_USER_ID = "67d0fbe0-3fbd-40e4-b7c6-cc47bf446883"

PROJECT_IOS_ID = "55f97897-9cea-4bea-b64c-4665b22b073f"  # Tidepool iOS: RevenueCat + Apple Search Ads active
PROJECT_ANDROID_ID = "c2e92a36-04a5-416b-bb34-82dad83caffb"  # Tidepool Android: RevenueCat active, no Apple Ads
PROJECT_WEB_ID = "b0e0708a-a5f7-45a1-842c-0fcf135fe2ff"  # Harbor Web: RevenueCat disabled, no Apple Ads
PROJECT_MAC_ID = "9131f68f-3389-4740-a6f5-5ffa8cc7c34f"  # Tidepool macOS: Apple Search Ads only
OTHER_PROJECT_ID = "86d5bae3-d84e-494f-b01a-26401e8b06d1"  # Northwind's project

# --- runs the tests and the demo rely on -----------------------------------------------------------------------

RUNNING_RUN_ID = "7d87a75c-497e-4477-b962-597691e3afa1"  # apple_ads_sync, iOS, running ~3 h, progress x/4812
BACKFILL_RUN_ID = "1395fdff-2737-4ee4-8748-61109187a97d"  # revenuecat_user_backfill, Android, running, total 0
PENDING_RUN_ID = "9d80ec03-20d4-45a5-b273-375afc3b813e"  # app_store_connect_reviews_sync, starts ~4 min after seeding
COMPLETED_RUN_ID = "a49caf04-776a-4e66-b742-416f0d432a7a"  # revenuecat_sync, iOS, yesterday
FAILED_RUN_ID = "8a44d71f-602b-4b23-a8dc-0bb3b6b3333f"  # backfill on Harbor Web: integration disabled
FAILED_MIDWAY_RUN_ID = "06d0ab61-9eda-48d5-b88f-537444be6e56"  # apple_ads_sync died at 1930/4790 (Apple 503)
RESTARTED_RUN_ID = "eb88b835-b043-4d4b-adb0-af1f002175a2"  # failed "Server restarted during execution"
CANCELLED_RUN_ID = "777d8973-23cf-475d-9cfe-eec0ed1ff052"  # backfill cancelled by a user after 41 min
ABORTED_RUN_ID = "8b37761f-2b8e-47d7-b37f-f02e8f87e1af"  # completed, but result.aborted: RevenueCat refused the key
OTHER_TEAM_RUN_ID = "df5bc8ba-ef86-4c25-97a7-9b933f2d1c23"  # Northwind's run: 404 for Driftwood credentials
SYSTEM_RUN_ID = "5a05b769-2eee-4e4d-b7ab-7e203de03997"  # issue_scan (team_id null), running: 404 on GET
TIE_RUN_IDS = ("8f6ec1e4-acf9-411c-b6f4-c17ed2e0e0a1", "f6bc0840-b374-4e4c-bceb-8cd35d85349a")  # same created_at

# --- credentials -------------------------------------------------------------------------------------------------

FULL_TOKEN = "owl_agent_sandbox_full"  # agent key, every agent permission (jobs:read + jobs:write)
READ_ONLY_TOKEN = "owl_agent_sandbox_read_only"  # agent key without jobs:write
CLIENT_TOKEN = "owl_client_sandbox"  # client key: events:write, users:write (no job permission)
EXPIRED_TOKEN = "owl_agent_sandbox_expired"  # agent key that expired: 401 "API key expired"
OTHER_TEAM_TOKEN = "owl_agent_sandbox_northwind"  # agent key of Northwind Apps (OTHER_TEAM_ID)

AGENT_PERMISSIONS = frozenset(
    {
        "events:read", "funnels:read", "funnels:write", "apps:read", "apps:write", "projects:read",
        "projects:write", "metrics:read", "metrics:write", "audit_logs:read", "users:write", "integrations:read",
        "integrations:write", "jobs:read", "jobs:write", "issues:read", "issues:write", "feedback:read",
        "feedback:write", "questionnaires:read", "questionnaires:write", "reviews:read", "reviews:write",
    }
)  # fmt: skip
CLIENT_PERMISSIONS = frozenset({"events:write", "users:write"})
KEY_PREFIXES = {"owl_client_": "client", "owl_agent_": "agent", "owl_import_": "import"}


class ApiKey(NamedTuple):
    key_id: str
    key_type: str  # client | agent | import
    team_id: str
    permissions: frozenset[str]
    expired: bool = False


class User(NamedTuple):
    user_id: str
    email: str
    roles: dict[str, str]  # team id -> owner | admin | member


SANDBOX_KEYS: dict[str, ApiKey] = {
    FULL_TOKEN: ApiKey("a195e4a0-b687-48f8-b0ec-b58dd5094f57", "agent", TEAM_ID, AGENT_PERMISSIONS),
    READ_ONLY_TOKEN: ApiKey(
        "dcc47589-fc3d-4c9d-ac09-9e92bc3c2ba9", "agent", TEAM_ID, AGENT_PERMISSIONS - {"jobs:write"}
    ),
    CLIENT_TOKEN: ApiKey("0f86e213-93be-45a4-b6ab-6f8b987c7f5a", "client", TEAM_ID, CLIENT_PERMISSIONS),
    EXPIRED_TOKEN: ApiKey("797b8b71-6653-448c-9dc3-09e1f6123f74", "agent", TEAM_ID, AGENT_PERMISSIONS, True),
    OTHER_TEAM_TOKEN: ApiKey("f15b5fd9-81bf-4f9b-9012-e0518e1b8885", "agent", OTHER_TEAM_ID, AGENT_PERMISSIONS),
}


def _jwt_like(user_id: str, email: str) -> str:
    """Looks like an HS256 JWT (header.payload.signature); the sandbox only compares it as a string."""

    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")

    return f"{part({'alg': 'HS256', 'typ': 'JWT'})}.{part({'sub': user_id, 'email': email})}.sandbox-signature"


ADMIN_USER_TOKEN = _jwt_like(ADMIN_USER_ID, "ines.okafor@example.com")  # user, admin of Driftwood Labs
MEMBER_USER_TOKEN = _jwt_like(MEMBER_USER_ID, "theo.lindqvist@example.com")  # user, plain member (below admin)
SANDBOX_USERS: dict[str, User] = {
    ADMIN_USER_TOKEN: User(ADMIN_USER_ID, "ines.okafor@example.com", {TEAM_ID: "admin"}),
    MEMBER_USER_TOKEN: User(MEMBER_USER_ID, "theo.lindqvist@example.com", {TEAM_ID: "member"}),
}

# --- what the handlers report -------------------------------------------------------------------------------------


def _backfill_counts(p: int) -> dict[str, int]:
    anon, not_found, errors = p * 6 // 100, p // 150, p // 400
    created = p * 31 // 100
    return {
        "total_listed": p,
        "skipped_anonymous": anon,
        "created": created,
        "updated": p - anon - not_found - errors - created,
        "not_found": not_found,
        "errors": errors,
        "pages_fetched": math.ceil(p / 100),
        "page_size": 100,
    }


def _ads_counts(p: int, total: int) -> dict[str, int]:
    enriched, errors, no_new = p * 72 // 100, p // 300, p // 10
    return {
        "total": total,
        "examined": p,
        "enriched": enriched,
        "skipped_all_names_present": p - enriched - errors - no_new,
        "skipped_no_new_names": no_new,
        "errors": errors,
    }


def _rc_counts(p: int, total: int) -> dict[str, int]:
    not_found, errors = p // 90, p // 500
    synced = p - not_found - errors
    active = synced * 38 // 100
    return {
        "total": total,
        "synced": synced,
        "skipped": not_found + errors,
        "skipped_anonymous": 0,
        "active": active,
        "inactive": synced - active,
        "not_found": not_found,
        "errors": errors,
        "attribution_synced": synced * 12 // 100,
        "attribution_enriched_existing": synced // 50,
        "attribution_marked_organic": synced * 61 // 100,
        "attribution_skipped_no_asa": synced // 4,
        "revenue_filled": active,
        "revenue_skipped": synced - active,
    }


def progress_message(job_type: str, p: int, total: int) -> str:
    """The ``progress.message`` a handler writes after ``p`` items (wording from the real handlers)."""
    if job_type == "revenuecat_user_backfill":
        if p == 0:
            return "Starting RevenueCat customer backfill..."
        c = _backfill_counts(p)
        return (
            f"{c['pages_fetched']} page(s) fetched, {p} customer(s) listed, {c['created']} created, "
            f"{c['updated']} updated, {c['skipped_anonymous']} skipped (anon), {c['not_found']} not found, "
            f"{c['errors']} errors"
        )
    if job_type == "apple_ads_sync":
        if p == 0:
            return "Resolving Apple Ads names..."
        a = _ads_counts(p, total)
        return f"Examined {p}, enriched {a['enriched']}, {a['errors']} field errors"
    if job_type == "revenuecat_sync":
        if p == 0:
            return "Starting sync..."
        r = _rc_counts(p, total)
        return (
            f"Synced {r['synced']} ({r['active']} active, {r['inactive']} inactive), {r['not_found']} not found, "
            f"{r['errors']} errors"
        )
    if job_type == "app_store_ratings_sync":
        return f"Processed {p}/{total} apps ({p * 171} rows, 0 tombstones, {p // 2} throttles, delay 250ms)"
    if job_type == "app_store_connect_reviews_sync":
        return f"Processed {p}/{total} apps ({p * 14} new, 0 removed, {1 + p % 3} pages this app)"
    return f"Processed {p}/{total}"


def run_result(job_type: str, p: int, total: int) -> dict[str, Any]:
    """The result a handler returns after ``p`` items (keys from the real handlers)."""
    if job_type == "revenuecat_user_backfill":
        return dict(_backfill_counts(p))
    if job_type == "apple_ads_sync":
        done = p == total
        return _ads_counts(p, total) | {
            "campaigns_seen": 14 if done else 0,
            "campaigns_matched": 9 if done else 0,
            "campaigns_upserted": 9 if done else 0,
            "ad_groups_upserted": 31 if done else 0,
            "campaign_names_refreshed": 1 if done else 0,
            "ad_group_names_refreshed": 3 if done else 0,
        }
    if job_type == "revenuecat_sync":
        return dict(_rc_counts(p, total))
    if job_type == "app_store_ratings_sync":
        return {"apps_processed": p, "apps_skipped": 0, "storefronts_fetched": p * 175, "rows_upserted": p * 171}
    if job_type == "app_store_connect_reviews_sync":
        return {"apps_processed": p, "pages_fetched": p * 3, "reviews_ingested": p * 14, "reviews_updated": p * 2}
    return {"processed": p, "total": total}


# --- building runs -------------------------------------------------------------------------------------------------


def iso_ms(ms: int) -> str:
    """JavaScript's ``toISOString()``: UTC, milliseconds, ``Z``."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"


def epoch_ms(moment: datetime) -> int:
    return math.floor(moment.timestamp() * 1000)


def new_run(
    *,
    run_id: str,
    job_type: str,
    team_id: str | None,
    project_id: str | None,
    triggered_by: str,
    params: dict[str, Any] | None,
    notify: bool,
    created_ms: int,
    start_ms: int,
    end_ms: int,
    outcome: str,
    total: int,
    processed: int,
    error: str | None = None,
    result: dict[str, Any] | None = None,
    cancel_ms: int | None = None,
) -> Doc:
    run = {
        "id": run_id,
        "job_type": job_type,
        "status": "pending",
        "team_id": team_id,
        "project_id": project_id,
        "triggered_by": triggered_by,
        "params": params,
        "progress": None,
        "result": None,
        "error": None,
        "notify": notify,
        "started_at": None,
        "completed_at": None,
        "created_at": iso_ms(created_ms),
    }
    plan = {
        "start_ms": start_ms,
        "end_ms": end_ms,
        "outcome": outcome,
        "total": total,
        "processed": processed,
        "error": error,
        "result": result,
        "cancel_ms": cancel_ms,
        "frozen": None,
    }
    return {"run": run, "plan": plan}


class Outcome(NamedTuple):
    outcome: str
    total: int
    processed: int
    duration_ms: int
    error: str | None = None


def trigger_outcome(job_type: str, project: Doc | None) -> Outcome:
    """How a freshly triggered run will go, from the project's integrations (the real handlers' first checks)."""
    integrations: dict[str, str] = (project or {}).get("integrations", {})
    if job_type == "revenuecat_user_backfill":
        if integrations.get("revenuecat") != "active":
            return Outcome("failed", 0, 0, 400, "RevenueCat integration not found or disabled")
        customers = int((project or {}).get("rc_customers", 0))
        return Outcome("completed", 0, customers, customers * 250)
    if job_type == "apple_ads_sync":
        if integrations.get("apple-search-ads") != "active":
            return Outcome("failed", 0, 0, 300, "Apple Search Ads integration not found or disabled")
        users = int((project or {}).get("asa_users", 0))
        return Outcome("completed", users, users, users * 200 + 8000)
    return Outcome("completed", 1, 1, 5000)


# --- the seed ------------------------------------------------------------------------------------------------------

TEAMS = (
    {"id": TEAM_ID, "name": "Driftwood Labs", "slug": "driftwood-labs"},
    {"id": OTHER_TEAM_ID, "name": "Northwind Apps", "slug": "northwind-apps"},
)
PROJECTS = (
    {
        "id": PROJECT_IOS_ID,
        "team_id": TEAM_ID,
        "name": "Tidepool iOS",
        "integrations": {"revenuecat": "active", "apple-search-ads": "active", "app-store-connect": "active"},
        "rc_customers": 1284,
        "asa_users": 318,
    },
    {
        "id": PROJECT_ANDROID_ID,
        "team_id": TEAM_ID,
        "name": "Tidepool Android",
        "integrations": {"revenuecat": "active"},
        "rc_customers": 9640,
        "asa_users": 0,
    },
    {
        "id": PROJECT_WEB_ID,
        "team_id": TEAM_ID,
        "name": "Harbor Web",
        "integrations": {"revenuecat": "disabled"},
        "rc_customers": 0,
        "asa_users": 0,
    },
    {
        "id": PROJECT_MAC_ID,
        "team_id": TEAM_ID,
        "name": "Tidepool macOS",
        "integrations": {"apple-search-ads": "active", "app-store-connect": "active"},
        "rc_customers": 0,
        "asa_users": 142,
    },
    {
        "id": OTHER_PROJECT_ID,
        "team_id": OTHER_TEAM_ID,
        "name": "Northwind Budget",
        "integrations": {"revenuecat": "active"},
        "rc_customers": 410,
        "asa_users": 0,
    },
)

BY_OWNER = f"manual:user:{OWNER_USER_ID}"
BY_ADMIN = f"manual:user:{ADMIN_USER_ID}"
BY_KEY = f"manual:api_key:{SANDBOX_KEYS[FULL_TOKEN].key_id}"

H, M, S = 3_600_000, 60_000, 1000


class SeedRun(NamedTuple):
    run_id: str
    job_type: str
    project_id: str | None
    by: str
    ago_ms: int  # created this long before seeding
    wait_ms: int  # pending this long
    run_ms: int  # running this long (to the natural end)
    outcome: str
    total: int
    processed: int
    error: str | None = None
    result: dict[str, Any] | None = None
    cancel_after_ms: int | None = None  # cancel asked this long after it started
    notify: bool = False
    team_id: str | None = TEAM_ID


_ABORT = (
    "RevenueCat API error while resolving project: HTTP 401 — "
    '{"type":"authentication_error","message":"Invalid API key.","retryable":false}'
)
_SEED_RUNS = (
    SeedRun(RUNNING_RUN_ID, "apple_ads_sync", PROJECT_IOS_ID, BY_ADMIN, 38 * M, 1200, 3 * H, "completed", 4812, 4812),
    SeedRun(
        BACKFILL_RUN_ID,
        "revenuecat_user_backfill",
        PROJECT_ANDROID_ID,
        BY_KEY,
        52 * M,
        900,
        150 * M,
        "completed",
        0,
        9640,
        notify=True,
    ),
    SeedRun(
        PENDING_RUN_ID,
        "app_store_connect_reviews_sync",
        PROJECT_IOS_ID,
        BY_ADMIN,
        15 * S,
        4 * M,
        100 * S,
        "completed",
        3,
        3,
    ),
    SeedRun(COMPLETED_RUN_ID, "revenuecat_sync", PROJECT_IOS_ID, BY_OWNER, 26 * H, 800, 9 * M, "completed", 2140, 2140),
    SeedRun(
        FAILED_RUN_ID,
        "revenuecat_user_backfill",
        PROJECT_WEB_ID,
        BY_ADMIN,
        76 * H,
        700,
        600,
        "failed",
        0,
        0,
        "RevenueCat integration not found or disabled",
        notify=True,
    ),
    SeedRun(
        FAILED_MIDWAY_RUN_ID,
        "apple_ads_sync",
        PROJECT_IOS_ID,
        BY_KEY,
        53 * H,
        1100,
        47 * M,
        "failed",
        4790,
        1930,
        "Apple Search Ads API request failed: HTTP 503 Service Unavailable after 5 attempts "
        "(GET https://api.searchads.apple.com/api/v5/campaigns/1874403921/adgroups)",
    ),
    SeedRun(
        RESTARTED_RUN_ID,
        "revenuecat_user_backfill",
        PROJECT_IOS_ID,
        BY_ADMIN,
        6 * 24 * H,
        1000,
        31 * M,
        "failed",
        0,
        4410,
        "Server restarted during execution",
    ),
    SeedRun(
        CANCELLED_RUN_ID,
        "revenuecat_user_backfill",
        PROJECT_ANDROID_ID,
        BY_OWNER,
        4 * 24 * H,
        900,
        3 * H,
        "completed",
        0,
        9300,
        cancel_after_ms=41 * M,
    ),
    SeedRun(
        ABORTED_RUN_ID,
        "revenuecat_user_backfill",
        PROJECT_IOS_ID,
        BY_KEY,
        8 * 24 * H,
        1000,
        12 * S,
        "completed",
        0,
        0,
        result={**_backfill_counts(0), "page_size": 0, "aborted": True, "abort_reason": _ABORT},
    ),
    SeedRun(
        OTHER_TEAM_RUN_ID,
        "revenuecat_sync",
        OTHER_PROJECT_ID,
        "manual:user:10d30e25-4ab7-4625-929f-6ed24fa2e13f",
        5 * H,
        600,
        4 * M,
        "completed",
        410,
        410,
        team_id=OTHER_TEAM_ID,
    ),
    SeedRun(SYSTEM_RUN_ID, "issue_scan", None, "schedule", 40 * S, 200, 6 * M, "completed", 57, 57, team_id=None),
    SeedRun(
        "d323d619-ab78-4846-895c-6111f6f4f8a5",
        "db_pruning",
        None,
        "schedule",
        70 * M,
        300,
        40 * S,
        "completed",
        0,
        0,
        team_id=None,
    ),
    SeedRun(
        "a2b84d1e-3c0f-4e8a-9d61-5f7e2c9b0a43",
        "retention_cleanup",
        None,
        "schedule",
        9 * H,
        300,
        30 * M,
        "failed",
        0,
        0,
        "canceling statement due to statement timeout",
        team_id=None,
    ),
)

# (job type, project, who, outcome weight) for the older runs that fill the list
_FILLER_KINDS: tuple[tuple[str, str, str], ...] = (
    ("app_store_ratings_sync", PROJECT_IOS_ID, BY_ADMIN),
    ("app_store_ratings_sync", PROJECT_MAC_ID, BY_OWNER),
    ("app_store_connect_reviews_sync", PROJECT_IOS_ID, BY_KEY),
    ("app_store_connect_reviews_sync", PROJECT_MAC_ID, BY_ADMIN),
    ("revenuecat_sync", PROJECT_ANDROID_ID, BY_OWNER),
    ("revenuecat_sync", PROJECT_IOS_ID, BY_KEY),
    ("apple_ads_sync", PROJECT_MAC_ID, BY_KEY),
    ("apple_ads_sync", PROJECT_IOS_ID, BY_ADMIN),
    ("revenuecat_user_backfill", PROJECT_IOS_ID, BY_OWNER),
)
_FILLER_ERRORS = {
    "revenuecat_sync": "fetch failed: getaddrinfo ENOTFOUND api.revenuecat.com",
    "app_store_connect_reviews_sync": "App Store Connect integration not found or disabled",
    "app_store_ratings_sync": "iTunes lookup throttled: HTTP 403 after 6 attempts (storefront br)",
    "apple_ads_sync": "Apple Search Ads API request failed: HTTP 500 Internal Server Error after 5 attempts",
    "revenuecat_user_backfill": "Server restarted during execution",
}
_FILLER_SIZES = {
    "app_store_ratings_sync": (1, 2),
    "app_store_connect_reviews_sync": (1, 3),
    "revenuecat_sync": (600, 9800),
    "apple_ads_sync": (120, 4800),
    "revenuecat_user_backfill": (0, 0),
}
FILLER_COUNT = 24


def _fillers(rng: random.Random) -> list[SeedRun]:
    runs = []
    for i in range(FILLER_COUNT):
        job_type, project_id, by = _FILLER_KINDS[rng.randrange(len(_FILLER_KINDS))]
        low, high = _FILLER_SIZES[job_type]
        total = rng.randint(low, high)
        processed = total if total else rng.randint(800, 9000)
        failed = rng.random() < 0.2
        run_id = TIE_RUN_IDS[i] if i < 2 else str(uuid.UUID(int=rng.getrandbits(128), version=4))
        ago = 11 * 24 * H if i < 2 else rng.randint(9 * 24 * H, 30 * 24 * H)
        run_ms = rng.randint(40 * S, 25 * M)
        if failed:
            processed = processed * rng.randint(5, 80) // 100
        runs.append(
            SeedRun(
                run_id,
                job_type,
                project_id,
                by,
                ago,
                rng.randint(300, 2000),
                run_ms,
                "failed" if failed else "completed",
                total,
                processed,
                _FILLER_ERRORS[job_type] if failed else None,
            )
        )
    return runs


def seed_runs(now: datetime) -> list[Doc]:
    """Every seeded run for a clock reading ``now`` (the same list for the same ``now``)."""
    rng = random.Random(SEED)
    now_ms = epoch_ms(now)
    docs = []
    for s in [*_SEED_RUNS, *_fillers(rng)]:
        created = now_ms - s.ago_ms
        start = created + s.wait_ms
        params = {"project_id": s.project_id} if s.project_id else {}
        docs.append(
            new_run(
                run_id=s.run_id,
                job_type=s.job_type,
                team_id=s.team_id,
                project_id=s.project_id,
                triggered_by=s.by,
                params=params,
                notify=s.notify,
                created_ms=created,
                start_ms=start,
                end_ms=start + s.run_ms,
                outcome=s.outcome,
                total=s.total,
                processed=s.processed,
                error=s.error,
                result=s.result,
                cancel_ms=None if s.cancel_after_ms is None else start + s.cancel_after_ms,
            )
        )
    return docs


def seeder(clock: Callable[[], datetime]) -> Callable[[DocStore], None]:
    """The ``DocStore`` seed function: teams, projects and runs, timed from the clock when it runs."""

    def seed(store: DocStore) -> None:
        for team in TEAMS:
            store.put("team", team["id"], dict(team))
        for project in PROJECTS:
            store.put("project", str(project["id"]), dict(project), parent=str(project["team_id"]))
        for doc in seed_runs(clock()):
            store.put("run", doc["run"]["id"], doc, parent=doc["run"]["team_id"] or "")

    return seed
