"""OwlMetry's part of ``jobs-mcp demo``: this week's runs, a failed Apple Ads sync examined, and a cooperative cancel
of the running one through the gate."""

from __future__ import annotations

from jobs_mcp.demo import Step, confirm_previous
from jobs_mcp.providers.owlmetry.seed import FAILED_MIDWAY_RUN_ID, RUNNING_RUN_ID

STEPS = (
    Step("Which OwlMetry jobs ran this week?", "owlmetry_list_job_runs", {"since": "7d", "limit": 10}),
    Step("Why did the Apple Ads sync fail?", "owlmetry_get_job_run", {"run_id": FAILED_MIDWAY_RUN_ID}),
    Step("Stop the Apple Ads sync that is running now.", "owlmetry_cancel_job_run", {"run_id": RUNNING_RUN_ID}),
    Step("Yes, cancel it.", "confirm_action", confirm_previous),
)
