"""Property tests of the gate.

The state machine: over random sequences of propose / confirm / cancel / tamper / replay / expire / change the
job behind it — and of a model trying to approve by itself (confirming listed handles, confirming a permanent
action, answering a question with something that is not a yes) — no write reaches the simulator without a
person's approval through a channel its risk tier allows, and every approved write reaches it exactly once.

Then: every changed path of any update appears in its proposal; a create whose answer is lost never makes two
jobs and is never called failed when it landed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import anyio
import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from mcp import Client
from mcp.types import ElicitResult

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID, PAUSED_JOB_ID, STALE_JOB_ID
from jobs_mcp.sandbox import SandboxTransport
from support import Sandbox, text_of

JOBS = [HEALTHY_EXPORT_ID, STALE_JOB_ID, PAUSED_JOB_ID]
ACTIONS = ["pause", "resume", "bounce", "release"]


ANSWERS = {  # what a client hands back when the server asks its user
    "yes": ElicitResult(action="accept", content={"approve": True}),
    "no": ElicitResult(action="accept", content={"approve": False}),
    "text yes": ElicitResult(action="accept", content={"approve": "yes"}),  # not a person's yes
    "decline": ElicitResult(action="decline"),
}


@contextmanager
def connected(sandbox: Sandbox, **client: Any) -> Iterator[tuple[BlockingPortal, Client]]:
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(Client(sandbox.server, **client)) as connection,
    ):
        yield portal, connection


class GateMachine(RuleBasedStateMachine):
    proposals = Bundle("proposals")
    spent = Bundle("spent")

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox()
        self._ctx = connected(self.sandbox)
        self.portal, self.client = self._ctx.__enter__()
        self.answer = "yes"

        async def person(_context: Any, _params: Any) -> ElicitResult:
            return ANSWERS[self.answer]

        self._asking = connected(self.sandbox, mode="legacy", elicitation_callback=person)
        self.asking_portal, self.asking = self._asking.__enter__()
        self.expected_writes = 0  # writes the gate was allowed to send
        self.behind_writes = 0  # writes made directly, behind the gate's back
        self.expired: set[str] = set()

    def teardown(self) -> None:
        self._asking.__exit__(None, None, None)
        self._ctx.__exit__(None, None, None)

    def call(self, tool: str, arguments: dict[str, Any]) -> Any:
        return self.portal.call(self.client.call_tool, tool, arguments)

    def gate_writes(self) -> int:
        return self.sandbox.hits("POST") + self.sandbox.hits("PUT") - self.behind_writes

    @rule(target=proposals, job=st.sampled_from(JOBS), action=st.sampled_from(ACTIONS))
    def propose(self, job: str, action: str) -> str:
        result = self.call(f"lytics_{action}_job", {"job_id": job})
        if result.is_error:  # a transition the job's status does not allow: refused up front
            return "refused"
        assert result.structured_content["status"] == "proposed"
        return str(result.structured_content["confirmation_id"])

    @rule(target=spent, cid=consumes(proposals))
    def confirm(self, cid: str) -> str:
        if cid == "refused":
            return cid
        result = self.call("confirm_action", {"confirmation_id": cid})
        if cid in self.expired:
            assert result.is_error and "expired" in result.content[0].text
            return cid
        if result.is_error:  # the job moved and the action no longer applies (e.g. resume a running job)
            assert "nothing was sent" in result.content[0].text, result.content[0].text
            return cid
        status = result.structured_content["status"]
        assert status in ("executed", "failed", "stale")
        if status != "stale":
            self.expected_writes += 1
        return cid

    @rule(cid=consumes(proposals))
    def cancel(self, cid: str) -> None:
        if cid == "refused" or cid in self.expired:
            return
        result = self.call("cancel_action", {"confirmation_id": cid})
        assert result.structured_content["status"] == "cancelled"

    @rule(cid=proposals, how=st.sampled_from(["sig", "verb", "account"]))
    def tamper(self, cid: str, how: str) -> None:
        if cid == "refused":
            return
        forged = {
            "sig": cid[:-2] + ("AA" if not cid.endswith("AA") else "BB"),
            "verb": "kill:" + cid.split(":", 1)[1],
            "account": cid.replace("/sandbox/", "/acme/"),
        }[how]
        result = self.call("confirm_action", {"confirmation_id": forged, "typed_job_id": cid.split("/")[2][:8]})
        assert result.is_error

    @rule(cid=spent)
    def replay(self, cid: str) -> None:
        if cid == "refused":
            return
        result = self.call("confirm_action", {"confirmation_id": cid})
        assert result.is_error

    @rule()
    def expire_everything(self) -> None:
        gate = self.sandbox.runtime.gate
        pending = self.portal.call(gate.store.all)
        self.expired |= {p["id"] for p in pending}
        shift = gate.ttl + 1
        previous = gate.clock
        gate.clock = lambda: previous() + shift

    @rule(job=st.sampled_from(JOBS), text=st.text(alphabet="abc xyz", min_size=1, max_size=12))
    def change_job_behind_the_gate(self, job: str, text: str) -> None:
        async def put() -> None:
            async with httpx.AsyncClient(
                transport=SandboxTransport(self.sandbox.app),
                base_url="http://lytics.sandbox",
                headers={"Authorization": "sandbox-token"},
            ) as http:
                current = (await http.get(f"/v2/job/{job}")).json()["data"]
                body = {k: current[k] for k in ("name", "config", "auth_ids") if current.get(k) is not None}
                await http.put(
                    f"/v2/job/{current['workflow'].replace('_', '-')}/{job}", json=body | {"description": text}
                )

        self.portal.call(put)
        self.behind_writes += 1

    @rule(job=st.sampled_from(JOBS), action=st.sampled_from(ACTIONS), answer=st.sampled_from(sorted(ANSWERS)))
    def propose_to_a_client_that_asks(self, job: str, action: str, answer: str) -> None:
        """Channel 1: the person is asked; no confirmation id is ever issued; only a real yes sends."""
        self.answer = answer
        result = self.asking_portal.call(self.asking.call_tool, f"lytics_{action}_job", {"job_id": job})
        assert "confirmation_id:" not in text_of(result)
        if result.is_error:
            return
        assert result.structured_content["confirmation_id"] is None
        status = result.structured_content["status"]
        if status == "executed":
            assert answer == "yes"
            self.expected_writes += 1
        else:
            assert status in ("declined", "stale", "failed")

    @rule(job=st.sampled_from(JOBS))
    def the_model_tries_to_kill_by_itself(self, job: str) -> None:
        """High risk on a client that cannot ask: a link for the person, never an id the model could confirm."""
        result = self.call("lytics_kill_job", {"job_id": job})
        if not result.is_error:
            assert result.structured_content["confirmation_id"] is None
            assert result.structured_content["approval_url"]

    @rule()
    def the_model_confirms_what_it_can_list(self) -> None:
        listed = self.call("list_pending_actions", {})
        for action in listed.structured_content["actions"]:
            result = self.call("confirm_action", {"confirmation_id": action["confirmation_id"]})
            assert result.is_error, "a listed handle must not confirm"

    @invariant()
    def only_confirmed_writes_reach_the_platform(self) -> None:
        assert self.gate_writes() == self.expected_writes


GateMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestGate = GateMachine.TestCase


def _paths(value: Any, prefix: str) -> dict[str, Any]:
    """Leaf key paths of nested objects (the test's own walk, independent of the gate's)."""
    if isinstance(value, dict) and value:
        return {p: v for k, sub in value.items() for p, v in _paths(sub, f"{prefix}.{k}").items()}
    return {prefix: value}


KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10)
LEAVES = st.one_of(st.integers(), st.booleans(), st.text(max_size=300), st.lists(st.integers(), max_size=3))
CONFIGS = st.dictionaries(
    KEYS, st.recursive(LEAVES, lambda inner: st.dictionaries(KEYS, inner, max_size=4)), max_size=6
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=CONFIGS)
def test_every_changed_path_appears_in_the_proposal(config: dict[str, Any]) -> None:
    async def propose() -> tuple[dict[str, Any], dict[str, Any], Any]:
        sandbox = Sandbox()
        async with Client(sandbox.server) as client:
            job = (await client.call_tool("lytics_get_job", {"job_id": HEALTHY_EXPORT_ID})).structured_content
            before = job["job"]["config"]  # type: ignore[index]
            # the workflow's free-form object field (mailchimp_sync's merge_fields) holds any nesting
            sent = {k: v for k, v in before.items() if k != "merge_fields"} | {"merge_fields": config}
            return (
                before,
                sent,
                await client.call_tool("lytics_update_job", {"job_id": HEALTHY_EXPORT_ID, "config": sent}),
            )

    before, sent, result = anyio.run(propose)
    old, new = _paths(before, "config"), _paths(sent, "config")
    changed = {p for p in old.keys() | new.keys() if old.get(p, _MISSING) != new.get(p, _MISSING)}
    if not changed:
        assert result.is_error and "Nothing to change" in result.content[0].text
        return
    text = result.content[0].text
    shown = {c["field"] for c in result.structured_content["changes"]}
    for path in changed:  # every path, however many and however long the values
        assert any(path == f or path.startswith(f + ".") or f.startswith(path + ".") for f in shown), path
    lines = text.splitlines()
    for field in shown:  # and each shown on its own line of the text the person reads
        assert any(line.startswith(f"  {field}: ") or line == f"  {field}:" for line in lines), field


_MISSING = object()


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.text(alphabet="abcdefghij XYZ-", min_size=1, max_size=20).map(str.strip).filter(bool),
    fault=st.sampled_from(["after", "before", "500 after", "none"]),
)
def test_a_lost_create_never_makes_two_jobs_and_is_never_failed_when_it_landed(name: str, fault: str) -> None:
    async def create() -> tuple[Any, int]:
        sandbox = Sandbox()
        async with Client(sandbox.server) as client:
            arguments = {"name": name, "workflow": "webhook_triggers", "config": {"webhook_url": "https://x.test"}}
            proposal = await client.call_tool("lytics_create_job", arguments)
            if fault in ("after", "before"):
                sandbox.faults.add("POST", "/v2/job/*", drop=fault, times=1)
            elif fault == "500 after":
                sandbox.faults.add("POST", "/v2/job/*", status=500, times=1)
            done = await client.call_tool(
                "confirm_action", {"confirmation_id": proposal.structured_content["confirmation_id"]}
            )
            listed = await client.call_tool("lytics_list_jobs", {"workflow": "webhook_triggers", "show_all": True})
        names = [j["name"] for j in listed.structured_content["jobs"]]
        return done, names.count(name)

    done, made = anyio.run(create)
    assert made <= 1, "never two jobs"
    status = done.structured_content["status"]
    if made == 1:
        assert status == "executed", "a create that landed is never reported as failed or unknown"
    else:
        assert status in ("unknown", "failed") and "safe to propose it again" not in done.content[0].text
