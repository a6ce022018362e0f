"""Property test of the gate: over random sequences of propose / confirm / cancel / tamper / replay /
expire / change-the-job-behind-it, no write reaches the simulator without a valid, unspent, matching
confirmation, and every executed confirmation reaches it exactly once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule
from mcp import Client

from jobs_mcp.providers.lytics.simulator import HEALTHY_EXPORT_ID, PAUSED_JOB_ID, STALE_JOB_ID
from jobs_mcp.sandbox import SandboxTransport
from support import Sandbox

JOBS = [HEALTHY_EXPORT_ID, STALE_JOB_ID, PAUSED_JOB_ID]
ACTIONS = ["pause", "resume", "bounce", "release"]


@contextmanager
def connected(sandbox: Sandbox) -> Iterator[tuple[BlockingPortal, Client]]:
    with start_blocking_portal() as portal, portal.wrap_async_context_manager(Client(sandbox.server)) as client:
        yield portal, client


class GateMachine(RuleBasedStateMachine):
    proposals = Bundle("proposals")
    spent = Bundle("spent")

    def __init__(self) -> None:
        super().__init__()
        self.sandbox = Sandbox()
        self._ctx = connected(self.sandbox)
        self.portal, self.client = self._ctx.__enter__()
        self.expected_writes = 0  # writes the gate was allowed to send
        self.behind_writes = 0  # writes made directly, behind the gate's back
        self.expired: set[str] = set()

    def teardown(self) -> None:
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

    @invariant()
    def only_confirmed_writes_reach_the_platform(self) -> None:
        assert self.gate_writes() == self.expected_writes


GateMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestGate = GateMachine.TestCase
