"""The Arroyo sandbox's demo organisation: saved connection tables, eleven pipelines and what happens to them.

Each seeded job starts as ``Created`` at its pipeline's creation time and carries a *script* (``behaviour``:
failure windows, a checkpoint stall, a bounded input, slow checkpoints) plus *pending* configuration changes
(a stop, a restart, a rescale) dated in the past. The simulator's state machine replays that history up to the
clock on first read, so the job states, run ids, checkpoints and the ``task failed`` log entries all come out of
the same rules that drive live requests. Everything is deterministic (seeded ``random.Random``) and relative to
the clock at seeding time.

Real (ArroyoSystems/arroyo@addb390): the object shapes, id prefixes, plan limits (``OrgMetadata`` serde defaults
32 / 30 / 10), the 10 s default checkpoint interval, the 60 s preview TTL, the ``task failed`` / ``job failed`` /
``Dropping invalid data (n)`` / ``Could not write to Kafka`` message forms, the ``KafkaSource<topic>``-style node
descriptions. Invented: every name, id, query, table, number and error detail; the saved connection tables (the
simulator has no ``/connection_tables`` route); the ``sandbox-non-admin`` token.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

Doc = dict[str, Any]
Graph = dict[str, list[Doc]]
Planner = Callable[[str, int], Graph]  # (query, parallelism) -> {"nodes": [...], "edges": [...]}

SEED = 20261124
SEC = 1_000_000
MIN = 60 * SEC
HOUR = 60 * MIN
DAY = 24 * HOUR

ORG_ID = "org"  # Arroyo OSS's single default organisation
ADMIN_PERMISSION = "admin"  # the role the /api/v1/admin/organizations/{org}/... routes need
NON_ADMIN_TOKEN = "sandbox-non-admin"  # accepted everywhere except the admin routes (403 "Admin role required")

# The plan limits of the demo organisation (Arroyo's OrgMetadata serde defaults; OSS lifts them all).
MAX_PARALLELISM = 32
MAX_OPERATORS = 30
MAX_RUNNING_JOBS = 10
DEFAULT_CHECKPOINT_INTERVAL_MICROS = 10 * SEC
PREVIEW_TTL_MICROS = 60 * SEC

# Pipelines (and their single jobs) the demo and the tests rely on.
HEALTHY_PIPELINE_ID = "pl_4Hq9TzK2mR"  # Running ~30 h; a restart and a rescale (2 -> 4) in its history
HEALTHY_JOB_ID = "job_7GfX2pLs9D"
PREVIEW_PIPELINE_ID = "pl_Vb3nQ8wE1x"  # preview (not listed), Running; stops itself 60 s after it started
PREVIEW_JOB_ID = "job_Pz5kR7tY2c"
STOPPED_PIPELINE_ID = "pl_8Kd2LmN4sQ"  # stopped with a final checkpoint two days ago
STOPPED_JOB_ID = "job_Wq4xJ9hB6n"
FINISHED_PIPELINE_ID = "pl_2Rf7GhT9kL"  # bounded backfill, Finished ~5 h ago
FINISHED_JOB_ID = "job_Cn8vM3aD5s"
FAILED_PIPELINE_ID = "pl_6Yt1UiO3pA"  # Failed: "Exhausted retries: ..." after a Kafka outage; ~300 errors
FAILED_JOB_ID = "job_Ex2fG6jK8m"
RESTART_LOOP_PIPELINE_ID = "pl_9Zc4Xv7Bn1"  # Recovering over and over (Redis refuses connections)
RESTART_LOOP_JOB_ID = "job_Lr5tH1qW3e"
BACKPRESSURE_PIPELINE_ID = "pl_3Mk8Nj2Hb6"  # Running, backpressure ~0.9 behind a slow webhook sink
BACKPRESSURE_JOB_ID = "job_Ua7sD4fG9h"
STALLED_CHECKPOINT_PIPELINE_ID = "pl_5Qw2Er9Ty4"  # Running, but its checkpoint 47 min ago never completed
STALLED_CHECKPOINT_JOB_ID = "job_Io6pA1sZ8x"
STARTING_PIPELINE_ID = "pl_7Ui3Op5As9"  # created 1 s before seeding: Created -> Compiling -> ... Running
STARTING_JOB_ID = "job_Df2gH8jK4l"
STOPPING_PIPELINE_ID = "pl_1As6Df8Gh3"  # graceful stop requested 0.3 s before seeding
STOPPING_JOB_ID = "job_Zx9cV2bN5m"
RESCALING_PIPELINE_ID = "pl_4Jk7Lz1Xc8"  # parallelism 2 -> 6 requested 1 s before seeding
RESCALING_JOB_ID = "job_Qa3wS6eD9r"

# Errors the failed job's log holds beyond the 20 "task failed" entries its retries write.
FAILED_JOB_SEEDED_ERRORS = 281


class SavedTable(NamedTuple):
    """A connection table saved in the organisation (what a query's FROM / INSERT INTO may name)."""

    connector: str
    target: str  # Kafka topic, Kinesis stream, MQTT topic, URL or path
    role: str  # "source", "sink" or "lookup"
    columns: tuple[str, ...]


SAVED_TABLES: dict[str, SavedTable] = {
    "orders": SavedTable("kafka", "orders", "source", ("order_id", "store_id", "customer_id", "amount", "ts")),
    "order_revenue_1m": SavedTable("kafka", "order-revenue-1m", "sink", ("window", "store_id", "orders", "revenue")),
    "clickstream": SavedTable("kafka", "clickstream", "source", ("user_id", "page", "referrer", "ts")),
    "user_sessions": SavedTable("kafka", "user-sessions", "sink", ("window", "user_id", "page_views")),
    "payments": SavedTable("kafka", "payments", "source", ("payment_id", "card_id", "merchant_id", "amount", "ts")),
    "card_risk": SavedTable("kafka", "card-risk-scores", "source", ("card_id", "risk_score", "ts")),
    "fraud_alerts": SavedTable("kafka", "fraud-alerts", "sink", ("payment_id", "card_id", "amount", "risk_score")),
    "inventory_changes": SavedTable("kafka", "dbz.inventory.stock", "source", ("sku", "warehouse_id", "quantity")),
    "products": SavedTable("redis", "products:*", "lookup", ("sku", "name", "category")),
    "enriched_inventory": SavedTable("kafka", "inventory-enriched", "sink", ("sku", "warehouse_id", "quantity")),
    "sensor_readings": SavedTable("mqtt", "plant/+/sensors", "source", ("sensor_id", "temperature", "ts")),
    "sensor_alerts": SavedTable(
        "webhook", "https://ops.acme.example/hooks/sensor-alerts", "sink", ("window", "sensor_id", "avg_temp")
    ),
    "ad_clicks": SavedTable("kinesis", "ad-clicks", "source", ("click_id", "campaign_id", "user_id", "ts")),
    "attributed_conversions": SavedTable(
        "filesystem", "s3://acme-attribution/conversions/", "sink", ("window", "campaign_id", "clicks")
    ),
    "page_views": SavedTable("kafka", "page-views", "source", ("page", "lcp_ms", "cls", "ts")),
    "web_vitals_5m": SavedTable("kafka", "web-vitals-5m", "sink", ("window", "page", "avg_lcp", "samples")),
    "email_events": SavedTable("kafka", "email-events", "source", ("message_id", "event", "recipient", "ts")),
    "email_events_archive": SavedTable(
        "filesystem", "s3://acme-archive/email-events/", "sink", ("message_id", "event", "recipient", "ts")
    ),
    "geo_events": SavedTable("kinesis", "geo-events", "source", ("device_id", "lat", "lon", "region", "ts")),
    "geo_events_by_region": SavedTable("kafka", "geo-events-by-region", "sink", ("window", "region", "devices")),
    "nexmark": SavedTable("nexmark", "100000", "source", ("person", "auction", "bid")),
}

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def public_id(prefix: str, *parts: object) -> str:
    """``{prefix}_{10 chars}`` like Arroyo's nanoid ids, derived from ``parts`` (stable across runs)."""
    digest = int.from_bytes(hashlib.blake2b(":".join(map(str, parts)).encode(), digest_size=8).digest(), "big")
    chars = []
    for _ in range(10):
        digest, rem = divmod(digest, 62)
        chars.append(_ALPHABET[rem])
    return f"{prefix}_{''.join(chars)}"


# --- documents -------------------------------------------------------------------------------------------------


def pipeline_doc(
    *,
    pipeline_id: str,
    org: str,
    name: str,
    query: str,
    udfs: list[Doc],
    parallelism: int,
    created_at: int,
    preview: bool,
    graph: Graph,
    state_url: str | None = None,
    tags: dict[str, str] | None = None,
) -> Doc:
    return {
        "id": pipeline_id,
        "org": org,
        "name": name,
        "query": query,
        "udfs": udfs,
        "parallelism": parallelism,
        "created_at": created_at,
        "preview": preview,
        "graph": graph,
        "state_url": state_url,
        "tags": tags or {},
    }


def behaviour(
    *,
    failures: Iterable[Doc] = (),
    finish_after: int | None = None,
    stall_from: int | None = None,
    stall_run: int | None = None,
    checkpoint_ms: tuple[int, int] = (250, 1800),
    backpressure: float = 0.0,
    rate: int = 2000,
    row_bytes: int = 240,
) -> Doc:
    """How a job behaves while it runs (simulator-only; never serialised)."""
    return {
        "failures": list(failures),
        "finish_after": finish_after,
        "stall_from": stall_from,
        "stall_run": stall_run,
        "checkpoint_ms": list(checkpoint_ms),
        "backpressure": backpressure,
        "rate": rate,
        "row_bytes": row_bytes,
    }


def failure(
    details: str,
    domain: str,
    *,
    start: int,
    until: int | None = None,
    after: int = 0,
    fatal: bool = False,
    operator_id: str | None = None,
    task_index: int | None = None,
    message: str = "task failed",
) -> Doc:
    """From ``start`` (until ``until``), a task fails ``after`` µs into each run; retried unless ``fatal``."""
    return {
        "details": details,
        "domain": domain,
        "from": start,
        "until": until,
        "after": after,
        "fatal": fatal,
        "operator_id": operator_id,
        "task_index": task_index,
        "message": message,
    }


def job_doc(
    *,
    job_id: str,
    org: str,
    pipeline_id: str,
    created_at: int,
    preview: bool,
    interval: int,
    nodes: list[Doc],
    env_vars: dict[str, str] | None = None,
    scheduler_config: Any = None,
    script: Doc | None = None,
    pending: Iterable[Doc] = (),
) -> Doc:
    return {
        "id": job_id,
        "org": org,
        "pipeline_id": pipeline_id,
        "created_at": created_at,
        "preview": preview,
        "ttl_micros": PREVIEW_TTL_MICROS if preview else None,
        "nodes": [{k: n[k] for k in ("node_id", "operator_id", "operator", "role", "parallelism")} for n in nodes],
        "config": {
            "stop": "none",
            "checkpoint_interval_micros": interval,
            "parallelism": None,
            "env_vars": env_vars or {},
            "scheduler_config": {} if scheduler_config is None else scheduler_config,
            "restart_nonce": 0,
            "restart_mode": "safe",
            "changed_at": created_at,
        },
        "pending": sorted(pending, key=lambda p: p["at"]),
        "behaviour": script or behaviour(),
        "status": {
            "state": "Created",
            "since": created_at,
            "settled": created_at,
            "run_id": 0,
            "start_time": None,
            "finish_time": None,
            "tasks": None,
            "failure_message": None,
            "failure_domain": None,
            "restarts": 0,
            "applied_nonce": 0,
            "applied_parallelism": None,
            "applied_env": None,
            "stop_behavior": None,
            "restart_mode": None,
            "reason": None,
            "reason_domain": None,
            "epoch": 0,
            "next_cp": None,
            "stuck_epoch": None,
            "final_done": None,
            "cp_oldest": 1,
            "log_seq": 0,
        },
    }


def log_doc(
    job_id: str,
    at: int,
    message: str,
    details: str,
    *,
    level: str = "error",
    operator_id: str | None = None,
    task_index: int | None = None,
    domain: str | None = None,
    seq: int = 0,
) -> Doc:
    """A JobLogMessage as stored (``job_id`` kept for the store's parent link)."""
    return {
        "id": public_id("jlm", job_id, at, seq),
        "job_id": job_id,
        "created_at": at,
        "operator_id": operator_id,
        "task_index": task_index,
        "level": level,
        "message": message,
        "details": details,
        "error_domain": domain,
    }


# --- the demo organisation -------------------------------------------------------------------------------------


class Spec(NamedTuple):
    pipeline_id: str
    job_id: str
    name: str
    query: str
    parallelism: int
    age: int  # µs before seeding that it was created
    interval: int = DEFAULT_CHECKPOINT_INTERVAL_MICROS
    preview: bool = False
    tags: dict[str, str] = {}


_PREVIEW_QUERY = """SELECT bid.auction AS auction, count(*) AS bids, max(bid.price) AS max_price,
    tumble(interval '10 seconds') AS window
FROM nexmark
WHERE bid IS NOT NULL
GROUP BY 1, 4"""

SPECS = (
    Spec(
        HEALTHY_PIPELINE_ID,
        HEALTHY_JOB_ID,
        "orders-revenue-per-minute",
        "INSERT INTO order_revenue_1m\n"
        "SELECT tumble(interval '1 minute') AS window, store_id, count(*) AS orders, sum(amount) AS revenue\n"
        "FROM orders\nGROUP BY window, store_id;",
        2,
        30 * HOUR,
        30 * SEC,
        tags={"team": "commerce", "tier": "1"},
    ),
    Spec(PREVIEW_PIPELINE_ID, PREVIEW_JOB_ID, "preview", _PREVIEW_QUERY, 1, 8 * SEC, DAY, preview=True),
    Spec(
        STOPPED_PIPELINE_ID,
        STOPPED_JOB_ID,
        "clickstream-sessionizer",
        "INSERT INTO user_sessions\n"
        "SELECT session(interval '30 minutes') AS window, user_id, count(*) AS page_views\n"
        "FROM clickstream\nGROUP BY window, user_id;",
        4,
        9 * DAY,
        MIN,
        tags={"team": "growth"},
    ),
    Spec(
        FINISHED_PIPELINE_ID,
        FINISHED_JOB_ID,
        "orders-backfill-2025-q4",
        "CREATE TABLE orders_archive (\n  order_id BIGINT, store_id INT, amount DOUBLE, ts TIMESTAMP\n) WITH (\n"
        "  connector = 'filesystem', type = 'source', path = 's3://acme-lake/orders/2025-q4/', format = 'parquet'\n"
        ");\n\nINSERT INTO order_revenue_1m\n"
        "SELECT tumble(interval '1 minute') AS window, store_id, count(*) AS orders, sum(amount) AS revenue\n"
        "FROM orders_archive\nGROUP BY window, store_id;",
        8,
        7 * HOUR,
        MIN,
        tags={"team": "commerce", "kind": "backfill"},
    ),
    Spec(
        FAILED_PIPELINE_ID,
        FAILED_JOB_ID,
        "payments-fraud-scoring",
        "INSERT INTO fraud_alerts\nSELECT p.payment_id, p.card_id, p.amount, r.risk_score\n"
        "FROM payments p\nJOIN card_risk r ON p.card_id = r.card_id\nWHERE r.risk_score > 0.8;",
        4,
        2 * DAY,
        20 * SEC,
        tags={"team": "risk", "tier": "1"},
    ),
    Spec(
        RESTART_LOOP_PIPELINE_ID,
        RESTART_LOOP_JOB_ID,
        "inventory-cdc-enricher",
        "INSERT INTO enriched_inventory\nSELECT i.sku, i.warehouse_id, i.quantity, p.name AS product_name, p.category\n"
        "FROM inventory_changes i\nJOIN products p ON i.sku = p.sku;",
        2,
        6 * HOUR,
        tags={"team": "supply-chain"},
    ),
    Spec(
        BACKPRESSURE_PIPELINE_ID,
        BACKPRESSURE_JOB_ID,
        "sensor-anomaly-detection",
        "INSERT INTO sensor_alerts\nSELECT hop(interval '10 seconds', interval '5 minutes') AS window, sensor_id,\n"
        "    avg(temperature) AS avg_temp, max(temperature) AS max_temp\n"
        "FROM sensor_readings\nGROUP BY window, sensor_id;",
        4,
        9 * HOUR,
        MIN,
        tags={"team": "plant-ops"},
    ),
    Spec(
        STALLED_CHECKPOINT_PIPELINE_ID,
        STALLED_CHECKPOINT_JOB_ID,
        "ad-attribution-hourly",
        "INSERT INTO attributed_conversions\n"
        "SELECT tumble(interval '1 hour') AS window, c.campaign_id, count(*) AS clicks\n"
        "FROM ad_clicks c\nGROUP BY window, c.campaign_id;",
        3,
        20 * HOUR,
        MIN,
        tags={"team": "marketing"},
    ),
    Spec(
        STARTING_PIPELINE_ID,
        STARTING_JOB_ID,
        "web-vitals-rollup",
        "INSERT INTO web_vitals_5m\n"
        "SELECT tumble(interval '5 minutes') AS window, page, avg(lcp_ms) AS avg_lcp, count(*) AS samples\n"
        "FROM page_views\nGROUP BY window, page;",
        2,
        1 * SEC,
    ),
    Spec(
        STOPPING_PIPELINE_ID,
        STOPPING_JOB_ID,
        "email-events-archiver",
        "INSERT INTO email_events_archive\nSELECT * FROM email_events;",
        2,
        3 * DAY,
        5 * MIN,
    ),
    Spec(
        RESCALING_PIPELINE_ID,
        RESCALING_JOB_ID,
        "geo-events-by-region",
        "INSERT INTO geo_events_by_region\n"
        "SELECT tumble(interval '1 minute') AS window, region, count(distinct device_id) AS devices\n"
        "FROM geo_events\nGROUP BY window, region;",
        2,
        2 * DAY,
        30 * SEC,
        tags={"team": "mobility"},
    ),
)

_KAFKA_TIMEOUT = "Kafka error: KafkaError (Message production error: MessageTimedOut (Local: Message timed out))"
_REDIS_REFUSED = (
    "Failed to connect to Redis at redis://cache-prod.internal:6379/0: Connection refused (os error 111); "
    "lookup join cannot serve requests"
)
_BAD_JSON = (
    "invalid JSON: expected value at line 1 column 1",
    "JSON does not match schema: missing field `amount` at line 1 column 87",
    'JSON does not match schema: invalid type: string "12.50", expected f64 at line 1 column 64',
    "invalid JSON: EOF while parsing an object at line 1 column 212",
)
_KAFKA_WRITE = (
    "KafkaError (Message production error: MessageTimedOut (Local: Message timed out))",
    "KafkaError (Message production error: BrokerTransportFailure (Local: Broker transport failure))",
    "KafkaError (Message production error: NotLeaderForPartition (Broker: Not leader for partition))",
)


def _scripts(now: int) -> dict[str, tuple[Doc, list[Doc]]]:
    """job id -> (behaviour, pending config changes)."""
    healthy_failure = failure(
        "Error while reading from Kafka: KafkaError (Message consumption error: "
        "BrokerTransportFailure (Local: Broker transport failure))",
        "external",
        start=now - 29 * HOUR,
        until=now - 29 * HOUR + 1 * SEC,
        operator_id="source_orders_1",
        task_index=1,
    )
    return {
        HEALTHY_JOB_ID: (
            behaviour(failures=[healthy_failure], rate=3200, row_bytes=180),
            [
                {"at": now - 20 * HOUR, "set": {"restart_nonce": 1, "restart_mode": "safe"}},
                {"at": now - 19 * HOUR, "set": {"parallelism": 4}},
            ],
        ),
        PREVIEW_JOB_ID: (behaviour(rate=800), []),
        STOPPED_JOB_ID: (behaviour(rate=1500), [{"at": now - 2 * DAY, "set": {"stop": "checkpoint"}}]),
        FINISHED_JOB_ID: (behaviour(finish_after=2 * HOUR, rate=45000, checkpoint_ms=(900, 4200)), []),
        FAILED_JOB_ID: (
            behaviour(
                failures=[
                    failure(
                        _KAFKA_TIMEOUT,
                        "external",
                        start=now - 4 * HOUR,
                        after=20 * SEC,
                        operator_id="sink_fraud_alerts_6",
                        task_index=2,
                    )
                ],
                rate=2600,
            ),
            [],
        ),
        RESTART_LOOP_JOB_ID: (
            behaviour(
                failures=[
                    failure(
                        _REDIS_REFUSED,
                        "external",
                        start=now - 160 * SEC,
                        after=45 * SEC,
                        operator_id="lookupjoin_2",
                        task_index=0,
                    )
                ],
                rate=900,
            ),
            [],
        ),
        BACKPRESSURE_JOB_ID: (
            behaviour(backpressure=0.93, checkpoint_ms=(28_000, 46_000), rate=12000, row_bytes=96),
            [],
        ),
        STALLED_CHECKPOINT_JOB_ID: (behaviour(stall_from=now - 47 * MIN, stall_run=1, rate=5200), []),
        STARTING_JOB_ID: (behaviour(rate=700), []),
        STOPPING_JOB_ID: (behaviour(rate=400), [{"at": now - 300_000, "set": {"stop": "graceful"}}]),
        RESCALING_JOB_ID: (behaviour(rate=6400), [{"at": now - 1 * SEC, "set": {"parallelism": 6}}]),
    }


def _series(
    rng: random.Random, job_id: str, first: int, last: int, count: int, make: Callable[[random.Random], Doc]
) -> list[Doc]:
    """``count`` entries spread over [first, last] with jitter, each from ``make``, stored oldest first."""
    step = (last - first) / max(count - 1, 1)
    out = []
    for i in range(count):
        at = int(first + i * step + rng.uniform(-0.3, 0.3) * step)
        entry = make(rng)
        out.append(
            log_doc(
                job_id,
                max(first, min(last, at)),
                entry["message"],
                entry["details"],
                level=entry.get("level", "error"),
                operator_id=entry.get("operator_id"),
                task_index=entry.get("task_index"),
                domain=entry.get("domain"),
                seq=i,
            )
        )
    return out


def _logs(now: int) -> list[Doc]:
    """The log entries the seed writes directly (the simulator adds each failure's ``task failed`` itself)."""
    rng = random.Random(SEED)
    failed_start = now - 14 * HOUR
    outage = now - 4 * HOUR - 15 * MIN
    logs: list[Doc] = []
    logs += _series(
        rng,
        FAILED_JOB_ID,
        failed_start,
        now - 4 * HOUR,
        200,
        lambda r: {
            "message": f"Dropping invalid data ({r.choice((1, 1, 1, 2, 3, 7))})",
            "details": r.choice(_BAD_JSON),
            "operator_id": "source_payments_1",
            "task_index": r.randrange(4),
            "domain": "user",
        },
    )
    logs += _series(
        rng,
        FAILED_JOB_ID,
        outage,
        now - 3 * HOUR - 40 * MIN,
        72,
        lambda r: {
            "message": "Could not write to Kafka",
            "details": r.choice(_KAFKA_WRITE),
            "operator_id": "sink_fraud_alerts_6",
            "task_index": r.randrange(4),
            "domain": "external",
        },
    )
    logs += _series(
        rng,
        FAILED_JOB_ID,
        outage + 5 * MIN,
        now - 3 * HOUR - 45 * MIN,
        9,
        lambda r: {
            "message": "job failed",
            "details": f"Worker wkr_{r.randrange(10**6):06d} missed heartbeats for 30s; assuming it has died",
            "domain": "internal",
        },
    )
    logs += _series(
        rng,
        FAILED_JOB_ID,
        failed_start,
        now - 5 * HOUR,
        12,
        lambda r: {
            "level": "warn",
            "message": "Slow checkpoint",
            "details": f"Checkpoint took {r.uniform(12, 19):.1f}s, longer than the 20s interval allows comfortably",
            "operator_id": "join_5",
            "task_index": r.randrange(4),
        },
    )
    logs += _series(
        rng,
        STALLED_CHECKPOINT_JOB_ID,
        now - 46 * MIN,
        now - 2 * MIN,
        16,
        lambda r: {
            "message": "Error while committing to S3",
            "details": "Failed to complete multipart upload for s3://acme-attribution/conversions/"
            f"part-{r.randrange(100):05d}.parquet: dispatch failure: timeout: error trying to connect: "
            "operation timed out",
            "operator_id": "sink_attributed_conversions_4",
            "task_index": r.randrange(3),
            "domain": "external",
        },
    )
    logs += _series(
        rng,
        BACKPRESSURE_JOB_ID,
        now - 8 * HOUR,
        now - 10 * MIN,
        6,
        lambda r: {
            "message": "Dropping invalid data (1)",
            "details": "JSON does not match schema: invalid type: null, expected f64 at line 1 column 41",
            "operator_id": "source_sensor_readings_1",
            "task_index": r.randrange(4),
            "domain": "user",
        },
    )
    logs += _series(
        rng,
        HEALTHY_JOB_ID,
        now - 26 * HOUR,
        now - 3 * HOUR,
        3,
        lambda r: {
            "message": "Dropping invalid data (1)",
            "details": "invalid JSON: expected value at line 1 column 1",
            "operator_id": "source_orders_1",
            "task_index": r.randrange(4),
            "domain": "user",
        },
    )
    return logs


def populate(store: Any, now: int, plan: Planner) -> None:
    """Write the demo organisation into ``store`` (a DocStore) as of ``now`` (µs); ``plan`` builds graphs."""
    scripts = _scripts(now)
    for spec in SPECS:
        created = now - spec.age
        graph = plan(spec.query, spec.parallelism)
        if spec.preview:
            graph = _with_preview_sink(graph)
        name = f"preview_{created // 1000}" if spec.preview else spec.name
        store.put(
            "pipeline",
            spec.pipeline_id,
            pipeline_doc(
                pipeline_id=spec.pipeline_id,
                org=ORG_ID,
                name=name,
                query=spec.query,
                udfs=[],
                parallelism=spec.parallelism,
                created_at=created,
                preview=spec.preview,
                graph=graph,
                tags=dict(spec.tags),
            ),
        )
        script, pending = scripts[spec.job_id]
        job = job_doc(
            job_id=spec.job_id,
            org=ORG_ID,
            pipeline_id=spec.pipeline_id,
            created_at=created,
            preview=spec.preview,
            interval=spec.interval,
            nodes=graph["nodes"],
            script=script,
            pending=pending,
        )
        store.put("job", spec.job_id, job, spec.pipeline_id)
    rows = [(log["id"], log["job_id"], log) for log in _logs(now)]
    store.put_many("jlm", rows)


def _with_preview_sink(graph: Graph) -> Graph:
    """A preview pipeline's graph: every real sink writes to the preview connector instead."""
    nodes = [dict(n, operator="preview") if n["role"] == "sink" else n for n in graph["nodes"]]
    return {"nodes": nodes, "edges": graph["edges"]}
