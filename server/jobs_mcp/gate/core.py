"""The confirmation gate: nothing changes on a platform until a person has said yes to the exact request.

``propose`` validates, reads the target as it is now and returns a proposal (summary, changes, the exact
request, risk, a signed single-use confirmation id) while sending nothing. ``confirm`` checks the id, re-reads
the target, and only when nothing moved sends exactly the proposed request, with an audit record before and
after. A target that changed gets a fresh proposal instead; a create whose answer was lost is checked, never
retried. See references/confirmation-gate.md for the contract in prose.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver.exceptions import ToolError

from jobs_mcp.confirmation import ConfirmationId, ConfirmationRefused, canonical_digest, nonce_of
from jobs_mcp.errors import ApiError
from jobs_mcp.gate.draft import Draft, _follow_up, _spec, _version
from jobs_mcp.gate.messages import _CHANNEL_WORDS, EXPIRED, UNKNOWN_ID
from jobs_mcp.gate.proof import ProofRules
from jobs_mcp.gate.results import ActionResult, PendingList, PlannedRequest
from jobs_mcp.operations import Change, Operation, OperationInput
from jobs_mcp.person_proof import Proven
from jobs_mcp.state import Record

if TYPE_CHECKING:
    from jobs_mcp.http import ApiClient


log = logging.getLogger(__name__)

LOOKUPS, LOOKUP_PAUSE = 3, 0.5  # looking for a write whose answer was lost: how often, how far apart (s)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class Gate(ProofRules):
    """Proposes, confirms and executes writes; its pending records are kept by ``SealedRecords``, and which
    approvals need a person's proof is ``ProofRules``'."""

    def register(self, op: Operation[Any, Any]) -> None:
        self._ops[op.name] = op

    # --- propose -----------------------------------------------------------------------------------------

    async def current_target(
        self, op: Operation[Any, Any], args: OperationInput, api: ApiClient
    ) -> dict[str, Any] | None:
        spec = _spec(op)
        if spec.target is None and spec.read_target is None:
            return None
        try:
            if spec.read_target is not None:
                return await spec.read_target(api, args)
            assert spec.target is not None
            data = await api.request(
                "GET", spec.target.path_for(args), params=spec.target.params_for(args, api.provider.query)
            )
        except ApiError as exc:
            if exc.status == 404:
                raise ApiError(op.explain_not_found(args), status=404) from None
            raise
        return data if isinstance(data, dict) else {"value": data}

    async def draft(
        self, op: Operation[Any, Any], args: OperationInput, api: ApiClient, principal: str = "local"
    ) -> Draft:
        """Read the target as it is now and work out the exact request; sends nothing."""
        refuse_read_only(api)
        drafted = self.draft_for(op, args, api, await self.current_target(op, args, api))
        return replace(drafted, principal=principal)

    def draft_for(
        self, op: Operation[Any, Any], args: OperationInput, api: ApiClient, target: dict[str, Any] | None
    ) -> Draft:
        """The exact request against a target already read (refused when the action does not apply to it)."""
        spec = _spec(op)
        if spec.refuse is not None and (reason := spec.refuse(args, target)):
            raise ToolError(reason)
        plan = spec.plan(args, target)
        endpoint = op.endpoint
        assert endpoint is not None, f"{op.name} has no endpoint"
        request = {
            "method": endpoint.method,
            "path": plan.path or endpoint.path_for(args),
            "params": endpoint.params_for(args, api.provider.query),
            "body": plan.body,
            "headers": plan.headers or {},
        }
        return Draft(op, args, api, target, plan, request)

    def _record(self, d: Draft, action_id: str, expires: int, channel: str) -> Record:
        return {
            "id": action_id,
            "tool": d.op.name,
            "account": d.api.account.name,
            "target_id": d.target_id,
            "args": d.args.model_dump(mode="json"),
            "request": d.request,
            "digest": canonical_digest(d.request),
            "version": d.version,
            "expires": expires,
            "summary": d.plan.summary,
            "changes": [c.model_dump(mode="json") for c in d.plan.changes],
            "principal": d.principal,
            "channel": channel,  # how the person approves: "asked" through the client, or a confirmation "id"
            "existing": list(d.plan.existing),
        } | ({"sandbox_run": d.api.sandbox_run} if d.api.sandbox_run else {})

    async def issue(self, d: Draft) -> ActionResult:
        """Store the pending action and hand out its signed confirmation id."""
        expires = int(self.clock() + self.ttl)
        cid = self.signer.new_id(
            verb=_spec(d.op).verb,
            provider=d.op.provider,
            account=d.api.account.name,
            target=re.sub(r"[^A-Za-z0-9_-]", "-", d.target_id)[:8],
            expires=expires,
            request_digest=canonical_digest(d.request),
            version=d.version,
            principal=d.principal,
        )
        record = self._record(d, str(cid), expires, "id")
        await self._put(cid.nonce, record)
        return self._proposal(d.op, d.api, record, d.target)

    async def reissue(
        self,
        op: Operation[Any, Any],
        args: OperationInput,
        api: ApiClient,
        target: dict[str, Any] | None,
        why: str,
        principal: str,
    ) -> ActionResult:
        """The target moved: nothing is sent; a fresh proposal against its current state comes back."""
        try:
            redrafted = replace(self.draft_for(op, args, api, target), principal=principal)
        except ToolError as exc:  # e.g. resuming a job that is running by now
            raise ToolError(f"{why}, so nothing was sent, and the action no longer applies: {exc}") from None
        fresh = await self.issue(redrafted)
        fresh.status = "stale"
        fresh.next_step = f"{why}, so nothing was sent. Here is a fresh proposal; {fresh.next_step}"
        return fresh

    def preview(self, d: Draft) -> ActionResult:
        """The proposal as a person is asked about it directly (no id: the answer comes back in the same call)."""
        return ActionResult(
            sandbox=d.api.account.sandbox,
            platform=d.api.platform,
            status="proposed",
            summary=d.plan.summary,
            changes=d.plan.changes,
            request=self._planned(d.api, d.request),
            risk=_spec(d.op).risk,
        )

    def declined(self, d: Draft, typed_wrong: bool = False) -> ActionResult:
        result = self.preview(d)
        result.status = "declined"
        result.next_step = ("The typed code did not match, so " if typed_wrong else "") + "nothing was sent."
        return result

    def challenge(self, d: Draft) -> str:
        """The code a person types back to approve a permanent action: shown only in the question put to them."""
        return self.signer.code(canonical_digest([d.op.name, d.api.account.name, d.request]))

    async def run_approved(self, d: Draft) -> ActionResult:
        """The person said yes to this draft directly: send it, unless the target moved while they decided. Then
        nothing is sent and no confirmation id is issued either: this person is asked, so the tool asks again."""
        now = await self.current_target(d.op, d.args, d.api)
        if _version(d.op, d.api, now) != d.version:
            try:
                redrafted = self.draft_for(d.op, d.args, d.api, now)
            except ToolError as exc:
                raise ToolError(f"The target changed while the person decided, so nothing was sent: {exc}") from None
            stale = self.preview(redrafted)
            stale.status = "stale"
            stale.next_step = (
                "The target changed while the person decided, so nothing was sent. Above is what the action would "
                "do now; call the tool again to ask them about it."
            )
            return stale
        action_id = f"asked:{d.op.provider}/{d.api.account.name}/{secrets.token_hex(6)}"
        return await self.execute(d.op, d.api, self._record(d, action_id, int(self.clock()), "asked"))

    def _proposal(
        self,
        op: Operation[Any, Any],
        api: ApiClient,
        record: Record,
        target: dict[str, Any] | None,
    ) -> ActionResult:
        spec = _spec(op)
        typed = spec.typed_confirmation
        how = f'confirm_action(confirmation_id="{record["id"]}"' + (', typed_job_id="<the ID>")' if typed else ")")
        return ActionResult(
            sandbox=api.account.sandbox,
            platform=api.platform,
            status="proposed",
            summary=record["summary"],
            confirmation_id=record["id"],
            changes=[Change.model_validate(c) for c in record["changes"]],
            request=self._planned(api, record["request"]),
            risk=spec.risk,
            expires_at=_iso(record["expires"]),
            requires_typed_id=typed,
            next_step=f"Show the person this proposal and ask. Only on a clear yes: {how}. Otherwise cancel_action.",
            target=target,
        )

    @staticmethod
    def _planned(api: ApiClient, request: dict[str, Any]) -> PlannedRequest:
        url = api.url_for(request["path"], request["params"])
        return PlannedRequest(
            method=request["method"], url=url, headers=request.get("headers") or {}, body=request["body"]
        )

    # --- confirm -----------------------------------------------------------------------------------------

    async def _verified(
        self, confirmation_id: str, account: str | None, principal: str
    ) -> tuple[ConfirmationId, Record]:
        """The pending action behind an id, or ConfirmationRefused saying exactly why not."""
        cid = ConfirmationId.parse(confirmation_id)
        record = await self._get(cid.nonce, str(cid), principal, "id")
        if record is None:
            if used := self._what_became_of(cid, principal):  # the audit log outlives the store (a Redis flush)
                raise ConfirmationRefused(used)
            if await self.store.was_spent(cid.nonce):
                raise ConfirmationRefused(
                    "This confirmation id was already used (ids are single use), but this server's audit log has no "
                    "record of it being sent: it may have been decided on another replica. Nothing was sent by this "
                    f"call. Check the target with {self._show(cid.provider)} before proposing the action again."
                )
            if cid.expires < self.clock():
                raise ConfirmationRefused(EXPIRED.format(at=_iso(cid.expires)))
            raise ConfirmationRefused(UNKNOWN_ID)
        if record.get("principal", "local") != principal:
            # Said like an unknown id: another user's proposals are not even confirmed to exist.
            raise ConfirmationRefused(UNKNOWN_ID)
        signed = self.signer.matches(
            cid, request_digest=record["digest"], version=record["version"], principal=principal
        )
        if not signed or record["id"] != str(cid):
            raise ConfirmationRefused(
                "This confirmation id does not match what was proposed (it was altered). "
                "Nothing was sent. Use the id exactly as the proposal gave it."
            )
        if cid.expires < self.clock():
            raise ConfirmationRefused(EXPIRED.format(at=_iso(cid.expires)))
        if account is not None and account != record["account"]:
            raise ConfirmationRefused(
                f"This confirmation id is for account {record['account']!r}, not {account!r}. Nothing was sent."
            )
        if record["tool"] not in self._ops:
            raise ConfirmationRefused(f"{record['tool']} is not enabled on this server. Nothing was sent.")
        return cid, record

    async def confirm(
        self,
        confirmation_id: str,
        typed_job_id: str | None = None,
        account: str | None = None,
        principal: str = "local",
    ) -> ActionResult:
        try:
            cid, record = await self._verified(confirmation_id, account, principal)
        except ConfirmationRefused as exc:
            raise ToolError(str(exc)) from None
        if record.get("channel") == "page":  # its id was never handed out: only the person's page approves it
            raise ToolError("This proposal is approved on its approval page, not with an id. Nothing was sent.")
        record["channel"] = "id"  # a proposal with both an id and a page link, confirmed here by its id
        op = self._ops[record["tool"]]
        spec = _spec(op)
        api = self._client(op.provider, record["account"])
        if self.needs_proof(op, api) and not self.ids_need_no_proof:  # an id proves no person: never enough here
            raise ToolError(
                "This action needs the person's own approval (asked in their client, or on the approval page with "
                "their passkey or passphrase); a confirmation id cannot approve it. Nothing was sent."
            )
        if spec.typed_confirmation and (typed_job_id or "").strip().lower() != record["target_id"].lower():
            raise ToolError(
                "This action is permanent, so confirm_action needs typed_job_id: the job's full ID, typed back by "
                "the person. " + ("It did not match. " if typed_job_id else "") + "Nothing was sent; the proposal "
                "is still pending."
            )
        await self._refuse_another_sandbox(api, record, cid.nonce, "id")
        args = op.input_model.model_validate(record["args"])
        target = await self.current_target(op, args, api)
        if not await self._take(cid.nonce, record, "id"):
            raise ToolError("This confirmation id was already used. Nothing was sent.")
        if _version(op, api, target) != record["version"]:
            self._decided(api, record, "stale", "id")
            return await self.reissue(op, args, api, target, "The target changed since the proposal", principal)
        return await self.execute(op, api, record)

    async def _refuse_another_sandbox(self, api: ApiClient, record: Record, nonce: str, channel: str) -> None:
        """A proposal made against another in-memory sandbox than this process's (the server restarted since, and
        its sandbox was seeded afresh; or another server process made it) is about jobs that exist no more as they
        were: it is used up, nothing is sent, and the answer says so, instead of "the target changed"."""
        made_in = record.get("sandbox_run")
        if made_in is None or made_in == api.sandbox_run:
            return
        if await self._take(nonce, record, channel):
            self._decided(api, record, "stale", channel)
        raise ToolError(
            f"The {api.platform} sandbox was restarted since this proposal (this server process started a fresh "
            "one, with its demo data seeded anew; or another server process made the proposal), so nothing was "
            "sent and this proposal is used up. Propose the action again, and confirm it while the same server "
            "runs. A client that starts a new server for each call keeps one sandbox with serve --sandbox-db PATH."
        )

    def _what_became_of(self, cid: ConfirmationId, principal: str) -> str | None:
        """What the audit log says happened to an id of ``principal``'s (sent, declined, cancelled, stale), with when
        and what to call next; None when it has nothing. Never "propose again" for what may have run."""
        rows = [r for r in self.audit.history(str(cid)) if r["principal"] == principal and r["phase"] != "refusal"]
        if not rows:
            return None
        show = self._show(cid.provider)
        sent = next((r for r in rows if r["phase"] == "intent"), None)
        if sent is not None:
            how = _CHANNEL_WORDS.get(sent["channel"], sent["channel"])
            outcome = next((r["result"] for r in rows if r["phase"] == "outcome"), None)
            status = outcome.get("status", "unknown") if isinstance(outcome, dict) else "unknown"
            what = {
                "executed": f"it was executed. Its state now: {show}. Do not propose it again.",
                "failed": f"the platform refused it, so nothing changed. Read why with {show} before proposing again.",
            }.get(status, f"its outcome is unknown: it may have landed. Check with {show} before proposing it again.")
            return f"This confirmation id was already used: approved {how}, sent at {sent['at']}; {what}"
        decided = rows[-1]
        status = decided["result"].get("status") if isinstance(decided["result"], dict) else None
        at = decided["at"]
        if status == "declined":
            return (
                f"The person declined this proposal {_CHANNEL_WORDS.get(decided['channel'], '')} at {at}; nothing was "
                "sent. Propose it again only if they now ask for it."
            )
        if status == "cancelled":
            return f"This proposal was cancelled at {at} (cancel_action); nothing was sent with this id."
        return (
            f"This confirmation id was used at {at}, but the target had changed, so nothing was sent and a fresh "
            f"proposal was made then (list_pending_actions shows it while it waits; {show} shows the target)."
        )

    def _show(self, provider_name: str) -> str:
        """The read tool that shows a target of this platform as it is now."""
        from jobs_mcp.registry import PROVIDERS, provider

        return (provider(provider_name).show if provider_name in PROVIDERS else "") or "the platform's get tool"

    def _decided(self, api: ApiClient, record: Record, status: str, channel: str) -> None:
        """Audit a decision that sent nothing (declined, cancelled, stale): what became of the id stays known."""
        shown = self._planned(api, record["request"]).model_dump(mode="json")
        who = {"principal": record.get("principal", "local"), "channel": channel}
        self.audit.decision(record["id"], record["account"], record["tool"], shown, status, **who)

    async def execute(self, op: Operation[Any, Any], api: ApiClient, record: Record) -> ActionResult:
        """Send the recorded request once, with an audit record before and after."""
        refuse_read_only(api)  # made read-only since it was proposed: still nothing is sent
        request = record["request"]
        shown = self._planned(api, request).model_dump(mode="json")
        channel = record.get("channel", "id")
        proof = record.get("proof") or {"asked": "elicitation", "id": "confirmation id"}.get(channel, channel)
        who = {"principal": record.get("principal", "local"), "channel": channel, "proof": proof}
        self.audit.intent(record["id"], record["account"], record["tool"], shown, **who)
        base = {
            "sandbox": api.account.sandbox,
            "platform": api.platform,
            "summary": record["summary"],
            "confirmation_id": record["id"] if record.get("channel") == "id" else None,
            "changes": record["changes"],
            "request": shown,
            "risk": _spec(op).risk,
        }
        resent = ""
        try:
            try:
                data = await _send(api, request)
            except ApiError as lost:
                if not (_spec(op).resend_when_lost and lost.maybe_applied):
                    raise
                resent = (
                    f"The first answer was lost ({lost}); the same request, with the same idempotency key, was "
                    "sent once more, so the platform did not act twice. "
                )
                data = await _send(api, request)
        except ApiError as exc:
            outcome: ActionResult
            unsure = exc.maybe_applied  # no answer, a 5xx or an unreadable 2xx: it may have landed
            if unsure and (finder := _spec(op).find_created) is not None:
                outcome = await self._check_created(op, api, record, base, finder, str(exc))
            else:
                outcome = ActionResult(**base, status="unknown" if unsure else "failed", next_step=resent + str(exc))
            result = outcome.model_dump(mode="json")
            self.audit.outcome(record["id"], record["account"], record["tool"], shown, result, **who)
            return outcome
        target = data if isinstance(data, dict) else None
        done = "Done. Tell the person the result."
        follow = _follow_up(op, api, data)
        outcome = ActionResult(
            **base, status="executed", target=target, next_step=resent + done + (f" {follow}" if follow else "")
        )
        executed = {"status": "executed", "target": target} | ({"resent": True} if resent else {})
        self.audit.outcome(record["id"], record["account"], record["tool"], shown, executed, **who)
        return outcome

    async def _check_created(
        self,
        op: Operation[Any, Any],
        api: ApiClient,
        record: Record,
        base: dict[str, Any],
        finder: Callable[[ApiClient, Any, list[str]], Awaitable[dict[str, Any] | None]],
        error: str,
    ) -> ActionResult:
        """The write's answer was lost: look for exactly this write over a short window before saying anything,
        and never send it again. Not found is still "outcome unknown": it may yet appear."""
        args = op.input_model.model_validate(record["args"])
        found = None
        for attempt in range(LOOKUPS):
            try:
                found = await finder(api, args, list(record.get("existing", [])))
            except ApiError:
                found = None
            if found is not None:
                break
            if attempt + 1 < LOOKUPS:
                await anyio.sleep(LOOKUP_PAUSE)
        if found is not None:
            return ActionResult(
                **base,
                status="executed",
                target=found,
                next_step="The answer was lost, but the write is there now (looked up), so it happened once. "
                "Do not propose it again.",
            )
        waited = LOOKUP_PAUSE * (LOOKUPS - 1)
        return ActionResult(
            **base,
            status="unknown",
            next_step=f"{error} It was looked for {LOOKUPS} times over {waited:g} s and not found, but it may still "
            "appear: check with the platform's list or get tool before proposing it again.",
        )

    async def cancel(self, confirmation_id: str, principal: str = "local") -> ActionResult:
        """Drop a proposal, named by its id or by the handle list_pending_actions shows; nothing is sent."""
        nonce = nonce_of(confirmation_id)
        record = await self._get(nonce, confirmation_id, principal, "id") if nonce else None
        if nonce is None or record is None or record.get("principal", "local") != principal:
            raise ToolError(
                "No pending proposal of yours has that id (already confirmed, cancelled, expired, or never issued). "
                "list_pending_actions shows what is waiting."
            )
        await self._take(nonce, record, "id")
        api = self._client(self._ops[record["tool"]].provider, record["account"])
        self._decided(api, record, "cancelled", "id")
        return ActionResult(
            sandbox=api.account.sandbox,
            platform=api.platform,
            status="cancelled",
            summary=record["summary"],
            confirmation_id=record["id"],
            next_step="Cancelled; nothing was sent.",
        )

    # --- the approval page (channel 2; served by approval_page.py) ------------------------------------------

    async def issue_page(self, d: Draft, *, with_id: bool) -> tuple[ActionResult, str, str]:
        """Store a proposal the person approves on the approval page: (proposal, nonce, the page secret). The
        record keeps only the secret's hash. Without ``with_id`` no confirmation id is handed out at all."""
        proposal = await self.issue(d)
        nonce = ConfirmationId.parse(str(proposal.confirmation_id)).nonce
        secret = secrets.token_urlsafe(24)
        record = await self._get(nonce, nonce, d.principal, "page")
        assert record is not None
        record |= {"page_secret": _secret_hash(secret), "channel": "id+page" if with_id else "page"}
        await self._put(nonce, record)
        if not with_id:
            proposal.confirmation_id = None
            proposal.next_step = ""
        return proposal, nonce, secret

    async def page_record(self, nonce: str, secret: str) -> Record:
        """The pending proposal behind a page link, or ConfirmationRefused saying why not (nothing is sent)."""
        record = await self._get(nonce, nonce, None, "page")
        if record is None:
            if await self.store.was_spent(nonce):
                raise ConfirmationRefused("This proposal was already decided (approved, declined or cancelled).")
            raise ConfirmationRefused("This proposal is unknown or has expired. Ask the assistant to propose it again.")
        stored = record.get("page_secret")
        if not isinstance(stored, str) or not hmac.compare_digest(stored, _secret_hash(secret)):
            raise ConfirmationRefused("This link is not valid for this proposal. Nothing was sent.")
        if record["expires"] < self.clock():
            raise ConfirmationRefused("This proposal has expired. Ask the assistant to propose it again.")
        if record["tool"] not in self._ops:
            raise ConfirmationRefused(f"{record['tool']} is not enabled on this server. Nothing was sent.")
        return record

    def page_view(self, record: Record) -> ActionResult:
        """A stored proposal as the page shows it (the request in full)."""
        op = self._ops[record["tool"]]
        api = self._client(op.provider, record["account"])
        shown = self._proposal(op, api, record, None)
        shown.confirmation_id, shown.next_step = None, ""
        return shown

    async def approve_on_page(
        self, nonce: str, secret: str, proven: Proven | None = None, signed_in: str | None = None
    ) -> ActionResult:
        """The person approved on the page: the same path as ``confirm`` (stale check, single-use take, audit with
        channel "page" and how the person was proven). An action at the proof tier needs ``proven`` (the page
        checked a passkey or the approver passphrase); without it nothing is sent and the proposal stays open."""
        record = await self.page_record(nonce, secret)
        op = self._ops[record["tool"]]
        api = self._client(op.provider, record["account"])
        if proven is None and self.needs_proof(op, api):
            raise ConfirmationRefused(
                "This action needs your passkey or approver passphrase. Nothing was sent; it is still open."
            )
        try:
            await self._refuse_another_sandbox(api, record, nonce, "page")
        except ToolError as exc:
            raise ConfirmationRefused(str(exc)) from None
        args = op.input_model.model_validate(record["args"])
        target = await self.current_target(op, args, api)
        if not await self._take(nonce, record, "page"):
            raise ConfirmationRefused("This proposal was already decided. Nothing was sent.")
        if _version(op, api, target) != record["version"]:
            self._decided(api, record, "stale", "page")
            stale = self.page_view(record)
            stale.status, stale.target = "stale", target
            stale.next_step = "The target changed since the proposal, so nothing was sent. Ask the assistant again."
            return stale
        proof = proven.how if proven else f"signed in as {signed_in}" if signed_in else "page link"
        return await self.execute(op, api, record | {"channel": "page", "proof": proof})

    async def decline_on_page(self, nonce: str, secret: str) -> ActionResult:
        record = await self.page_record(nonce, secret)
        if not await self._take(nonce, record, "page"):
            raise ConfirmationRefused("This proposal was already decided. Nothing was sent.")
        self._decided(self._client(self._ops[record["tool"]].provider, record["account"]), record, "declined", "page")
        declined = self.page_view(record)
        declined.status, declined.next_step = "declined", "Declined; nothing was sent."
        return declined

    async def decline_unopened(self, nonce: str, principal: str) -> None:
        """The person would not open the page their client offered: the proposal is declined (audited)."""
        record = await self._get(nonce, "?", principal, "page")
        if record is not None and await self._take(nonce, record, "page"):
            self._decided(
                self._client(self._ops[record["tool"]].provider, record["account"]), record, "declined", "page"
            )

    async def pending(self, principal: str = "local") -> PendingList:
        actions = []
        for record in sorted(await self._all(principal), key=lambda r: r["expires"]):
            op = self._ops.get(record["tool"])
            if op is None:
                continue
            api = self._client(op.provider, record["account"])
            listed = self._proposal(op, api, record, None)
            # A handle, not the id: the list must not hand out something that confirms.
            listed.confirmation_id = ConfirmationId.parse(record["id"]).handle
            listed.next_step = "Waiting for the person. cancel_action(confirmation_id=<this handle>) drops it."
            actions.append(listed)
        return PendingList(sandbox=self.sandbox, actions=actions)


async def _send(api: ApiClient, request: dict[str, Any]) -> Any:
    """Send a recorded request. Whatever fails here is an ``ApiError``: a failure of this server's own while sending
    is logged and said as one whose outcome is unknown (it may have failed after the request left)."""
    try:
        return await api.request(
            request["method"],
            request["path"],
            params=request["params"],
            body=request["body"],
            headers=request.get("headers") or None,
        )
    except ApiError:
        raise
    except Exception as exc:
        log.exception("sending %s %s failed unexpectedly", request["method"], request["path"])
        raise ApiError(
            f"jobs-mcp failed while sending the request ({type(exc).__name__}; a bug in the server, its log has the "
            "details). The change may or may not have been applied: check the target with a read tool before "
            "proposing it again."
        ) from None


def refuse_read_only(api: ApiClient) -> None:
    """An account marked read-only in the accounts file takes no writes: none is proposed, none is sent."""
    if api.account.read_only:
        raise ToolError(
            f"Account {api.account.name!r} of {api.platform} is read-only (read_only = true in the accounts file), so "
            "its writes are off. Nothing was proposed or sent; reads work as usual."
        )


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
