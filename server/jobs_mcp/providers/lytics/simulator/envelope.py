"""Response bodies of the Lytics simulator: the v2 success and error envelopes and the older v1 shape.

v2 success: ``{"data", "status", "message", "request_id", "_meta"}``; v2 error: ``{"errors": [{"code", "level",
"message", "timestamp"}], "status", "request_id"}``. The older shape ``{"data", "message", "status"}`` is what
``/api/...`` routes and the 401 for a missing or rejected token use.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from starlette.responses import JSONResponse, Response

# Lytics v2 error codes the simulator uses (all from the published code list, except RATE_LIMIT).
BADREQ = "BADREQ-001"
JOB_BADREQ = "JOB-BADREQ-002"
NOTFOUND = "NOTFOUND-003"
JOB_NOTFOUND = "JOB-NOTFOUND-004"
WF_NOTFOUND = "WF-NOTFOUND-005"
AUTH_NOTFOUND = "AUTH-NOTFOUND-006"
UNAUTHORIZED = "UNAUTHORIZED-017"
INTERNAL = "INTERNAL-019"
JOB_FAULT = "JOB-FAULT-022"
JSON_BADREQ = "JSON-BADREQ-025"
FORBIDDEN = "FORBIDDEN-026"
# INVENTED: the real code list has no rate-limit code; the simulator needs one for its rate-limited job's log
# and for injected 429s, and names it after the HTTP status so nobody mistakes it for a real code.
RATE_LIMIT = "RATELIMIT-429"


def rfc3339(moment: datetime) -> str:
    """UTC, whole seconds, ``Z`` suffix: one fixed format, so these strings sort in time order."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:19] + "Z"  # isoformat: faster than strftime


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError("needs a time zone offset")
    return moment


class LyticsError(Exception):
    """Raised by handlers and rules; the app turns it into the v2 error envelope."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def request_id() -> str:
    return str(uuid.uuid4())


def v2_ok(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(
        {"data": data, "status": status, "message": "success", "request_id": request_id(), "_meta": {}},
        status_code=status,
    )


def v2_ok_raw(items: list[str]) -> Response:
    """The success envelope around a list of already-encoded JSON objects (logs: no decode and re-encode)."""
    head = json.dumps({"status": 200, "message": "success", "request_id": request_id(), "_meta": {}})
    body = '{"data": [' + ", ".join(items) + "], " + head[1:]
    return Response(body, media_type="application/json")


def v2_error(
    status: int, code: str, message: str, now: datetime, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    error = {"code": code, "level": "error", "message": message, "timestamp": rfc3339(now)}
    return JSONResponse(
        {"errors": [error], "status": status, "request_id": request_id()}, status_code=status, headers=headers
    )


def v1_ok(data: Any) -> JSONResponse:
    return JSONResponse({"data": data, "message": "success", "status": 200})


def v1_unauthorized() -> JSONResponse:
    return JSONResponse({"data": None, "message": "Not authorized", "status": 401}, status_code=401)
