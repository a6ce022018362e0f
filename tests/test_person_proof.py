"""Proof of a person: a model that sees every tool result and can open any link and post any form (a model with
a shell) gets no high-risk action sent; a person with their passkey or approver passphrase approves it on the page.

The passkey tests use Debian's chromium with a Chrome DevTools Protocol virtual authenticator (user verification
on), enrolled through `jobs-mcp approver enroll` itself; the passphrase commands run in a pseudo-terminal.
"""

from __future__ import annotations

import html
import json
import os
import pty
import re
import subprocess
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from mcp import Client

from cases import Cases, all_cases
from jobs_mcp import registry
from jobs_mcp.approvers import ApproverFile
from jobs_mcp.providers.lytics.simulator.seed import FAILED_JOB_ID, HEALTHY_EXPORT_ID
from support import BIN, PASSPHRASE, Sandbox, child_env, enroll_passphrase, needs_executable, text_of

pytestmark = pytest.mark.anyio
CASES = all_cases()
HIGH = [
    (c, tool, args)
    for c in CASES
    for tool, args in c.writes.items()
    if next(o for o in registry.provider(c.provider).operations() if o.name == tool).write.risk.level == "high"  # type: ignore[union-attr]
]
URL = re.compile(r"https?://[^\s\"'<>)]+")
ID = re.compile(r"[a-z_]{1,20}:[a-z]{1,20}/[A-Za-z0-9_-]{1,40}/[A-Za-z0-9_-]{1,40}:[0-9a-f]{12}[A-Za-z0-9_.-]*")
FORM = re.compile(r"<form[^>]*action=\"([^\"]+)\"[^>]*>(.*?)</form>", re.S)
INPUT = re.compile(r"<input[^>]*>")
ATTRIBUTE = re.compile(r"(\w+)=\"([^\"]*)\"")


def _writes(sandbox: Sandbox) -> int:
    checks = sandbox.hits("POST", "*/validate_query")
    return sum(sandbox.hits(m) for m in ("POST", "PUT", "PATCH", "DELETE")) - checks


def _everything_seen(result: Any) -> str:
    return text_of(result) + "\n" + json.dumps(result.structured_content)


async def _model_with_a_shell(client: Client, http: httpx.AsyncClient, seen: str) -> None:
    """What an agent with curl does on its own: open every link it was shown, post every form back with every
    value the page gave it (and guesses where it gave none), and confirm every id-like string with every target."""
    pages = set(URL.findall(seen))
    for url in sorted(pages):
        try:
            page = await http.get(html.unescape(url))
        except httpx.HTTPError:  # e.g. the request's own URL on a simulated platform host
            continue
        base = f"{urlsplit(url).scheme}://{urlsplit(url).netloc}"
        for action, inner in FORM.findall(page.text):
            tags = [dict(ATTRIBUTE.findall(tag)) for tag in INPUT.findall(inner)]
            fields = {t["name"]: html.unescape(t.get("value", "")) for t in tags if "name" in t}
            for guess in ({}, {"passphrase": "password"}, {"code": "AAAAAA"}, {"assertion": '{"rawId": "x"}'}):
                await http.post(base + html.unescape(action), data={**fields, "decision": "approve", **guess})
    for candidate in set(ID.findall(seen)):
        for typed in (None, *re.findall(r"\"id\": \"([^\"]+)\"", seen)):
            args = {"confirmation_id": candidate} | ({"typed_job_id": typed} if typed else {})
            await client.call_tool("confirm_action", args)


@pytest.mark.parametrize(("cases", "tool", "args"), HIGH, ids=[t for _, t, _ in HIGH])
async def test_a_model_with_a_shell_cannot_approve_a_high_risk_action(
    cases: Cases, tool: str, args: dict[str, Any]
) -> None:
    sandbox = Sandbox(provider=cases.provider)  # a client without elicitation: the page is the way
    async with Client(sandbox.server) as client, httpx.AsyncClient(timeout=30) as http:
        refused = await client.call_tool(tool, args)  # no approver yet: nothing proposed, and how to enroll
        assert refused.is_error and "jobs-mcp approver enroll" in text_of(refused)
        await _model_with_a_shell(client, http, _everything_seen(refused))

        enroll_passphrase(sandbox.dir / "approvers.json")
        proposal = await client.call_tool(tool, args)
        assert not proposal.is_error, text_of(proposal)
        seen = _everything_seen(proposal)
        assert PASSPHRASE not in seen and proposal.structured_content["confirmation_id"] is None  # type: ignore[index]
        await _model_with_a_shell(client, http, seen)
        assert _writes(sandbox) == 0, f"{tool} was sent without a person"

        # The person, with the passphrase, approves it in a few seconds.
        url = proposal.structured_content["approval_url"]  # type: ignore[index]
        parts = urlsplit(url)
        secret = parts.query.removeprefix("s=")
        page_url = f"{parts.scheme}://{parts.netloc}{parts.path}"
        done = await http.post(page_url, data={"s": secret, "decision": "approve", "passphrase": PASSPHRASE})
        assert done.status_code == 200 and "Done" in done.text, done.text
    assert _writes(sandbox) >= 1
    rows = sandbox.runtime.gate.audit.recent(50)
    executed = [r for r in rows if r["outcome"] and r["outcome"].get("status") == "executed"]
    assert len(executed) == 1 and executed[0]["proof"] == "passphrase" and executed[0]["channel"] == "page"
    assert any(r["kind"] == "refusal" for r in rows), rows  # the model's tries


async def test_an_account_can_ask_for_proof_from_a_lower_tier() -> None:
    sandbox = Sandbox(provider="lytics")
    runtime = sandbox.runtime
    runtime.gate.people.tier = "low"  # as --person-proof low: every write on this server needs a person's proof
    async with Client(sandbox.server) as client:
        pause = await client.call_tool("lytics_pause_job", {"job_id": HEALTHY_EXPORT_ID})
        assert pause.is_error and "jobs-mcp approver enroll" in text_of(pause)
    assert _writes(sandbox) == 0


async def test_wrong_passphrases_are_rate_limited() -> None:
    sandbox = Sandbox(provider="lytics")
    enroll_passphrase(sandbox.dir / "approvers.json")
    async with Client(sandbox.server) as client, httpx.AsyncClient(timeout=30) as http:
        proposal = await client.call_tool("lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        url = urlsplit(proposal.structured_content["approval_url"])  # type: ignore[index]
        page_url, secret = f"{url.scheme}://{url.netloc}{url.path}", url.query.removeprefix("s=")
        answers = [
            await http.post(page_url, data={"s": secret, "decision": "approve", "passphrase": f"guess-{n}"})
            for n in range(7)
        ]
        assert [a.status_code for a in answers] == [403] * 7
        assert "Too many passphrase attempts" in answers[-1].text
        right = await http.post(page_url, data={"s": secret, "decision": "approve", "passphrase": PASSPHRASE})
        assert "Too many" in right.text  # even the right one waits out the minute
    assert _writes(sandbox) == 0


# --- the approver commands, in a terminal ----------------------------------------------------------------------


def _in_a_terminal(args: list[str], lines: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run a command with a pseudo-terminal as its stdin (as a person at a terminal would), typing ``lines``."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(args, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    os.close(slave)
    for line in lines:
        time.sleep(0.3)  # after the prompt
        os.write(master, line.encode() + b"\n")
    out, _ = proc.communicate(timeout=60)
    os.close(master)
    return proc.returncode, out.decode()


@pytest.mark.slow
def test_passphrase_is_set_from_a_terminal_and_changed_only_with_the_old_one(tmp_path: Path) -> None:
    file = tmp_path / "approvers.json"
    command = [str(BIN), "approver", "passphrase", "--approvers", str(file)]
    env = child_env(XDG_STATE_HOME=str(tmp_path / "state"))
    piped = subprocess.run(command, input=b"a passphrase long enough\n" * 2, capture_output=True, env=env)
    assert piped.returncode == 2 and b"terminal" in piped.stderr and not file.exists()
    code, out = _in_a_terminal(command, ["short", "short"], env)
    assert code == 2 and "at least 12" in out and not file.exists()
    code, out = _in_a_terminal(command, [PASSPHRASE, PASSPHRASE], env)
    assert code == 0 and "set for local" in out, out
    assert PASSPHRASE not in out and PASSPHRASE not in file.read_text()
    assert file.stat().st_mode & 0o777 == 0o600
    code, out = _in_a_terminal(command, ["not the old one", "x" * 20, "x" * 20], env)
    assert code == 2 and "not the approver passphrase" in out
    assert ApproverFile(file).get("local").check_passphrase(PASSPHRASE)
    code, out = _in_a_terminal(command, [PASSPHRASE, "a brand new passphrase", "a brand new passphrase"], env)
    assert code == 0 and "changed" in out
    assert ApproverFile(file).get("local").check_passphrase("a brand new passphrase")
    status = subprocess.run([*command[:2], "status", "--approvers", str(file)], capture_output=True, text=True, env=env)
    assert "local: 0 passkey(s), passphrase set" in status.stdout


# --- passkeys in a real browser ---------------------------------------------------------------------------------


async def _authenticator(page: Any, verified: bool = True) -> tuple[Any, str]:
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    added = await cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": verified,
                "automaticPresenceSimulation": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def _enroll_command(file: Path, env: dict[str, str], *extra: str) -> tuple[subprocess.Popen[bytes], str, int]:
    master, slave = pty.openpty()
    command = [str(BIN), "approver", "enroll", "--no-browser", "--approvers", str(file), "--label", "laptop", *extra]
    proc = subprocess.Popen(command, stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    os.close(slave)
    assert proc.stdout is not None
    line = proc.stdout.readline().decode()
    found = re.search(r"open (http://localhost:\d+/approver/\S+) in your browser", line)
    assert found, line
    return proc, found.group(1), master


@pytest.mark.slow
async def test_passkey_enroll_approve_and_decline_in_a_real_browser(tmp_path: Path) -> None:
    chromium = needs_executable("chromium", "Debian: apt-get install chromium", path="/usr/bin/chromium")
    playwright = pytest.importorskip("playwright.async_api", reason="playwright (dev extra) is not installed")
    from test_approval_page import CHROMIUM_ARGS

    file = tmp_path / "approvers.json"
    env = child_env(XDG_STATE_HOME=str(tmp_path / "state"))
    async with playwright.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1000, "height": 900})
            cdp, authenticator = await _authenticator(page)

            # Enroll through the command itself: its loopback page makes the passkey.
            proc, url, master = _enroll_command(file, env)
            await page.goto(url)
            await page.screenshot(path=str(tmp_path / "enroll.png"), full_page=True)
            await page.click("button[data-passkey]")
            await page.wait_for_selector("text=Done")
            out, _ = proc.communicate(timeout=30)
            os.close(master)
            assert proc.returncode == 0 and b"enrolled for approver local" in out, out
            keys = ApproverFile(file).get("local").passkeys
            assert len(keys) == 1 and keys[0].rp_id == "localhost" and keys[0].label == "laptop"

            # A second passkey needs the first: the page asks for it before making the new one, and a form posted
            # without it (as a script would) changes nothing.
            proc, url, master = _enroll_command(file, env, "--label", "phone")
            await page.goto(url)
            assert await page.get_attribute("button[data-passkey]", "data-get")
            async with httpx.AsyncClient(timeout=30) as http:
                forged = await http.post(url, data={"assertion": "", "attestation": "{}"})
            assert forged.status_code == 403 and "Nothing was changed" in forged.text
            proc.kill()
            proc.communicate(timeout=30)
            os.close(master)
            assert len(ApproverFile(file).get("local").passkeys) == 1

            sandbox = Sandbox(provider="lytics")
            file.rename(sandbox.dir / "approvers.json")
            async with Client(sandbox.server) as client:
                kill = await client.call_tool("lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
                assert not kill.is_error, text_of(kill)
                await page.goto(kill.structured_content["approval_url"])  # type: ignore[index]
                await page.screenshot(path=str(tmp_path / "kill.png"), full_page=True)
                assert await page.locator("input[name=passphrase]").count() == 0  # no passphrase enrolled
                # Without user verification the authenticator cannot approve: nothing is sent.
                await cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": False})
                await page.click("button[data-passkey]")
                await page.wait_for_selector("#passkey-status:has-text('not used')")
                assert _writes(sandbox) == 0
                await cdp.send("WebAuthn.setUserVerified", {"authenticatorId": authenticator, "isUserVerified": True})
                await page.click("button[data-passkey]")
                await page.wait_for_selector(".outcome")
                assert await page.inner_text(".outcome") == "Done"
                assert _writes(sandbox) == 1

                other = await client.call_tool("lytics_kill_job", {"job_id": FAILED_JOB_ID})
                assert not other.is_error, text_of(other)
                await page.goto(other.structured_content["approval_url"])  # type: ignore[index]
                await page.click("button.decline")
                await page.wait_for_selector(".outcome")
                assert "Declined" in await page.inner_text(".outcome")
            assert _writes(sandbox) == 1
            row = sandbox.runtime.gate.audit.recent(10)
            executed = [r for r in row if r["outcome"] and r["outcome"].get("status") == "executed"]
            assert executed[0]["proof"] == "passkey:laptop"
        finally:
            await browser.close()


async def test_a_passkey_of_another_host_is_neither_offered_nor_accepted() -> None:
    """A passkey enrolled for another server's host (its relying party id) cannot approve here, even with an
    answer that names it; the page offers only the passphrase."""
    from jobs_mcp.approvers import Approver, Passkey

    sandbox = Sandbox(provider="lytics")
    other = Passkey(id="b3RoZXI", public_key="cHVi", rp_id="jobs.example.com", label="elsewhere", added="2026-12-01")
    file = ApproverFile(sandbox.dir / "approvers.json")
    file.update("local", Approver(passkeys=[other]))
    async with Client(sandbox.server) as client, httpx.AsyncClient(timeout=30) as http:
        proposal = await client.call_tool("lytics_kill_job", {"job_id": HEALTHY_EXPORT_ID})
        assert not proposal.is_error, text_of(proposal)
        url = urlsplit(proposal.structured_content["approval_url"])  # type: ignore[index]
        page_url, secret = f"{url.scheme}://{url.netloc}{url.path}", url.query.removeprefix("s=")
        page = await http.get(page_url, params={"s": secret})
        assert "data-get" not in page.text and "No way to prove it" in page.text
        forged = json.dumps({"id": other.id, "rawId": other.id, "type": "public-key", "response": {}})
        refused = await http.post(page_url, data={"s": secret, "decision": "approve", "assertion": forged})
        assert refused.status_code == 403 and "not enrolled as an approver for localhost" in refused.text
    assert _writes(sandbox) == 0
