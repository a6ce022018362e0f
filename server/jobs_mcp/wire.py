"""Readers for the response envelopes platforms use, for providers to declare in their ``Wire``.

Kept apart from http.py so that declaring a provider imports nothing heavy.
"""

from __future__ import annotations

from typing import Any


def error_detail(body: Any) -> tuple[str, str]:
    """(code, message) from any error envelope this server knows.

    Lytics v2 ``{"errors": [{"code", "message"}]}``, the older ``{"message": ...}``, and the
    ``{"error": "..."}`` / ``{"error": {"code", "message"}}`` shapes other platforms use.
    """
    if not isinstance(body, dict):
        return "", ""
    errors = body.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or ""), str(errors[0].get("message") or "")
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or ""), str(error.get("message") or "")
    if isinstance(error, str):
        return "", error
    message = body.get("message")
    return "", str(message) if message is not None else ""


def unwrap(body: Any) -> Any:
    """The payload of a success envelope ``{"data": ..., "status": ...}``; any other JSON as it is."""
    if isinstance(body, dict) and "data" in body and ({"status", "request_id", "message", "_meta"} & body.keys()):
        return body["data"]
    return body
