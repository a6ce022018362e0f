"""Signed state: whoever can write to the gate's state store still cannot change what is sent.

Against every backend (memory, SQLite, a real redis-server), a proposal is edited or forged where it is stored —
its request (digest recomputed, as an attacker would), its page secret, its principal or channel, a whole record —
or its spent mark deleted and the genuine record put back. Each is refused by confirm_action and by the approval
page alike, the simulator receives no write, and the audit log shows the refusal.
"""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import redis
from mcp import Client
from pydantic import SecretStr

from jobs_mcp import registry
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.confirmation import ConfirmationId, canonical_digest
from jobs_mcp.providers.lytics.simulator import FACEBOOK_EXPORT_ID, HEALTHY_EXPORT_ID
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector
from jobs_mcp.state.memory import MemoryStore
from support import FAST, enroll_passphrase, text_of
from test_state_store import RedisServer

pytestmark = pytest.mark.anyio

BACKENDS = ["memory", "sqlite", pytest.param("redis", marks=pytest.mark.slow)]
SIGNATURE = "signature check: it was changed in the state store"


class Env:
    """The Lytics simulator and a server wired to it, its gate state in the backend under test."""

    def __init__(self, tmp_path: Path, state: str, redis_url: str | None) -> None:
        self.faults = FaultInjector()
        app = registry.provider("lytics").simulator(faults=self.faults)
        spec = {"memory": "memory", "sqlite": str(tmp_path / "state.db"), "redis": redis_url}[state]
        self.settings = Settings(
            accounts=(sandbox_account("lytics"),),
            audit_db=str(tmp_path / "audit.db"),
            state=spec,
            gate_key=SecretStr("signed-state-test-gate-key-4b1e8c2d7a9f") if state == "redis" else None,
        )
        self.runtime = Runtime(self.settings, policy=FAST, sandbox_apps={"lytics": app})
        self.server = build_server(self.settings, self.runtime)
        self.kind = state
        self.redis_url = redis_url
        self.tmp_path = tmp_path
        enroll_passphrase(tmp_path / "approvers.json")  # a person who can approve the kill on the page

    @property
    def store(self) -> Any:
        return self.runtime.gate.store

    def writes(self) -> int:
        return sum(self.faults.hits(method=m) for m in ("POST", "PUT", "PATCH", "DELETE"))

    def refusals(self) -> list[dict[str, Any]]:
        return [r for r in self.runtime.gate.audit.recent(100) if r["kind"] == "refusal"]

    async def stored(self, nonce: str) -> dict[str, Any]:
        record = await self.store.get(nonce)
        assert record is not None
        return dict(record)

    async def write(self, nonce: str, record: dict[str, Any]) -> None:
        """What someone with write access to the store does: put any record under any nonce."""
        await self.store.put(nonce, record, record.get("expires", 4102444800))

    def forget_spent(self, nonce: str) -> None:
        """Delete the spent mark in the backend itself."""
        if self.kind == "memory":
            store = self.store
            assert isinstance(store, MemoryStore)
            del store._spent[nonce]
        elif self.kind == "sqlite":
            with sqlite3.connect(self.tmp_path / "state.db") as db:
                assert db.execute("DELETE FROM spent WHERE nonce = ?", (nonce,)).rowcount == 1
        else:
            with redis.Redis.from_url(str(self.redis_url)) as r:
                assert r.delete(f"{{jobs-mcp}}:spent:{nonce}") == 1


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not on PATH (Debian: apt-get install redis-server); Redis backend not tested")
    server = RedisServer(exe, tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture(params=BACKENDS)
async def env(request: pytest.FixtureRequest, tmp_path: Path, anyio_backend: str) -> AsyncIterator[Env]:
    url = request.getfixturevalue("redis_server").url if request.param == "redis" else None
    made = Env(tmp_path, request.param, url)
    yield made
    await made.store.aclose()


def link(result: Any) -> tuple[str, str, str]:
    """(page URL without the query, nonce, secret) of a proposal's approval_url."""
    parts = urlsplit(result.structured_content["approval_url"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["s"][0]


async def propose(client: Client, tool: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)
    return result


def other_job(record: dict[str, Any]) -> None:
    """Point the request at another job, and recompute its digest as anyone who read the code could."""
    record["request"]["path"] = record["request"]["path"].replace(HEALTHY_EXPORT_ID, FACEBOOK_EXPORT_ID)
    record["digest"] = canonical_digest(record["request"])


def hashed(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def test_an_edited_request_is_refused_by_id_and_on_the_page(env: Env) -> None:
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        page_url, nonce, secret = link(result)
        record = await env.stored(nonce)
        other_job(record)
        await env.write(nonce, record)
        cid = result.structured_content["confirmation_id"]
        by_id = await client.call_tool("confirm_action", {"confirmation_id": cid})
        assert by_id.is_error and SIGNATURE in text_of(by_id) and "Nothing was sent" in text_of(by_id)
        on_page = await http.post(page_url, data={"s": secret, "decision": "approve"})
        assert on_page.status_code == 404 and SIGNATURE in on_page.text
        shown = await http.get(page_url, params={"s": secret})
        assert shown.status_code == 404 and FACEBOOK_EXPORT_ID not in shown.text
    assert env.writes() == 0
    refusals = env.refusals()
    assert len(refusals) == 3 and {r["channel"] for r in refusals} == {"id", "page"}
    assert all(FACEBOOK_EXPORT_ID in r["request"]["url"] for r in refusals)  # the edit is on record


async def test_an_edited_page_secret_is_refused(env: Env) -> None:
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        page_url, nonce, _ = link(result)
        record = await env.stored(nonce)
        record["page_secret"] = hashed("the-attackers-own-secret")
        await env.write(nonce, record)
        done = await http.post(page_url, data={"s": "the-attackers-own-secret", "decision": "approve"})
        assert done.status_code == 404 and SIGNATURE in done.text
    assert env.writes() == 0
    assert [r["channel"] for r in env.refusals()] == ["page"]


async def test_a_forged_record_is_refused(env: Env) -> None:
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        page_url, nonce, secret = link(result)
        forged = await env.stored(nonce)  # a genuine record as a template, moved to a nonce of the forger's
        other_job(forged)
        forged |= {"page_secret": hashed("forged"), "channel": "page", "seal": "0" * 64}
        await env.write("0123456789ab", forged)
        done = await http.post(page_url.replace(nonce, "0123456789ab"), data={"s": "forged", "decision": "approve"})
        assert done.status_code == 404 and SIGNATURE in done.text
        await env.write("ba9876543210", await env.stored(nonce))  # a genuine record under another nonce
        done = await http.post(page_url.replace(nonce, "ba9876543210"), data={"s": secret, "decision": "approve"})
        assert done.status_code == 404 and SIGNATURE in done.text
        listed = await client.call_tool("list_pending_actions", {})
        handles = [a["confirmation_id"] for a in listed.structured_content["actions"]]  # type: ignore[index]
        assert handles == [ConfirmationId.parse(result.structured_content["confirmation_id"]).handle]
    assert env.writes() == 0
    assert env.refusals() and all(r["outcome"]["status"] == "refused" for r in env.refusals())


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda r: r.update(channel="id"), id="channel"),  # a page-only kill made confirmable by id
        pytest.param(lambda r: r.update(principal="mallory"), id="principal"),
        pytest.param(lambda r: r.update(expires=r["expires"] + 86400), id="expiry"),
    ],
)
async def test_an_edited_principal_channel_or_expiry_is_refused(
    env: Env, edit: Callable[[dict[str, Any]], None]
) -> None:
    async with Client(env.server) as client:
        result = await propose(client, "lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        assert result.structured_content["confirmation_id"] is None  # high risk: the page only, no id
        _, nonce, _ = link(result)
        record = await env.stored(nonce)
        edit(record)
        await env.write(nonce, record)
        # Whoever reads the store reads the full id in the record, and the job ID to type back.
        by_id = await client.call_tool(
            "confirm_action", {"confirmation_id": record["id"], "typed_job_id": HEALTHY_EXPORT_ID}
        )
        assert by_id.is_error and SIGNATURE in text_of(by_id), text_of(by_id)
    assert env.writes() == 0
    assert [r["channel"] for r in env.refusals()] == ["id"]


async def test_a_deleted_spent_mark_does_not_allow_a_replay(env: Env) -> None:
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        by_id = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        on_page = await propose(client, "lytics_update_job", {"job_id": FACEBOOK_EXPORT_ID, "description": "x"})
        cid = by_id.structured_content["confirmation_id"]
        page_url, page_nonce, secret = link(on_page)
        kept = {n: await env.stored(n) for n in (ConfirmationId.parse(cid).nonce, page_nonce)}
        assert not (await client.call_tool("confirm_action", {"confirmation_id": cid})).is_error
        assert (await http.post(page_url, data={"s": secret, "decision": "approve"})).status_code == 200
        assert env.writes() == 2
        for nonce, genuine in kept.items():  # as if never spent: the genuine, signed records are back
            env.forget_spent(nonce)
            await env.write(nonce, genuine)
        again = await client.call_tool("confirm_action", {"confirmation_id": cid})
        assert again.is_error and "already decided" in text_of(again) and "audit log" in text_of(again)
        page_again = await http.post(page_url, data={"s": secret, "decision": "approve"})
        assert page_again.status_code == 409 and "audit log" in page_again.text
    assert env.writes() == 2
    refusals = env.refusals()
    assert {r["channel"] for r in refusals} == {"id", "page"} and len(refusals) == 2


OLD_AUDIT = """
CREATE TABLE audit (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('intent', 'outcome')),
    action TEXT NOT NULL,
    account TEXT NOT NULL,
    tool TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT
);
CREATE INDEX audit_action ON audit (action);
INSERT INTO audit (at, phase, action, account, tool, request, result) VALUES
    ('2026-01-01T00:00:00.000+00:00', 'intent', 'a1', 'acme', 'lytics_pause_job', '{"method": "POST"}', NULL),
    ('2026-01-01T00:00:01.000+00:00', 'outcome', 'a1', 'acme', 'lytics_pause_job', '{"method": "POST"}',
     '{"status": "executed"}');
"""


def test_an_audit_log_from_before_refusals_takes_them_and_keeps_its_rows(tmp_path: Path) -> None:
    from jobs_mcp.audit import AuditLog

    path = tmp_path / "audit.db"
    with sqlite3.connect(path) as db:
        db.executescript(OLD_AUDIT)
    log = AuditLog(path)
    log.refusal("a2", "acme", "lytics_pause_job", {"method": "POST"}, "forged", principal="local", channel="id")
    log.intent("a3", "acme", "lytics_pause_job", {"method": "POST"})
    rows = log.recent()
    assert [(r["action"], r["kind"]) for r in rows] == [("a3", "write"), ("a2", "refusal"), ("a1", "write")]
    assert rows[1]["outcome"] == {"status": "refused", "reason": "forged"}
    assert rows[2]["outcome"]["status"] == "executed"
    assert rows[2]["principal"] == "local" and [r["phase"] for r in log.history("a1")] == ["intent", "outcome"]
    log.close()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT max(seq) FROM audit").fetchone()[0] == 4  # numbering goes on where it was


# --- a used id tells what happened to it ---------------------------------------------------------------------


async def confirm(client: Client, cid: str) -> str:
    result = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert result.is_error
    return text_of(result)


async def test_a_used_id_says_what_happened_and_when(env: Env) -> None:
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        sent = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        on_page = await propose(client, "lytics_update_job", {"job_id": FACEBOOK_EXPORT_ID, "description": "p"})
        declined = await propose(client, "lytics_update_job", {"job_id": FACEBOOK_EXPORT_ID, "description": "d"})
        cancelled = await propose(client, "lytics_update_job", {"job_id": FACEBOOK_EXPORT_ID, "description": "c"})
        proposals = {"sent": sent, "on_page": on_page, "declined": declined, "cancelled": cancelled}
        ids = {name: r.structured_content["confirmation_id"] for name, r in proposals.items()}
        assert not (await client.call_tool("confirm_action", {"confirmation_id": ids["sent"]})).is_error
        page_url, _, secret = link(on_page)
        assert (await http.post(page_url, data={"s": secret, "decision": "approve"})).status_code == 200
        page_url, _, secret = link(declined)
        assert (await http.post(page_url, data={"s": secret, "decision": "decline"})).status_code == 200
        assert not (await client.call_tool("cancel_action", {"confirmation_id": ids["cancelled"]})).is_error
        assert env.writes() == 2
        said = {name: await confirm(client, cid) for name, cid in ids.items()}
    assert "approved with confirm_action, sent at" in said["sent"] and "it was executed" in said["sent"]
    assert "approved on the approval page, sent at" in said["on_page"] and "lytics_get_job" in said["on_page"]
    assert "declined this proposal on the approval page at" in said["declined"]
    assert "cancelled at" in said["cancelled"]
    for name in ("sent", "on_page"):  # what ran is never offered again
        assert "Do not propose it again" in said[name] and "Propose the action again" not in said[name]
    assert env.writes() == 2


@pytest.mark.parametrize("backend", [pytest.param("redis", marks=pytest.mark.slow)])
async def test_after_redis_lost_its_data_an_id_that_ran_says_so(
    backend: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    env = Env(tmp_path, backend, redis_server.url)
    async with Client(env.server) as client:
        sent = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        cid = sent.structured_content["confirmation_id"]
        assert not (await client.call_tool("confirm_action", {"confirmation_id": cid})).is_error
        with redis.Redis.from_url(redis_server.url) as r:
            r.flushall()
        said = await confirm(client, cid)
        assert "already used" in said and "it was executed" in said and "Do not propose it again" in said
        never_sent = await propose(client, "lytics_update_job", {"job_id": FACEBOOK_EXPORT_ID, "description": "x"})
        with redis.Redis.from_url(redis_server.url) as r:
            r.flushall()
        lost = await confirm(client, never_sent.structured_content["confirmation_id"])
        assert "may already have run" in lost and "check before proposing it again" in lost
    await env.store.aclose()
    assert env.writes() == 1


async def test_an_expired_id_says_when(env: Env) -> None:
    async with Client(env.server) as client:
        proposal = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        gate = env.runtime.gate
        real = gate.clock
        gate.clock = lambda: real() + gate.ttl + 1
        said = await confirm(client, proposal.structured_content["confirmation_id"])
    assert "expired unused at" in said and "nothing was sent" in said
    assert env.writes() == 0
