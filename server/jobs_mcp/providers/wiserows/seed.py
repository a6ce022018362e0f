"""The WiseRows sandbox's demo workspace: 14 jobs in every status and category, with their logs.

Deterministic (a ``random.Random`` per job); every timestamp is relative to the clock when the store is seeded.

A job is stored as ``{"job": {id, name, type, category, createdAt}, "plan": ...}``; the simulator works out its
status, progress, completedAt and logs at any moment from the plan (see ``simulator.settle``). Plan fields
(epoch milliseconds): ``start_ms`` (pending -> running), ``step_ms`` (one item every step), ``unit`` ("Row",
"Page", ...), ``items`` (``[label, kind, text]``; kind ``ok`` | ``retry`` (a warning, then done) | ``warn``
(done with a warning) | ``fail`` (the item fails, the job goes on)), ``fatal`` (``{"index", "message"}``: the
job fails at that item), ``intro`` (log lines at creation and start), ``cancel_ms`` (when a cancel was asked).

Real (WiseRows' public Jobs API page, seed 003): the job fields, the statuses, the categories, log entries
``{timestamp, level, message}`` with levels info|warn|error, cancel only for pending or running, no rollback.
Invented: everything else — the id format, the ``type`` identifiers, names, item counts and pace, log wording,
and the third-party error messages in the logs.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime
from typing import Any, NamedTuple

from jobs_mcp.sandbox.docstore import DocStore

SEED = 3003
Doc = dict[str, Any]
STATUSES = ("pending", "running", "completed", "failed", "cancelled")
CATEGORIES = ("seo", "ai", "sync", "export")

# --- credentials (real: keys are "ds_..." and carry one of three permission levels) -------------------------------

LEVELS = ("read", "write", "admin")  # each level includes the ones before it
READ_TOKEN = "ds_sandbox_read"  # may list and get jobs only
WRITE_TOKEN = "ds_sandbox_write"
ADMIN_TOKEN = "ds_sandbox_admin"
SANDBOX_TOKENS = {READ_TOKEN: "read", WRITE_TOKEN: "write", ADMIN_TOKEN: "admin"}

# --- jobs the tests and the demo rely on -----------------------------------------------------------------------

FAILED_JOB_ID = "job_w3bf7lpub1k9q2"  # sync: Webflow publish, token revoked at row 118 (~140 log lines)
FAILED_AI_JOB_ID = "job_a1qt0ta8rn4x6e"  # ai: product descriptions, OpenAI quota exhausted at row 202
FAILED_EXPORT_JOB_ID = "job_g5sh33tsx0p7d1"  # export: Google Sheets cell limit hit at chunk 32 of 40
RUNNING_JOB_ID = "job_m3t4d3sc9z2h5r"  # ai: meta descriptions, running ~70 min in all, some rows fail
RUNNING_FAILING_JOB_ID = "job_sh0p1fy7im9rt4"  # sync: Shopify import, running, fails ~4 min after seeding
PENDING_JOB_ID = "job_c5vexp0rt8n2ka"  # export: CSV export, starts 3 min after seeding
COMPLETED_JOB_ID = "job_se0aud1t4c6m8p"  # seo: site audit, done, warnings only
COMPLETED_WITH_FAILURES_JOB_ID = "job_l1nkch3ck5b7w0"  # seo: link check, done with 14 failed URLs
CANCELLED_JOB_ID = "job_tr4nsl8de2g6y9"  # ai: translation cancelled while row 58 ran
CANCELLED_PENDING_JOB_ID = "job_wpsumm3r0s4l3"  # sync: WordPress publish cancelled before it started

S, M, H, D = 1000, 60_000, 3_600_000, 86_400_000

# --- item labels ---------------------------------------------------------------------------------------------------

_PLACES = (
    "Mount Rainier", "the Olympic Peninsula", "Joshua Tree", "the Smokies", "Zion", "Acadia", "Big Sur",
    "the Dolomites", "Snowdonia", "the Lake District", "Banff", "Yosemite", "the White Mountains", "Moab",
)  # fmt: skip
_GUIDE_FORMS = (
    "Best day hikes near {p}", "{p} trail guide", "Camping in {p}: what to know", "{p} in winter",
    "Where to watch sunrise in {p}", "Family-friendly walks in {p}", "A weekend in {p}", "{p} permit guide",
)  # fmt: skip
_PRODUCTS = (
    "Ridgeline 45L Pack", "Alpine Down Jacket", "Trailrunner GTX Shoe", "Summit Trekking Poles", "Basecamp 2P Tent",
    "Merino Base Layer", "Canyon Sun Hoodie", "Glacier Sleeping Bag", "Ember Camp Stove", "Drift Rain Shell",
    "Switchback Hip Pack", "Talus Approach Shoe", "Cirrus Puffy Vest", "Tarn Water Filter",
)  # fmt: skip
_VARIANTS = ("Men's", "Women's", "Kids'", "Slate", "Moss", "Ember", "Small", "Medium", "Large", "Tall")
_SECTIONS = ("blog", "guides", "gear", "trips", "journal")


def _guide(rng: random.Random) -> str:
    title = rng.choice(_GUIDE_FORMS).format(p=rng.choice(_PLACES))
    return title[0].upper() + title[1:]


def _product(rng: random.Random) -> str:
    return f"{rng.choice(_PRODUCTS)} ({rng.choice(_VARIANTS)})"


def _slug(text: str) -> str:
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def _page(rng: random.Random) -> str:
    return f"/{rng.choice(_SECTIONS)}/{_slug(_guide(rng))}"


def _hex(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(n))


# --- per-job item scripts ---------------------------------------------------------------------------------------

Item = list[str]  # [label, kind, text]
Script = Callable[[random.Random, int], Item]


def _webflow(rng: random.Random, i: int) -> Item:
    label = _guide(rng)
    roll = rng.random()
    if roll < 0.05:
        used = f"6512{_hex(rng, 20)}"
        return [label, "fail", f"Webflow API 400 ValidationError: slug '{_slug(label)}' is already used by item {used}"]
    if roll < 0.08:
        size = rng.randint(41, 97) / 10
        return [label, "fail", f"Webflow API 400: field 'main-image' — remote image is {size} MB, the limit is 4 MB"]
    if roll < 0.15:
        return [label, "retry", "Webflow API 429 Too Many Requests; retrying in 60 s (attempt 1 of 5)"]
    return [label, "ok", f"published (Webflow item 6512{_hex(rng, 20)})"]


def _describe(rng: random.Random, i: int) -> Item:
    label = _product(rng)
    roll = rng.random()
    if roll < 0.04:
        return [label, "fail", f"output rejected after 3 attempts: {rng.randint(161, 240)} characters, limit is 160"]
    if roll < 0.06:
        return [label, "fail", "source column 'Features' is empty; nothing to write from"]
    if roll < 0.12:
        return [label, "retry", "model request timed out after 30 s; retrying (attempt 2 of 3)"]
    return [label, "ok", f"description written ({rng.randint(96, 158)} characters, {rng.randint(310, 920)} tokens)"]


def _meta(rng: random.Random, i: int) -> Item:
    label = _page(rng)
    roll = rng.random()
    if roll < 0.03:
        return [label, "fail", "page returned HTTP 404 when fetched; no content to summarise"]
    if roll < 0.08:
        return [label, "retry", "model request timed out after 30 s; retrying (attempt 2 of 3)"]
    return [label, "ok", f"meta description written ({rng.randint(118, 158)} characters)"]


def _shopify(rng: random.Random, i: int) -> Item:
    label = _product(rng)
    if rng.random() < 0.1:
        text = "Shopify API 429: Exceeded 2 calls per second for api client. Retrying in 2 s"
        return [label, "retry", text]
    return [label, "ok", f"imported {rng.randint(1, 9)} variant(s), {rng.randint(1, 8)} image(s)"]


def _sheet_chunk(rng: random.Random, i: int) -> Item:
    label = f"rows {i * 250 + 1}-{i * 250 + 250}"
    if rng.random() < 0.2:
        text = "Google Sheets API 429: Quota exceeded for quota metric 'Write requests' per minute; retrying in 30 s"
        return [label, "retry", text]
    return [label, "ok", f"written ({250 * 14:,} cells)"]


def _csv_chunk(rng: random.Random, i: int) -> Item:
    return [f"rows {i * 250 + 1}-{i * 250 + 250}", "ok", f"written ({rng.randint(180, 260)} KB)"]


def _audit(rng: random.Random, i: int) -> Item:
    label = _page(rng)
    roll = rng.random()
    if roll < 0.08:
        return [label, "warn", f"title is {rng.randint(61, 84)} characters (60 or fewer recommended)"]
    if roll < 0.14:
        return [label, "warn", "no meta description"]
    if roll < 0.2:
        return [label, "warn", f"{rng.randint(2, 7)} image(s) without alt text"]
    return [label, "ok", f"checked (score {rng.randint(82, 100)}/100)"]


def _links(rng: random.Random, i: int) -> Item:
    label = _page(rng)
    if i % 16 == 5:
        host = rng.choice(("www.rei.com", "www.nps.gov", "www.alltrails.com", "www.backpacker.com"))
        return [label, "fail", f"broken link: https://{host}/{_slug(_guide(rng))} returned HTTP 404"]
    if rng.random() < 0.06:
        return [label, "warn", "redirect chain of 3 hops (301 -> 301 -> 200)"]
    return [label, "ok", f"{rng.randint(4, 60)} links OK"]


def _translate(rng: random.Random, i: int) -> Item:
    label = _product(rng)
    if rng.random() < 0.05:
        return [label, "retry", "model request timed out after 30 s; retrying (attempt 2 of 3)"]
    return [label, "ok", f"translated {rng.randint(3, 6)} cells to German"]


def _simple(text: str, label: Callable[[random.Random], str]) -> Script:
    def script(rng: random.Random, i: int) -> Item:
        return [label(rng), "ok", text]

    return script


class SeedJob(NamedTuple):
    job_id: str
    name: str
    type: str
    category: str
    ago_ms: int  # created this long before seeding
    wait_ms: int  # pending this long
    step_ms: int
    unit: str
    size: int  # items to process
    script: Script
    intro: tuple[str, ...]  # info lines at start (after "Job queued")
    fatal: tuple[int, str] | None = None
    cancel_after_ms: int | None = None  # cancel asked this long after creation


_JOBS = (
    SeedJob(
        FAILED_JOB_ID, "Publish 'Trail guides' rows to Webflow", "webflow_publish", "sync", 3 * H + 20 * M, 4 * S,
        1600, "Row", 164, _webflow,
        ("Loaded 164 rows from table 'Trail guides'",
         "Publishing to Webflow collection 'Guides' (site fernhill-outdoor)"),
        (117, "Webflow API 401 Unauthorized: the access token was revoked. Reconnect Webflow under Settings -> "
              "Integrations and run the publish again."),
    ),
    SeedJob(
        FAILED_AI_JOB_ID, "Generate product descriptions (Spring catalog)", "ai_generate_column", "ai", 26 * H,
        6 * S, 4 * S, "Row", 240, _describe,
        ("Loaded 240 rows from table 'Spring catalog'", "Writing column 'Description' with model gpt-4o-mini"),
        (201, "OpenAI API 429 insufficient_quota: You exceeded your current quota, please check your plan and "
              "billing details."),
    ),
    SeedJob(
        FAILED_EXPORT_JOB_ID, "Export 'Keyword research' to Google Sheets", "google_sheets_export", "export",
        5 * H, 3 * S, 2 * S, "Chunk", 40, _sheet_chunk,
        ("Exporting 10,000 rows from table 'Keyword research'", "Target: spreadsheet 'SEO keywords Q2', tab 'All'"),
        (31, "Google Sheets API 400 INVALID_ARGUMENT: This action would increase the number of cells in the "
             "workbook above the limit of 10000000 cells. Export to a new spreadsheet or remove unused tabs."),
    ),
    SeedJob(
        RUNNING_JOB_ID, "Write meta descriptions for 420 blog posts", "ai_meta_descriptions", "ai", 25 * M, 5 * S,
        10 * S, "Page", 420, _meta,
        ("Loaded 420 rows from table 'Blog posts'", "Writing column 'Meta description' with model gpt-4o-mini"),
    ),
    SeedJob(
        RUNNING_FAILING_JOB_ID, "Sync 300 products from Shopify", "shopify_import", "sync", 6 * M, 3 * S, 3 * S,
        "Product", 300, _shopify,
        ("Connected to Shopify store fernhill-outdoor.myshopify.com", "Importing 300 products into table 'Catalog'"),
        (190, "Shopify Admin API 401 Unauthorized: [API] Invalid API key or access token (unrecognized login or "
              "wrong password). Reconnect Shopify and run the sync again."),
    ),
    SeedJob(
        PENDING_JOB_ID, "Export 'Product catalog' as CSV", "csv_export", "export", 30 * S, 3 * M + 30 * S, 2500,
        "Chunk", 48, _csv_chunk, ("Exporting 12,000 rows from table 'Product catalog'",),
    ),
    SeedJob(
        COMPLETED_JOB_ID, "SEO audit: fernhilloutdoor.com (312 pages)", "seo_site_audit", "seo", 2 * D, 8 * S,
        3 * S, "Page", 312, _audit, ("Crawling sitemap https://fernhilloutdoor.com/sitemap.xml (312 URLs)",),
    ),
    SeedJob(
        COMPLETED_WITH_FAILURES_JOB_ID, "Check links on 220 guide pages", "seo_link_check", "seo", 30 * H, 5 * S,
        2 * S, "Page", 220, _links, ("Checking outbound links on 220 pages of table 'Trail guides'",),
    ),
    SeedJob(
        CANCELLED_JOB_ID, "Translate 'Gear reviews' to German", "ai_translate", "ai", 7 * H, 5 * S, 7 * S, "Row", 180,
        _translate, ("Loaded 180 rows from table 'Gear reviews'", "Translating 5 columns to German (de-DE)"),
        cancel_after_ms=5 * S + 57 * 7 * S + 3 * S,
    ),
    SeedJob(
        CANCELLED_PENDING_JOB_ID, "Publish 'Summer sale' rows to WordPress", "wordpress_publish", "sync", 2 * H,
        10 * M, 3 * S, "Row", 36, _simple("published as draft", _product), (), cancel_after_ms=2 * M,
    ),
    SeedJob(
        "job_csvtr41lg0d5e2", "Export 'Trail guides' as CSV", "csv_export", "export", 3 * D, 2 * S, 2 * S, "Chunk",
        2, _csv_chunk, ("Exporting 412 rows from table 'Trail guides'",),
    ),
    SeedJob(
        "job_a1rt4bl3c4l3n9", "Sync Airtable base 'Editorial calendar'", "airtable_sync", "sync", 4 * D, 2 * S,
        1500, "Record", 64, _simple("updated", _guide), ("Pulling 64 records from Airtable base 'Editorial calendar'",),
    ),
    SeedJob(
        "job_kwc1ust3r8m2q5", "Cluster 1,200 keywords for 'Camping'", "seo_keyword_clusters", "seo", 5 * D, 3 * S,
        20 * S, "Batch", 24, _simple("clustered 50 keywords", lambda r: f"batch {r.randint(1, 24)}"),
        ("Loaded 1,200 keywords from table 'Camping keywords'",),
    ),
    SeedJob(
        "job_4lttx7g3n1m6b8", "Generate alt text for 86 images", "ai_alt_text", "ai", 6 * D, 4 * S, 5 * S, "Image",
        86, _simple("alt text written", lambda r: f"{_slug(_product(r))}.jpg"),
        ("Loaded 86 images from column 'Hero image' of table 'Catalog'",),
    ),
)  # fmt: skip


def seed_jobs(now_ms: int) -> list[Doc]:
    docs = []
    for j in _JOBS:
        rng = random.Random(f"{SEED}:{j.job_id}")
        created = now_ms - j.ago_ms
        plan = {
            "start_ms": created + j.wait_ms,
            "step_ms": j.step_ms,
            "unit": j.unit,
            "items": [j.script(rng, i) for i in range(j.size)],
            "fatal": None if j.fatal is None else {"index": j.fatal[0], "message": j.fatal[1]},
            "intro": list(j.intro),
            "cancel_ms": None if j.cancel_after_ms is None else created + j.cancel_after_ms,
        }
        job = {"id": j.job_id, "name": j.name, "type": j.type, "category": j.category, "createdAt": created}
        docs.append({"job": job, "plan": plan})
    return docs


def seeder(now_ms: Callable[[], int]) -> Callable[[DocStore], None]:
    """The ``DocStore`` seed function, timed from the clock when it runs."""

    def seed(store: DocStore) -> None:
        for doc in seed_jobs(now_ms()):
            store.put("job", doc["job"]["id"], doc)

    return seed


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)
