"""The write tools: one generic maker (``write_tool``) for every write and lifecycle operation.

A write never runs on the call alone. ``draft`` (an SDK resolver) validates and reads the target; ``channel``
decides how the person approves — asked through their client (the SDK's ``Resolve``/``Elicit``), the approval
page, or a signed confirmation id for ``confirm_action`` — and the tool acts on that answer. Resolvers only read,
so running them again on a retry round is harmless.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Callable
from typing import Annotated, Any

from mcp import MCPError
from mcp.server.elicitation import AcceptedElicitation, ElicitationResult
from mcp.server.mcpserver import Context, Elicit, Resolve
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import CallToolResult
from pydantic import BaseModel, Field, StrictBool
from starlette.requests import Request

from jobs_mcp.approvers import person_of
from jobs_mcp.confirmation import canonical_digest
from jobs_mcp.gate import ActionResult, Draft, render_action
from jobs_mcp.operations import Operation, Provider
from jobs_mcp.person_proof import enroll_hint
from jobs_mcp.principal import current_principal, lasts_beyond_the_request
from jobs_mcp.runtime import Runtime
from jobs_mcp.sdk import AskToOpen, asks_in_rounds, opened
from jobs_mcp.tools import KW, _split, _with_signature, argument_parameters, no_crash, tool_result

log = logging.getLogger(__name__)


class Approve(BaseModel):
    # Strict: only a real true approves ("yes", 1 or "true" as text are not a person's yes).
    approve: StrictBool = Field(title="Send this request now?", description="Yes sends exactly the request shown.")


class ApproveByTypingCode(BaseModel):
    code: str = Field(title="Type the code shown above to confirm", description="This cannot be undone.")


class UseTokenHandshake(BaseModel):
    """Resolver outcome meaning: do not ask here; return a proposal for confirm_action instead."""


class UsePage(BaseModel):
    """Resolver outcome meaning: the person approves on the approval page (channel 2)."""

    with_id: bool = Field(description="also hand out a confirmation id (low/medium risk only)")
    url_mode: bool = Field(description="send the page's URL through URL-mode elicitation, out of the model's sight")


# Clients known to declare URL-mode elicitation without showing their person the link, by the name they give in
# clientInfo (lower case), each with why. They are treated as clients without URL mode: asked with a form question
# if they declare forms, else given the page link, else a confirmation id. Add one with the client and version
# seen doing it, e.g. "some-client": "1.2 declares url but drops URL requests".
URL_MODE_MISDECLARED: dict[str, str] = {}


def client_name(ctx: Context) -> str:
    params = ctx.session.client_params
    return params.client_info.name.lower() if params is not None else ""


def client_has_url_elicitation(ctx: Context) -> bool:
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and elicitation.url is not None and client_name(ctx) not in URL_MODE_MISDECLARED


def _origin(ctx: Context) -> str | None:
    """The MCP server's own HTTP origin when this call came over HTTP (None over stdio or in memory)."""
    request = getattr(ctx.request_context, "request", None)
    return str(request.base_url) if isinstance(request, Request) else None


def client_can_elicit(ctx: Context) -> bool:
    """Whether the client can put a form question to its user (a client declaring only URL mode cannot)."""
    caps = ctx.client_capabilities
    elicitation = caps.elicitation if caps is not None else None
    return elicitation is not None and (elicitation.form is not None or elicitation.url is None)


HIGH_RISK_NEEDS_A_PERSON = (
    "Nothing was proposed: {summary} needs the person's own yes (high-risk: permanent or many items at once; or an "
    "account that asks for it on every such write), and here it can be given neither through this client (it does "
    "not support elicitation) nor on the approval page. Do it in a client that can ask (e.g. Claude Code or the "
    "MCP Inspector), or have the server's operator allow confirmation ids for it (--allow-high-risk-ids), knowing "
    "the model could then confirm it itself."
)
NEEDS_AN_APPROVER = (
    "Nothing was proposed: {summary} needs the person's own yes, proven with a passkey or an approver passphrase on "
    "the approval page, and no approver is enrolled yet. {hint} Then ask again. (A client that can ask the person "
    "through elicitation, e.g. Claude Code, needs no enrollment.)"
)

NO_LASTING_PRINCIPAL = (
    "Nothing was proposed: this client sends no access token and has no session, so each of its requests is a "
    "principal of its own and a confirmation id could never be confirmed. Have the server's operator give it a "
    "token (serve --http --auth-tokens), or use a client that can ask its person."
)


async def channel(ctx: Context, runtime: Runtime, drafted: Draft, *, typed: bool) -> Any:
    """How the person approves this draft: a question through their client (``Elicit``), the approval page
    (``UsePage``) or a confirmation id (``UseTokenHandshake``); refused when no channel its risk allows is open."""
    settings = runtime.settings
    can_ask = client_can_elicit(ctx)
    if settings.confirm == "elicit" and not can_ask:
        raise ToolError(
            "This server is set to confirm writes by asking the person (--confirm elicit), but this client "
            "cannot ask. Nothing was sent. Restart the server with --confirm auto to use confirmation ids."
        )
    gate = runtime.gate
    ids = lasts_beyond_the_request()  # an id is of use only to a caller that is the same principal next time
    needs_proof = gate.needs_proof(drafted.op, drafted.api) and not settings.allow_high_risk_ids
    enrolled = not needs_proof or gate.people.enrolled(drafted.principal)  # the page could take the person's yes
    if settings.confirm == "auto" and not can_ask and runtime.pages.enabled:
        if not enrolled:
            hint = enroll_hint(person_of(drafted.principal))
            raise ToolError(NEEDS_AN_APPROVER.format(summary=drafted.plan.summary, hint=hint))
        url_mode = client_has_url_elicitation(ctx)
        return UsePage(with_id=ids and not url_mode and not needs_proof, url_mode=url_mode)
    if settings.confirm == "token" or not can_ask:
        if needs_proof:
            raise ToolError(HIGH_RISK_NEEDS_A_PERSON.format(summary=drafted.plan.summary))
        if not ids:
            raise ToolError(NO_LASTING_PRINCIPAL)
        return UseTokenHandshake()
    ask = render_action(runtime.gate.preview(drafted), whole=True)  # the person approves what they read: nothing cut
    too_long = len(ask) > QUESTION_FITS and client_has_url_elicitation(ctx) and enrolled
    if too_long and await runtime.pages.base_url(_origin(ctx)):
        return UsePage(with_id=False, url_mode=True)  # too long to read in a question: the page shows it whole
    if typed:  # the code is in the question only: the model never sees it, so it cannot type it for them
        ask += f"\nThis cannot be undone. To confirm, type this code: {runtime.gate.challenge(drafted)}"
    return Elicit(ask, ApproveByTypingCode if typed else Approve)


def write_tool(op: Operation[Any, Any], declared: Provider, runtime: Runtime) -> Callable[..., Any]:
    assert op.write is not None
    gate = runtime.gate
    typed = op.write.typed_confirmation
    params = argument_parameters(op, runtime.accounts(op.provider))
    platform = declared.title
    check_tool = declared.show or "list_pending_actions"

    def after() -> str:
        """What the model is told once the page is with the person (a caller that is a principal of its own
        request lists nothing, so it is not pointed at list_pending_actions)."""
        listed = "; list_pending_actions stops listing it once it is decided" if lasts_beyond_the_request() else ""
        return (
            "Nothing is sent until they approve it there. Once they say they decided, check the outcome with "
            f"{check_tool}{listed}."
        )

    async def draft(ctx: Context, **kwargs: Any) -> Draft:
        with no_crash(op.name, "Nothing was proposed or sent"):
            args, account = _split(op, kwargs)
            call = await runtime.checked_call(op, args, runtime.client(op.provider, account))
            return await gate.draft(op, args, call.api, current_principal())

    _with_signature(draft, f"{op.name}_draft", params, Draft)

    async def approval(ctx: Context, drafted: Annotated[Draft, Resolve(draft)]) -> Any:
        return await channel(ctx, runtime, drafted, typed=typed)

    # Real objects, not the strings of postponed annotations: `draft` is local, so it cannot be looked up later.
    approval.__annotations__ = {"ctx": Context, "drafted": Annotated[Draft, Resolve(draft)], "return": Any}

    async def tool(
        ctx: Context,
        drafted: Annotated[Draft, Resolve(draft)],
        answer: Annotated[ElicitationResult[Any], Resolve(approval)],
        **kwargs: Any,
    ) -> CallToolResult:
        result: ActionResult
        data = answer.data if isinstance(answer, AcceptedElicitation) else None
        if isinstance(data, UsePage):
            result = await on_page(ctx, drafted, data)
        elif isinstance(data, UseTokenHandshake):
            result = await gate.issue(drafted)
        elif _approved(data, gate.challenge(drafted) if typed else ""):
            result = await gate.run_approved(drafted)
        else:
            result = gate.declined(drafted, typed_wrong=isinstance(data, ApproveByTypingCode))
        return tool_result(result, render_action(result), platform)

    async def asked_to_open(drafted: Draft, result: ActionResult, nonce: str, action: str) -> ActionResult:
        """The client answered the request to open the page: opened (the person decides there), or not."""
        if action == "accept":
            result.next_step = f"Asked the person to approve on the approval page (opened by their client). {after()}"
            return result
        await gate.decline_unopened(nonce, drafted.principal)  # they would not open it: nothing can approve it now
        return gate.declined(drafted)

    async def on_page(ctx: Context, drafted: Draft, how: UsePage) -> ActionResult:
        answered = opened(ctx, PAGE_ROUND) if how.url_mode else None
        nonce = _page_nonce(answered[0], drafted) if answered is not None else None
        if answered is not None and nonce is not None:  # the answer to the last round's URL request (2026-07-28)
            return await asked_to_open(drafted, gate.preview(drafted), nonce, answered[1])
        base = await runtime.pages.base_url(_origin(ctx))
        if base is None:  # the page cannot be served here: as before the page existed
            if gate.needs_proof(op, drafted.api) and not runtime.settings.allow_high_risk_ids:
                raise ToolError(HIGH_RISK_NEEDS_A_PERSON.format(summary=drafted.plan.summary))
            if not lasts_beyond_the_request():
                raise ToolError(NO_LASTING_PRINCIPAL)
            return await gate.issue(drafted)
        result, nonce, secret = await gate.issue_page(drafted, with_id=how.with_id)
        url = f"{base}/approve/{nonce}?s={secret}"
        if how.url_mode:
            message = PAGE_MESSAGE.format(summary=drafted.plan.summary)
            if asks_in_rounds(ctx):  # 2026-07-28: the link goes in this round's URL request, never in a result
                raise AskToOpen(PAGE_ROUND, message, url, nonce, state=_page_state(nonce, drafted))
            try:
                answer = await ctx.elicit_url(message, url, nonce)
            except MCPError:  # no back-channel (a 2025-era client of --stateless): the link goes in the result
                answer = None
            if answer is not None:
                return await asked_to_open(drafted, result, nonce, answer.action)
        result.approval_url = url
        if result.confirmation_id is None:
            result.next_step = (
                "Only the person can approve this, on the approval page: give them the link to open in their "
                f"browser; it shows the whole request. {after()}"
            )
        else:
            result.next_step = (
                "Give the person the link to open in their browser: it shows the whole request, to approve or decline "
                f"there. Or, only on their clear yes here: {_confirm_call(result.confirmation_id, typed)}. {after()}"
            )
        return result

    resolved = [
        inspect.Parameter("drafted", KW, annotation=Annotated[Draft, Resolve(draft)]),
        inspect.Parameter("answer", KW, annotation=Annotated[ElicitationResult[Any], Resolve(approval)]),
    ]
    _with_signature(tool, op.name, [*resolved, *params], ActionResult)
    return tool


PAGE_MESSAGE = "Approve or decline on this page (it shows the whole request): {summary}"
PAGE_ROUND = "approval_page"  # the key of the URL request in a 2026-07-28 round
QUESTION_FITS = 4000  # characters of a question a person reads in their client; longer goes to the page if it can


def _page_state(nonce: str, drafted: Draft) -> str:
    """What the round carries to the next call: the page's proposal, and which draft it was issued for."""
    return json.dumps({"page": nonce, "for": _draft_digest(drafted)})


def _page_nonce(state: str, drafted: Draft) -> str | None:
    """The page proposal of the last round, if it was issued for this very draft (else None: ask afresh)."""
    try:
        sent = json.loads(state)
    except ValueError:
        return None
    ok = isinstance(sent, dict) and sent.get("for") == _draft_digest(drafted) and isinstance(sent.get("page"), str)
    return str(sent["page"]) if ok else None


def _draft_digest(drafted: Draft) -> str:
    return canonical_digest([drafted.op.name, drafted.api.account.name, drafted.request])


def _confirm_call(confirmation_id: str, typed: bool) -> str:
    return f'confirm_action(confirmation_id="{confirmation_id}"' + (', typed_job_id="<the ID>")' if typed else ")")


def _approved(data: Any, code: str) -> bool:
    if isinstance(data, Approve):
        return data.approve is True
    if isinstance(data, ApproveByTypingCode):
        return bool(code) and data.code.strip().upper() == code
    return False
