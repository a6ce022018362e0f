"""Approval channel 2: the page the server serves itself. A client that cannot ask the person gets a link (or,
with URL-mode elicitation, the person gets it out of the model's sight); the page shows the whole proposal and
approves it exactly once; replays, wrong secrets, declines and wrong codes send nothing. Also in a real browser."""

from __future__ import annotations

import html
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import ElicitResult, Implementation

from jobs_mcp import registry, write_tools
from jobs_mcp.app import build_server
from jobs_mcp.config import Settings, sandbox_account
from jobs_mcp.page_html import CSP
from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID
from jobs_mcp.runtime import Runtime
from jobs_mcp.sandbox import FaultInjector
from support import (
    BIN,
    FAST,
    PASSPHRASE,
    child_env,
    enroll_passphrase,
    free_port,
    needs_executable,
    needs_module,
    text_of,
    wait_http,
)

pytestmark = pytest.mark.anyio
HOSTILE = '<script>alert("x")</script> & <b>bold</b>'
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


class Env:
    """The Lytics simulator and a server wired to it, all state under tmp_path."""

    def __init__(self, tmp_path: Path, **settings: Any) -> None:
        self.faults = FaultInjector()
        app = registry.provider("lytics").simulator(faults=self.faults)
        self.settings = Settings(
            accounts=(sandbox_account("lytics"),), audit_db=str(tmp_path / "audit.db"), state="memory", **settings
        )
        self.runtime = Runtime(self.settings, policy=FAST, sandbox_apps={"lytics": app})
        self.server = build_server(self.settings, self.runtime)

    def writes(self) -> int:
        return self.faults.hits(method="POST") + self.faults.hits(method="PUT")


def link(result: Any) -> tuple[str, str, str]:
    """(page URL without the query, nonce, secret) of a proposal's approval_url."""
    url = result.structured_content["approval_url"]
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}", parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["s"][0]


async def propose(client: Client, tool: str, args: dict[str, Any]) -> Any:
    result = await client.call_tool(tool, args)
    assert not result.is_error, text_of(result)
    return result


async def test_page_shows_the_whole_proposal_escaped(tmp_path: Path) -> None:
    env = Env(tmp_path)
    config = {"list_id": "l-42", "segment_id": "seg-42", "merge_fields": {"deep": {"threshold": 7}, "note": HOSTILE}}
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(
            client, "lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "name": HOSTILE, "config": config}
        )
        page_url, _, secret = link(result)
        page = await http.get(page_url, params={"s": secret})
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP and "unsafe" not in CSP
    assert "<script" not in page.text  # no proof needed for an update: no script on the page
    assert page.headers["referrer-policy"] == "no-referrer" and page.headers["cache-control"] == "no-store"
    text = page.text
    assert "<script" not in text.lower() and "<b>bold" not in text  # the hostile name is shown as text only
    assert html.escape("<script>alert(") in text.replace("&quot;", '"')
    changes = result.structured_content["changes"]
    assert len(changes) >= 3
    for change in changes:  # every changed path
        assert html.escape(change["field"]) in text
    request = result.structured_content["request"]
    assert request["method"] in text and html.escape(request["url"]) in text
    body = json.dumps(request["body"], indent=2, sort_keys=True, ensure_ascii=True)
    assert html.escape(body) in text  # the full body, pretty-printed
    assert 'value="approve"' in text and 'value="decline"' in text and 'method="post"' in text
    assert env.settings.accounts[0].token.get_secret_value() not in text
    assert env.writes() == 0


async def test_approve_executes_once_and_replay_sends_nothing(tmp_path: Path) -> None:
    env = Env(tmp_path)
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        assert "Open to approve: http://localhost:" in text_of(result)
        assert "lytics_get_job" in result.structured_content["next_step"]
        assert result.structured_content["confirmation_id"]  # low risk, no elicitation: the id too (channel 3)
        page_url, _, secret = link(result)
        done = await http.post(page_url, data={"s": secret, "decision": "approve"})
        assert done.status_code == 200 and "Done" in done.text and "paused" in done.text
        assert env.writes() == 1
        again = await http.post(page_url, data={"s": secret, "decision": "approve"})
        assert again.status_code == 409 and "already decided" in again.text
        shown = await http.get(page_url, params={"s": secret})
        assert shown.status_code == 409
        pending = await client.call_tool("list_pending_actions", {})
        assert pending.structured_content["actions"] == []  # decided: no longer listed
        confirm = await client.call_tool(
            "confirm_action", {"confirmation_id": result.structured_content["confirmation_id"]}
        )
        assert confirm.is_error
    assert env.writes() == 1
    audit = env.runtime.gate.audit.recent()[0]
    assert audit["channel"] == "page" and audit["outcome"]["status"] == "executed"


async def test_wrong_secret_decline_and_unknown_send_nothing(tmp_path: Path) -> None:
    env = Env(tmp_path)
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        page_url, nonce, secret = link(result)
        for wrong in ("", secret[:-1] + ("A" if secret[-1] != "A" else "B")):
            assert (await http.get(page_url, params={"s": wrong})).status_code == 403
            refused = await http.post(page_url, data={"s": wrong, "decision": "approve"})
            assert refused.status_code == 403 and "not valid" in refused.text
        unknown = await http.get(page_url.replace(nonce, "0" * len(nonce)), params={"s": secret})
        assert unknown.status_code == 404
        declined = await http.post(page_url, data={"s": secret, "decision": "decline"})
        assert declined.status_code == 200 and "Declined" in declined.text
        after = await http.post(page_url, data={"s": secret, "decision": "approve"})
        assert after.status_code == 409
        pending = await client.call_tool("list_pending_actions", {})
        assert pending.structured_content["actions"] == []
    assert env.writes() == 0


async def test_expired_proposal_sends_nothing(tmp_path: Path) -> None:
    env = Env(tmp_path)
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        page_url, _, secret = link(result)
        gate = env.runtime.gate
        now = gate.clock()
        gate.clock = lambda: now + 3600
        expired = await http.post(page_url, data={"s": secret, "decision": "approve"})
    assert expired.status_code in (404, 409) and "expired" in expired.text
    assert env.writes() == 0


async def test_stale_target_is_not_sent(tmp_path: Path) -> None:
    env = Env(tmp_path)
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        first = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        second = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        other_url, _, other_secret = link(second)
        await http.post(other_url, data={"s": other_secret, "decision": "approve"})  # the job is paused now
        assert env.writes() == 1
        page_url, _, secret = link(first)
        stale = await http.post(page_url, data={"s": secret, "decision": "approve"})
    assert stale.status_code == 200 and "Not sent: the target changed" in stale.text
    assert env.writes() == 1


async def test_kill_without_an_approver_is_refused_with_the_command_to_enroll(tmp_path: Path) -> None:
    env = Env(tmp_path)
    async with Client(env.server) as client:
        result = await client.call_tool("lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        assert result.is_error and "Nothing was proposed" in text_of(result)
        assert "jobs-mcp approver enroll" in text_of(result) and "jobs-mcp approver passphrase" in text_of(result)
        pending = await client.call_tool("list_pending_actions", {})
        assert pending.structured_content["actions"] == []
    assert env.writes() == 0


async def test_kill_needs_the_approver_passphrase_on_the_page(tmp_path: Path) -> None:
    env = Env(tmp_path)
    enroll_passphrase(tmp_path / "approvers.json")
    async with Client(env.server) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        assert result.structured_content["confirmation_id"] is None  # high risk, no elicitation: the page only
        assert "confirmation_id" not in text_of(result) and "confirm_action" not in text_of(result)
        page_url, _, secret = link(result)
        page = await http.get(page_url, params={"s": secret})
        assert 'name="passphrase"' in page.text and 'class="code"' not in page.text
        for attempt in ({}, {"passphrase": "not-the-passphrase"}, {"code": "ABCDEF"}):
            refused = await http.post(page_url, data={"s": secret, "decision": "approve", **attempt})
            assert refused.status_code == 403 and "Nothing was sent" in refused.text
        assert env.writes() == 0
        done = await http.post(page_url, data={"s": secret, "decision": "approve", "passphrase": PASSPHRASE})
        assert done.status_code == 200 and "Done" in done.text
    assert env.writes() == 1
    rows = env.runtime.gate.audit.recent()
    assert rows[0]["channel"] == "page" and rows[0]["proof"] == "passphrase"
    assert sum(1 for row in rows if row["outcome"] and row["outcome"].get("status") == "refused") == 3


async def test_url_mode_client_gets_the_link_out_of_the_models_sight(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = Env(tmp_path)
    monkeypatch.setattr(write_tools, "client_can_elicit", lambda _ctx: False)  # a client declaring URL mode only
    enroll_passphrase(tmp_path / "approvers.json")
    urls: list[str] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        urls.append(params.url)
        return ElicitResult(action="accept")

    async with Client(env.server, mode="legacy", elicitation_callback=person) as client, httpx.AsyncClient() as h:
        result = await propose(client, "lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        data, text = result.structured_content, text_of(result)
        assert data["confirmation_id"] is None and data["approval_url"] is None
        assert "approve/" not in text and "localhost" not in text
        assert "asked the person to approve on the approval page" in text.lower()
        assert len(urls) == 1 and urls[0].startswith("http://localhost:")
        parts = urlsplit(urls[0])
        page_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        secret = parse_qs(parts.query)["s"][0]
        done = await h.post(page_url, data={"s": secret, "decision": "approve", "passphrase": PASSPHRASE})
        assert "Done" in done.text
    assert env.writes() == 1


async def test_page_is_served_on_the_servers_own_http_origin(tmp_path: Path) -> None:
    env = Env(tmp_path)
    app = env.server.streamable_http_app()
    async with Client(env.server) as client:
        result = await propose(client, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        _, nonce, secret = link(result)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8000") as http:
            page = await http.get(f"/approve/{nonce}", params={"s": secret})
            assert page.status_code == 200 and "Pause job" in page.text
            done = await http.post(f"/approve/{nonce}", data={"s": secret, "decision": "approve"})
            assert "Done" in done.text
    assert env.writes() == 1


async def test_approval_page_off_keeps_the_old_behaviour(tmp_path: Path) -> None:
    env = Env(tmp_path, approval_page="off")
    async with Client(env.server) as client:
        result = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        assert result.structured_content["approval_url"] is None and result.structured_content["confirmation_id"]
        enroll_passphrase(tmp_path / "approvers.json")  # enrolled or not: without a page, no way to prove a person
        kill = await client.call_tool("lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        assert kill.is_error and "Nothing was proposed" in text_of(kill)


@pytest.mark.slow
async def test_real_browser_approves_on_the_page(tmp_path: Path) -> None:
    needs_executable("chromium", "Debian: apt-get install chromium", path=CHROMIUM)
    playwright = needs_module("playwright.async_api", "pip install -e '.[dev]'")
    env = Env(tmp_path)
    config = {"list_id": "l-42", "segment_id": "seg-42", "merge_fields": {"deep": {"threshold": 7}}}
    async with Client(env.server) as client, playwright.async_playwright() as pw:
        update = await propose(
            client, "lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "name": HOSTILE, "config": config}
        )
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 900})
            dialogs: list[str] = []
            page.on("dialog", lambda d: dialogs.append(d.message))
            await page.goto(update.structured_content["approval_url"])
            await page.screenshot(path=str(tmp_path / "proposal.png"), full_page=True)
            assert json.dumps(HOSTILE) in await page.inner_text("table")  # the new name, as text, never run
            await page.click("button.approve")
            await page.wait_for_selector(".outcome")
            assert await page.inner_text(".outcome") == "Done"
            await page.screenshot(path=str(tmp_path / "outcome.png"), full_page=True)

            assert dialogs == []
        finally:
            await browser.close()
    assert env.writes() == 1


@pytest.mark.slow
async def test_serve_http_links_to_its_own_origin(tmp_path: Path) -> None:
    port = free_port()
    env = child_env(XDG_STATE_HOME=str(tmp_path / "state"))
    enroll_passphrase(tmp_path / "approvers.json")
    args = [str(BIN), "serve", "--http", "--port", str(port), "--state", "memory", "--audit-db", str(tmp_path / "a.db")]
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/healthz", proc)
        async with Client(streamable_http_client(f"http://127.0.0.1:{port}/mcp")) as client:
            result = await propose(client, "lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
            url = result.structured_content["approval_url"]
            assert url.startswith(f"http://localhost:{port}/approve/")
            assert result.structured_content["confirmation_id"] is None
            async with httpx.AsyncClient() as http:
                page = await http.get(url)
                assert page.status_code == 200 and "Kill job" in page.text
                wrong = await http.post(url.split("?")[0], data={"s": "nope", "decision": "approve"})
                assert wrong.status_code == 403
    finally:
        proc.terminate()
        proc.wait(timeout=10)


ALICE = "alice-page-token-7c2e9a41d05b"
BOB = "bob-page-token-3f81b6d2e94a"


@pytest.mark.slow
async def test_page_behind_auth_needs_the_proposals_own_principal(tmp_path: Path) -> None:
    """Over `serve --http --auth-tokens`, the page asks the person to sign in with their access token (a browser
    cannot send the bearer header), keeps only a signed cookie, and lets only the proposal's principal decide."""
    import httpx2

    tokens = tmp_path / "tokens"
    tokens.write_text(f"alice {ALICE}\nbob {BOB}\n")
    tokens.chmod(0o600)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    args = [str(BIN), "serve", "--http", "--port", str(port), "--state", "memory", "--auth-tokens", str(tokens)]
    args += ["--audit-db", str(tmp_path / "a.db")]
    err = (tmp_path / "server.err").open("wb")
    proc = subprocess.Popen(args, env=child_env(XDG_STATE_HOME=str(tmp_path / "state")), stdout=err, stderr=err)
    seen: list[str] = []  # every response (body, headers) the browser side got

    def keep(response: httpx.Response) -> httpx.Response:
        seen.append(response.text + repr(response.headers.multi_items()))
        return response

    try:
        wait_http(base + "/healthz", proc)
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {ALICE}"}, timeout=30) as mcp_http,
            Client(streamable_http_client(base + "/mcp", http_client=mcp_http)) as alice_mcp,
        ):
            result = await propose(alice_mcp, "lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
            page_url, nonce, secret = link(result)
            base = base.replace("127.0.0.1", "localhost")  # the page is linked by name (passkeys need a host name)
            assert page_url == f"{base}/approve/{nonce}"
            sign_in = f"{page_url}/sign-in"

            async def still_pending() -> bool:
                listed = await alice_mcp.call_tool("list_pending_actions", {})
                return nonce in text_of(listed)

            async with httpx.AsyncClient(timeout=30) as anon, httpx.AsyncClient(timeout=30) as bob:
                # Not signed in: a sign-in form, no proposal detail, and no decision taken.
                shown = keep(await anon.get(page_url, params={"s": secret}))
                assert shown.status_code == 200 and 'type="password"' in shown.text
                assert "Pause job" not in shown.text and 'value="approve"' not in shown.text
                assert HEALTHY_EXPORT_ID not in shown.text and "<script" not in shown.text.lower()
                assert f'action="/approve/{nonce}/sign-in?s={secret}"' in shown.text
                assert shown.headers["content-security-policy"] == CSP
                refused = keep(await anon.post(page_url, data={"s": secret, "decision": "approve"}))
                assert refused.status_code == 403 and "Sign in first" in refused.text
                # A wrong token, a valid token on a wrong link, a cross-site form: no session.
                wrong = keep(await anon.post(sign_in, params={"s": secret}, data={"token": ALICE + "x"}))
                assert wrong.status_code == 403 and "not valid" in wrong.text and "set-cookie" not in wrong.headers
                bad_link = keep(await anon.post(sign_in, params={"s": "nope"}, data={"token": ALICE}))
                assert bad_link.status_code == 403 and "set-cookie" not in bad_link.headers
                forged = {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
                cross = keep(await anon.post(sign_in, params={"s": secret}, data={"token": ALICE}, headers=forged))
                assert cross.status_code == 403 and "set-cookie" not in cross.headers
                assert not anon.cookies

                # Bob's own (valid) token signs him in, but the proposal is Alice's.
                signed = keep(await bob.post(sign_in, params={"s": secret}, data={"token": BOB}))
                assert signed.status_code == 303 and signed.headers["location"] == f"/approve/{nonce}?s={secret}"
                cookie = signed.headers["set-cookie"]
                assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower()
                assert "path=/approve" in cookie.lower() and "secure" not in cookie.lower()  # plain http here
                value = bob.cookies["jobs_mcp_page"]
                assert value.startswith("bob:") and BOB not in value
                other = keep(await bob.get(page_url, params={"s": secret}))
                assert other.status_code == 403 and "signed in as bob" in other.text
                assert "Pause job" not in other.text and 'value="approve"' not in other.text
                for decision in ("approve", "decline"):
                    no = keep(await bob.post(page_url, data={"s": secret, "decision": decision}))
                    assert no.status_code == 403 and "Nothing was sent" in no.text
                # A cookie edited to name Alice is not a session.
                bob.cookies.set("jobs_mcp_page", "alice:" + value.split(":", 1)[1], domain="localhost", path="/approve")
                edited = keep(await bob.post(page_url, data={"s": secret, "decision": "approve"}))
                assert edited.status_code == 403
                assert await still_pending()

            async with httpx.AsyncClient(timeout=30) as alice:
                mine = keep(await alice.post(sign_in, params={"s": secret}, data={"token": ALICE}))
                assert mine.status_code == 303 and alice.cookies["jobs_mcp_page"].startswith("alice:")
                page = keep(await alice.get(page_url, params={"s": secret}))
                assert page.status_code == 200 and "Pause job" in page.text and 'value="approve"' in page.text
                same_site = {"Origin": base, "Sec-Fetch-Site": "same-origin"}
                cross = keep(
                    await alice.post(
                        page_url, data={"s": secret, "decision": "approve"}, headers={"Origin": "https://evil.example"}
                    )
                )
                assert cross.status_code == 403 and await still_pending()
                done = keep(await alice.post(page_url, data={"s": secret, "decision": "approve"}, headers=same_site))
                assert done.status_code == 200 and "Done" in done.text
                again = keep(await alice.post(page_url, data={"s": secret, "decision": "approve"}, headers=same_site))
                assert again.status_code == 409
            assert not await still_pending()
            job = await alice_mcp.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})
            assert "paused" in text_of(job)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        err.close()
    for text in seen:
        assert ALICE not in text and BOB not in text
    logged = (tmp_path / "server.err").read_text()
    assert ALICE not in logged and BOB not in logged


# A webhook URL too long for a question a person reads in their client, its difference at the very end.
HUGE_URL = (
    "https://hooks.example.com/notify?"
    + "&".join(f"k{i}=v{i}" for i in range(500))
    + "&forward_to=https://attacker.example/exfil"
)


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_question_too_long_to_read_goes_to_the_page_by_url_on_both_eras(tmp_path: Path, mode: str) -> None:
    """The mcp client declares URL-mode elicitation. A proposal too long for a question goes to the page, whose
    link reaches the client's URL handler on either protocol era (2026-07-28: a URL input request of the
    InputRequiredResult; 2025-11-25: elicitation/create) and appears nowhere the model reads. The page shows the
    value whole and approves it once."""
    env = Env(tmp_path)
    seen: list[Any] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action="accept")

    args = {"name": "Hook", "workflow": "webhook_triggers", "config": {"webhook_url": HUGE_URL}}
    async with Client(env.server, mode=mode, elicitation_callback=person) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_create_job", args)
        assert len(seen) == 1 and seen[0].mode == "url", seen
        url = seen[0].url
        parts = urlsplit(url)
        nonce, secret = parts.path.rsplit("/", 1)[1], parse_qs(parts.query)["s"][0]
        model_reads = text_of(result) + json.dumps(result.structured_content)
        assert secret not in model_reads and nonce not in model_reads and "/approve/" not in model_reads
        assert result.structured_content["confirmation_id"] is None  # type: ignore[index]
        assert "asked the person to approve on the approval page" in text_of(result).lower()
        page = await http.get(url)
        assert page.status_code == 200 and "forward_to=https://attacker.example/exfil" in html.unescape(page.text)
        done = await http.post(
            f"{parts.scheme}://{parts.netloc}{parts.path}", data={"s": secret, "decision": "approve"}
        )
        assert "Done" in done.text, done.text
    assert env.writes() == 1


@pytest.mark.parametrize("mode", ["auto", "legacy"])
async def test_a_link_the_person_would_not_open_leaves_nothing_to_approve(tmp_path: Path, mode: str) -> None:
    env = Env(tmp_path)
    urls: list[str] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        urls.append(params.url)
        return ElicitResult(action="decline")

    args = {"name": "Hook", "workflow": "webhook_triggers", "config": {"webhook_url": HUGE_URL}}
    async with Client(env.server, mode=mode, elicitation_callback=person) as client, httpx.AsyncClient() as http:
        result = await propose(client, "lytics_create_job", args)
        assert result.structured_content["status"] == "declined", text_of(result)  # type: ignore[index]
        page = await http.get(urls[0])
        assert "already decided" in page.text
        listed = await client.call_tool("list_pending_actions", {})
    assert listed.structured_content["actions"] == [] and env.writes() == 0  # type: ignore[index]


async def test_a_client_known_to_misdeclare_url_mode_is_asked_with_the_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A client on the declared list of those that claim URL mode but do not show the link is asked with a form
    question instead (the whole question, however long), never sent a URL it would drop."""
    monkeypatch.setitem(write_tools.URL_MODE_MISDECLARED, "drops-urls", "declares url, shows nothing (test entry)")
    env = Env(tmp_path)
    seen: list[Any] = []

    async def person(_context: Any, params: Any) -> ElicitResult:
        seen.append(params)
        return ElicitResult(action="decline")

    args = {"name": "Hook", "workflow": "webhook_triggers", "config": {"webhook_url": HUGE_URL}}
    info = Implementation(name="Drops-URLs", version="1.0")
    async with Client(env.server, elicitation_callback=person, client_info=info) as client:
        result = await propose(client, "lytics_create_job", args)
    assert [p.mode for p in seen] == ["form"] and HUGE_URL in seen[0].message
    assert result.structured_content["status"] == "declined" and env.writes() == 0  # type: ignore[index]
