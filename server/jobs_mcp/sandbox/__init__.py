"""A faithful local simulator of the Lytics HTTP API (see app.py for the routes, seed.py for the demo account).

Used in-process by the server through ``SandboxTransport`` and over real HTTP by ``jobs-mcp sandbox``.
"""

from jobs_mcp.sandbox.app import create_lytics_app
from jobs_mcp.sandbox.faults import ConnectionDropped, FaultInjector, parse_fault_spec
from jobs_mcp.sandbox.seed import (
    ACTIVE_AUTH_ID,
    BAD_CONFIG_JOB_ID,
    FACEBOOK_AUTH_ID,
    FACEBOOK_EXPORT_ID,
    FACEBOOK_LOG_COUNT,
    FAILED_JOB_ID,
    HEALTHY_EXPORT_ID,
    HIDDEN_JOB_ID,
    KILLED_JOB_ID,
    PAUSED_JOB_ID,
    RATE_LIMITED_JOB_ID,
    STALE_JOB_ID,
    USER_EMAIL,
    SeedAccount,
    build_account,
)
from jobs_mcp.sandbox.transport import SandboxTransport

__all__ = [
    "ACTIVE_AUTH_ID",
    "BAD_CONFIG_JOB_ID",
    "FACEBOOK_AUTH_ID",
    "FACEBOOK_EXPORT_ID",
    "FACEBOOK_LOG_COUNT",
    "FAILED_JOB_ID",
    "HEALTHY_EXPORT_ID",
    "HIDDEN_JOB_ID",
    "KILLED_JOB_ID",
    "PAUSED_JOB_ID",
    "RATE_LIMITED_JOB_ID",
    "STALE_JOB_ID",
    "USER_EMAIL",
    "ConnectionDropped",
    "FaultInjector",
    "SandboxTransport",
    "SeedAccount",
    "build_account",
    "create_lytics_app",
    "parse_fault_spec",
]
