"""Lytics' part of ``jobs-mcp demo``: a failing export debugged from its log, the account's logs, the health report,
and a pause of that same export (until its token is reconnected) through the gate."""

from __future__ import annotations

from jobs_mcp.demo import Step, confirm_previous
from jobs_mcp.providers.lytics.simulator.seed import FACEBOOK_EXPORT_ID

STEPS = (
    Step("Which Lytics jobs do we have?", "lytics_list_jobs"),
    Step("Why did my Facebook export stop?", "lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID}),
    Step("Anything else failing across the account today?", "lytics_list_account_job_logs", {"top": 5}),
    Step("How healthy is our data overall?", "data_health_report"),
    Step("Pause the Facebook export until we reconnect its token.", "lytics_pause_job", {"job_id": FACEBOOK_EXPORT_ID}),
    Step("Yes, pause it.", "confirm_action", confirm_previous),
)
