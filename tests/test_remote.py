"""`jobs-mcp serve --http` as a real subprocess: bearer auth, principals, Host/Origin checks, rate limit, probes,
and a 2025-era client asked to approve through elicitation over HTTP (sessions)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from support import BIN, CANARY, child_env, free_port, text_of, wait_http

pytestmark = [pytest.mark.anyio, pytest.mark.slow]  # every test starts `jobs-mcp serve` as a subprocess

ALICE = "alice-token-5b1e0c9d7a3f42e8"
BOB = "bob-token-91d4f6a2c8e07b35"
INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def tokens_file(tmp_path: Path) -> Path:
    import hashlib

    path = tmp_path / "tokens"
    bob_hash = hashlib.sha256(BOB.encode()).hexdigest()
    path.write_text(f"# principal token\nalice {ALICE}\nbob sha256:{bob_hash}  # held hashed\n")
    path.chmod(0o600)
    return path


@contextmanager
def served(tmp_path: Path, *args: str, host: str = "127.0.0.1", **env: str) -> Iterator[str]:
    """A `jobs-mcp serve --http` subprocess; yields its base URL. Its stderr is kept in tmp_path/server.err."""
    port = free_port()
    err = (tmp_path / "server.err").open("ab")
    command = [str(BIN), "serve", "--http", "--host", host, "--port", str(port)]
    command += ["--audit-db", str(tmp_path / "audit.db"), *args]
    proc = subprocess.Popen(command, env=child_env(**env), stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://{host}:{port}"
    try:
        wait_http(base + "/healthz", proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        err.close()


@asynccontextmanager
async def mcp_client(base: str, token: str | None = None, **kwargs: Any) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=30) as http,
        Client(streamable_http_client(base + "/mcp", http_client=http), **kwargs) as client,
    ):
        yield client


def post_init(base: str, **headers: str) -> httpx.Response:
    return httpx.post(base + "/mcp", json=INIT, headers={**MCP_HEADERS, **headers}, timeout=10)


async def test_bearer_tokens(tmp_path: Path) -> None:
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path))) as base:
        missing = post_init(base)
        wrong = post_init(base, Authorization=f"Bearer {ALICE}x")
        hashed_given_as_token = post_init(base, Authorization=f"Bearer sha256:{'0' * 64}")
        right = post_init(base, Authorization=f"Bearer {ALICE}")
        for name, token in (("alice", ALICE), ("bob", BOB)):
            async with mcp_client(base, token) as client:
                listed = await client.call_tool("list_pending_actions", {})
            assert not listed.is_error, (name, text_of(listed))
    assert (missing.status_code, wrong.status_code, hashed_given_as_token.status_code) == (401, 401, 401)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    assert right.status_code == 200 and right.headers.get("mcp-session-id")  # sessions by default
    logged = (tmp_path / "server.err").read_text()
    assert ALICE not in logged and BOB not in logged


async def test_a_principal_cannot_see_or_confirm_anothers_proposal(tmp_path: Path) -> None:
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), "--confirm", "token") as base:
        async with mcp_client(base, ALICE) as alice:
            proposal = await alice.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
            async with mcp_client(base, BOB) as bob:
                bob_list = await bob.call_tool("list_pending_actions", {})
                bob_confirm = await bob.call_tool("confirm_action", {"confirmation_id": cid})
                bob_cancel = await bob.call_tool("cancel_action", {"confirmation_id": cid})
            alice_list = await alice.call_tool("list_pending_actions", {})
            done = await alice.call_tool("confirm_action", {"confirmation_id": cid})
    prefix = cid.rsplit(".", 2)[0]
    assert prefix not in text_of(bob_list) and bob_list.structured_content["actions"] == []  # type: ignore[index]
    assert bob_confirm.is_error and bob_cancel.is_error
    assert prefix in text_of(alice_list)
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]


async def test_unauthenticated_local_sessions_are_separate_principals(tmp_path: Path) -> None:
    """Without tokens (loopback), each MCP session is its own principal: one local client cannot confirm what
    another proposed."""
    with served(tmp_path, "--confirm", "token") as base:
        async with mcp_client(base, mode="legacy") as first, mcp_client(base, mode="legacy") as second:
            proposal = await first.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
            other_list = await second.call_tool("list_pending_actions", {})
            other_confirm = await second.call_tool("confirm_action", {"confirmation_id": cid})
            done = await first.call_tool("confirm_action", {"confirmation_id": cid})
    assert other_list.structured_content["actions"] == []  # type: ignore[index]
    assert other_confirm.is_error
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]


@pytest.mark.parametrize(("flags", "said"), [((), "a request without one"), (("--stateless",), "each request is")])
async def test_requests_without_a_token_or_session_are_principals_of_their_own(
    tmp_path: Path, flags: tuple[str, ...], said: str
) -> None:
    """Without tokens, a request that has no session (every request to --stateless; every 2026-07-28 request) names
    no client, so it is a principal of its own: no other request lists or confirms what it proposed, it gets no
    confirmation id (none could ever be confirmed), and the server says so at start."""
    with served(tmp_path, *flags) as base:
        async with mcp_client(base) as first, mcp_client(base) as second:
            proposal = await first.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            other_list = await second.call_tool("list_pending_actions", {})
            own_list = await first.call_tool("list_pending_actions", {})
        async with mcp_client(base, mode="legacy") as legacy:
            legacy_list = await legacy.call_tool("list_pending_actions", {})
    assert proposal.structured_content["status"] == "proposed", text_of(proposal)  # type: ignore[index]
    assert proposal.structured_content["confirmation_id"] is None  # type: ignore[index]
    assert proposal.structured_content["approval_url"]  # type: ignore[index]
    assert "list_pending_actions" not in text_of(proposal)  # it would list nothing for this caller
    for listed in (other_list, own_list, legacy_list):
        assert listed.structured_content["actions"] == [], text_of(listed)  # type: ignore[index]
    assert (
        f"principals: {'no tokens and no sessions, so ' if flags else 'each MCP session; '}"
        in (tmp_path / "server.err").read_text()
    )
    assert said in (tmp_path / "server.err").read_text()


async def test_a_client_that_names_no_principal_gets_no_confirmation_id(tmp_path: Path) -> None:
    """Under --confirm token, a request with no token and no session would get an id nobody could confirm:
    nothing is proposed, and the answer says how to give the client a principal."""
    with served(tmp_path, "--stateless", "--confirm", "token") as base:
        async with mcp_client(base) as client:
            result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
    assert result.is_error and "--auth-tokens" in text_of(result), text_of(result)
    assert "confirmation_id" not in str(result.structured_content)


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_non_loopback_without_auth_refuses_to_start(tmp_path: Path, host: str) -> None:
    run = subprocess.run(
        [str(BIN), "serve", "--http", "--host", host, "--port", str(free_port())],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 2
    assert "not a loopback address" in run.stderr and "--auth-tokens" in run.stderr
    assert "JOBS_MCP_AUTH_TOKENS" in run.stderr


def test_a_bad_tokens_file_is_refused_without_echoing_the_token(tmp_path: Path) -> None:
    bad = tmp_path / "tokens"
    bad.write_text(f"alice {CANARY}\nbob short\n")
    run = subprocess.run(
        [str(BIN), "serve", "--http", "--port", str(free_port()), "--auth-tokens", str(bad)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "line 2" in run.stderr and "shorter than 16" in run.stderr
    assert "short" not in run.stderr.replace("shorter", "") and CANARY not in run.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2"])
def test_foreign_origin_and_host_are_refused_on_every_loopback_address(tmp_path: Path, host: str) -> None:
    with served(tmp_path, host=host) as base:
        own = post_init(base)
        own_origin = post_init(base, Origin=base)
        foreign_origin = post_init(base, Origin="http://evil.example")
        foreign_host = post_init(base, Host="evil.example")
        rebinding = post_init(base, Host="evil.example:80", Origin="http://evil.example")
    assert own.status_code == 200 and own_origin.status_code == 200
    assert foreign_origin.status_code == 403
    assert foreign_host.status_code == 421 and rebinding.status_code in (403, 421)


def test_named_host_behind_auth(tmp_path: Path) -> None:
    args = ["--auth-tokens", str(tokens_file(tmp_path)), "--allowed-host", "mcp.example.com"]
    with served(tmp_path, *args, "--allowed-origin", "https://app.example.com") as base:
        auth = {"Authorization": f"Bearer {ALICE}"}
        named = post_init(base, Host="mcp.example.com", Origin="https://app.example.com", **auth)
        other = post_init(base, Host="other.example.com", **auth)
        foreign_origin = post_init(base, Host="mcp.example.com", Origin="https://evil.example", **auth)
    assert (named.status_code, other.status_code, foreign_origin.status_code) == (200, 421, 403)


def test_rate_limit_per_principal(tmp_path: Path) -> None:
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), "--rate-limit", "3") as base:
        alice = [post_init(base, Authorization=f"Bearer {ALICE}") for _ in range(4)]
        bob = post_init(base, Authorization=f"Bearer {BOB}")
        health = httpx.get(base + "/healthz")
    assert [r.status_code for r in alice] == [200, 200, 200, 429]
    limited = alice[-1]
    assert 1 <= int(limited.headers["retry-after"]) <= 61
    body = limited.json()
    assert body["error"] == "rate_limited" and "--rate-limit" in body["error_description"]
    assert bob.status_code == 200 and health.status_code == 200  # per principal; probes are not limited


def test_body_size_limit(tmp_path: Path) -> None:
    with served(tmp_path, "--max-body-size", "4096") as base:
        big = {**INIT, "params": {**INIT["params"], "padding": "x" * 8192}}  # type: ignore[dict-item]
        refused = httpx.post(base + "/mcp", json=big, headers=MCP_HEADERS)
    assert refused.status_code == 413


def test_healthz_and_readyz(tmp_path: Path) -> None:
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path))) as base:
        health = httpx.get(base + "/healthz")
        ready = httpx.get(base + "/readyz")
    assert health.status_code == 200 and health.json()["status"] == "ok"  # no token needed
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"state": "ok", "platforms": "ok"}

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with served(tmp_path, LYTICS_API_URL=dead, LYTICS_API_TOKEN=CANARY) as base:
        unready = httpx.get(base + "/readyz")
    assert unready.status_code == 503
    assert unready.json()["status"] == "unavailable"
    assert unready.json()["checks"]["platforms"] == "unreachable: 1 of 1 accounts"
    # Components only: no path, address or account name for whoever can reach the port.
    for secret in (CANARY, str(tmp_path), "default", dead):
        assert secret not in unready.text


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/approve"])
def test_every_route_checks_host_like_the_mcp_endpoint(path: str, tmp_path: Path) -> None:
    with served(tmp_path) as base:
        forged = httpx.get(base + path, headers={"Host": "evil.example"})
        foreign = httpx.get(base + path, headers={"Origin": "http://evil.example"})
        own = httpx.get(base + path)
    assert forged.status_code == 421 and foreign.status_code == 403
    assert own.status_code != 421


def answering(action: str, content: dict[str, Any] | None = None) -> Any:
    asked: list[str] = []

    async def callback(_context: Any, params: Any) -> ElicitResult:
        asked.append(params.message)
        return ElicitResult(action=action, content=content)  # type: ignore[arg-type]

    callback.asked = asked  # type: ignore[attr-defined]
    return callback


def posts(sandbox_url: str) -> int:
    hits: int = httpx.get(f"{sandbox_url}/_sandbox/hits", params={"method": "POST"}).json()["hits"]
    return hits


@pytest.mark.parametrize("mode", ["legacy", "auto"])
async def test_elicitation_over_http(tmp_path: Path, sandbox_http: str, mode: str) -> None:
    """With sessions (the default), a 2025-era client is asked through elicitation over HTTP; so is a modern one
    (through Resolve's input-required round). Accept executes once; decline sends nothing."""
    env = {"LYTICS_API_URL": sandbox_http, "LYTICS_API_TOKEN": CANARY}
    with served(tmp_path, "--auth-tokens", str(tokens_file(tmp_path)), **env) as base:
        httpx.post(f"{sandbox_http}/_sandbox/hits/reset")
        yes = answering("accept", {"approve": True})
        async with mcp_client(base, ALICE, mode=mode, elicitation_callback=yes) as client:
            accepted = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        after_accept = posts(sandbox_http)
        no = answering("decline")
        async with mcp_client(base, ALICE, mode=mode, elicitation_callback=no) as client:
            declined = await client.call_tool("lytics_resume_job", {"job_id": HEALTHY_EXPORT_ID})
        after_decline = posts(sandbox_http)
    assert accepted.structured_content["status"] == "executed", text_of(accepted)  # type: ignore[index]
    assert yes.asked and "Pause job" in yes.asked[0]
    assert after_accept == 1
    assert declined.structured_content["status"] == "declined", text_of(declined)  # type: ignore[index]
    assert no.asked and after_decline == 1  # nothing more was sent
    assert CANARY not in (tmp_path / "server.err").read_text()


async def test_stateless_legacy_clients_fall_back_to_confirmation_ids(tmp_path: Path) -> None:
    """Without sessions there is no channel to ask a 2025-era client on: the proposal carries a confirmation id
    instead (its token names the principal that confirms it), and the server said so at start-up."""
    with served(tmp_path, "--stateless", "--auth-tokens", str(tokens_file(tmp_path))) as base:
        asked = answering("accept", {"approve": True})
        async with mcp_client(base, ALICE, mode="legacy", elicitation_callback=asked) as client:
            proposal = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            cid = proposal.structured_content["confirmation_id"]  # type: ignore[index]
            done = await client.call_tool("confirm_action", {"confirmation_id": cid})
    assert proposal.structured_content["status"] == "proposed" and not asked.asked  # type: ignore[index]
    assert done.structured_content["status"] == "executed", text_of(done)  # type: ignore[index]
    assert "fall back to confirmation ids" in (tmp_path / "server.err").read_text()


def test_redis_state_without_a_gate_key_refuses_to_start(tmp_path: Path) -> None:
    run = subprocess.run(
        [str(BIN), "serve", "--http", "--port", str(free_port()), "--state", "redis://127.0.0.1:1/0"],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert run.returncode == 2 and "JOBS_MCP_GATE_KEY" in run.stderr


@pytest.mark.parametrize("flags", [(), ("--stateless",)])
async def test_a_url_round_over_http_on_the_2026_protocol(tmp_path: Path, flags: tuple[str, ...]) -> None:
    """Over real HTTP on 2026-07-28 (no session; with --stateless and no tokens each request is its own
    principal), a proposal too long for a question goes to the page as a URL request of the InputRequiredResult:
    the link, on the server's own origin, reaches the client's URL handler and nowhere the model reads; the
    person approves on the page, once."""
    import json
    from urllib.parse import parse_qs, urlsplit

    huge = "https://hooks.example.com/n?" + "&".join(f"k{i}=v{i}" for i in range(500)) + "&forward_to=https://x.example"
    seen: list[Any] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action="accept")

    args = {"name": "Hook", "workflow": "webhook_triggers", "config": {"webhook_url": huge}}
    with served(tmp_path, *flags) as base:
        async with mcp_client(base, elicitation_callback=person) as client:
            result = await client.call_tool("lytics_create_job", args)
        page = base.replace("127.0.0.1", "localhost")  # linked by name: passkeys need a host name
        assert [p.mode for p in seen] == ["url"] and seen[0].url.startswith(f"{page}/approve/"), seen
        parts = urlsplit(seen[0].url)
        secret = parse_qs(parts.query)["s"][0]
        model_reads = text_of(result) + json.dumps(result.structured_content)
        assert secret not in model_reads and "/approve/" not in model_reads, model_reads
        assert result.structured_content["status"] == "proposed", text_of(result)  # type: ignore[index]
        done = httpx.post(f"{base}{parts.path}", data={"s": secret, "decision": "approve"}, timeout=30)
        again = httpx.post(f"{base}{parts.path}", data={"s": secret, "decision": "approve"}, timeout=30)
    assert done.status_code == 200 and "Done" in done.text, done.text
    assert "already decided" in again.text
