"""A made-up platform that lives in the test folder alone: the proof that adding a platform needs no change to
the core, and the worked example of server/jobs_mcp/providers/README.md. It has a simulator (three routes over a
document store, behind the shared token check), one read and one gated lifecycle action.

What it declares beyond the plain case, because real platforms need it: its list sends a boolean even when False,
a list as a repeated parameter and an argument under another query name (``Param``); its auth scheme depends on
the account (Bearer on the hosted service, Basic for a self-hosted one: ``FAKECO_HOSTING=self``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Scope

from jobs_mcp.demo import Step
from jobs_mcp.gate import ActionResult
from jobs_mcp.operations import (
    Call,
    Change,
    Endpoint,
    Operation,
    OperationInput,
    Param,
    Plan,
    Provider,
    QueryStyle,
    Risk,
    SafeId,
    StatusClass,
    ToolResult,
    Wire,
    WriteSpec,
)
from jobs_mcp.render import table
from jobs_mcp.sandbox import DocStore, FaultInjector
from jobs_mcp.sandbox.auth import TokenAuth, lookup
from jobs_mcp.sandbox.faults import FaultMiddleware, admin_routes
from jobs_mcp.wire import error_detail

NAME = "fakeco"
WIDGET_ID = "w-1"


def simulator(
    *, db_path: str | None = None, tokens: Any = None, faults: FaultInjector | None = None, now: Any = None
) -> Starlette:
    store = DocStore(
        db_path, seed=lambda s: s.put("widget", WIDGET_ID, {"id": WIDGET_ID, "name": "Gizmo", "state": "on"})
    )
    injector = faults or FaultInjector()

    async def widgets(request: Request) -> Response:
        query = request.query_params
        if query.get("include_retired") not in ("true", "false"):  # FakeCo insists on an explicit choice
            return JSONResponse({"error": {"code": "bad_query", "message": "include_retired=true|false"}}, 400)
        states = query.getlist("state")  # repeated: ?state=on&state=off (a comma list is refused)
        if any(s not in ("on", "off") for s in states):
            return JSONResponse({"error": {"code": "bad_query", "message": "state must be on or off"}}, 400)
        found = [w for w in store.all("widget") if (not states or w["state"] in states)]
        return JSONResponse({"items": [w for w in found if w["name"].startswith(query.get("q", ""))]})

    async def switch_off(request: Request) -> Response:
        widget = store.get("widget", request.path_params["id"])
        if widget is None:
            return JSONResponse({"error": {"code": "missing", "message": "no such widget"}}, status_code=404)
        widget["state"] = "off"
        store.put("widget", widget["id"], widget)
        return JSONResponse({"item": widget})

    async def widget(request: Request) -> Response:
        found = store.get("widget", request.path_params["id"])
        if found is None:
            return JSONResponse({"error": {"code": "missing", "message": "no such widget"}}, status_code=404)
        return JSONResponse({"item": found})

    def refuse(_scope: Scope, token: str) -> Response:
        message = "invalid token" if token else "send Authorization: Bearer <token>"
        return JSONResponse({"error": {"code": "unauthorized", "message": message}}, status_code=401)

    def error_body(status: int, message: str, headers: dict[str, str] | None) -> Response:
        return JSONResponse({"error": {"code": "fault", "message": message}}, status_code=status, headers=headers)

    return Starlette(
        routes=[
            Route("/widgets", widgets),
            Route("/widgets/{id}", widget),
            Route("/widgets/{id}/off", switch_off, methods=["POST"]),
            *admin_routes(injector),
        ],
        middleware=[
            Middleware(FaultMiddleware, faults=injector, error_body=error_body),
            Middleware(TokenAuth, resolve=lambda token: tokens is None or lookup(tokens, token), refuse=refuse),
        ],
    )


def status_class(state: str) -> StatusClass:
    return {"on": "live", "off": "paused"}.get(state, "unknown")


class ListArgs(OperationInput):
    state: list[Literal["on", "off"]] | None = Field(default=None, description="only widgets in these states")
    name_prefix: str | None = Field(default=None, description="only widgets whose name starts with this")
    include_retired: bool = Field(default=False, description="also list retired widgets")


class WidgetArgs(OperationInput):
    widget_id: Annotated[SafeId, Field(description="widget ID, as fakeco_list_widgets shows it")]


class Widget(BaseModel):
    id: str
    name: str
    state: str


class WidgetList(ToolResult):
    widgets: list[Widget]


def _shape(call: Call[ListArgs]) -> WidgetList:
    return WidgetList(sandbox=call.sandbox, widgets=[Widget.model_validate(w) for w in call.data or []])


def _render(result: WidgetList) -> str:
    return table(("ID", "name", "state"), [(w.id, w.name, w.state) for w in result.widgets])


def _plan(args: WidgetArgs, target: dict[str, Any] | None) -> Plan:
    return Plan(
        summary=f"Switch off widget {args.widget_id}", changes=[Change(field="state", before="on", after="off")]
    )


def operations() -> Sequence[Operation[Any, Any]]:
    return (
        Operation(
            name="fakeco_list_widgets",
            title="List widgets",
            description="List the widgets.",
            provider=NAME,
            kind="read",
            endpoint=Endpoint(
                "GET",
                ("/widgets",),
                query=(
                    Param("state", style=QueryStyle(lists="repeat")),
                    Param("name_prefix", "q"),
                    Param("include_retired", style=QueryStyle(false="false")),
                ),
            ),
            input_model=ListArgs,
            result_model=WidgetList,
            shape=_shape,
            render=_render,
        ),
        Operation(
            name="fakeco_switch_off_widget",
            title="Switch off a widget",
            description="Propose switching a widget off.",
            provider=NAME,
            kind="lifecycle",
            endpoint=Endpoint("POST", ("/widgets/{widget_id}/off",)),
            input_model=WidgetArgs,
            result_model=ActionResult,
            not_found="Widget {widget_id} not found; fakeco_list_widgets shows the widgets.",
            write=WriteSpec(
                verb="off",
                risk=Risk(level="low", note="It can be switched on again."),
                plan=_plan,
                effect="changes",
                target=Endpoint("GET", ("/widgets/{widget_id}",)),
            ),
        ),
    )


PROVIDER = Provider(
    name=NAME,
    probe="fakeco_list_widgets",
    show="fakeco_list_widgets",
    title="FakeCo",
    summary="FakeCo widgets",
    default_url="https://api.fakeco.example",
    wire=Wire(
        unwrap=lambda body: body.get("items", body.get("item")) if isinstance(body, dict) else body,
        error=error_detail,
    ),
    status_class=status_class,
    operations=operations,
    simulator=simulator,
    version=lambda widget: widget.get("state"),
    auth_scheme=lambda account: "Basic" if account.extras.get("hosting") == "self" else "Bearer",
    extras=("hosting",),
    sandbox_extras={"hosting": "cloud"},
    demo=lambda: (Step("Which widgets are there?", "fakeco_list_widgets"),),
)
