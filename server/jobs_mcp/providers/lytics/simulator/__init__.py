"""A faithful local simulator of the Lytics HTTP API (see app.py for the routes, seed.py for the demo account).

Used in-process by the server through ``SandboxTransport`` and over real HTTP by ``jobs-mcp sandbox --provider lytics``.
"""

from jobs_mcp.providers.lytics.simulator.app import create_app
from jobs_mcp.providers.lytics.simulator.seed import (
    ACTIVE_AUTH_ID,
    BAD_CONFIG_JOB_ID,
    CYCLE_SECONDS,
    CYCLING_JOB_ID,
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

__all__ = [
    "ACTIVE_AUTH_ID",
    "BAD_CONFIG_JOB_ID",
    "CYCLE_SECONDS",
    "CYCLING_JOB_ID",
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
    "SeedAccount",
    "build_account",
    "create_app",
]
