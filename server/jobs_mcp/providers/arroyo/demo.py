"""Arroyo's part of ``jobs-mcp demo``: a failed pipeline's errors digested, then a gated stop of a healthy one."""

from __future__ import annotations

from jobs_mcp.demo import Step, confirm_previous
from jobs_mcp.providers.arroyo.seed import FAILED_PIPELINE_ID, HEALTHY_PIPELINE_ID

STEPS = (
    Step("Which Arroyo pipelines do we run?", "arroyo_list_pipelines"),
    Step("Why did the payments pipeline fail?", "arroyo_get_job_errors", {"pipeline_id": FAILED_PIPELINE_ID}),
    Step("Stop the orders pipeline, keeping its state.", "arroyo_stop_pipeline", {"pipeline_id": HEALTHY_PIPELINE_ID}),
    Step("Yes, stop it.", "confirm_action", confirm_previous),
)
