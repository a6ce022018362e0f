"""Arroyo cases for the provider-parametrized suites."""

from cases import Cases, Follow
from jobs_mcp.providers.arroyo.seed import (
    FAILED_JOB_ID,
    FAILED_PIPELINE_ID,
    FINISHED_PIPELINE_ID,
    HEALTHY_PIPELINE_ID,
    PREVIEW_PIPELINE_ID,
    STARTING_PIPELINE_ID,
    STOPPED_PIPELINE_ID,
)

MISSING = "pl_0000000000"
QUERY = (
    "INSERT INTO order_revenue_1m\nSELECT tumble(interval '1 minute') AS window, store_id, count(*) AS orders\n"
    "FROM orders GROUP BY window, store_id;"
)

CASES = Cases(
    provider="arroyo",
    reads={
        "arroyo_wait_for_job": {"pipeline_id": FAILED_PIPELINE_ID, "state": "Running"},
        "arroyo_list_pipelines": {},
        "arroyo_get_pipeline": {"pipeline_id": HEALTHY_PIPELINE_ID},
        "arroyo_list_jobs": {},
        "arroyo_get_job": {"pipeline_id": FAILED_PIPELINE_ID},
        "arroyo_get_job_errors": {"pipeline_id": FAILED_PIPELINE_ID, "job_id": FAILED_JOB_ID, "page_size": 3},
        "arroyo_list_checkpoints": {"pipeline_id": HEALTHY_PIPELINE_ID},
        "arroyo_get_checkpoint": {"pipeline_id": FINISHED_PIPELINE_ID, "epoch": 3},
        "arroyo_get_operator_metrics": {"pipeline_id": HEALTHY_PIPELINE_ID},
        "arroyo_sample_output": {"pipeline_id": PREVIEW_PIPELINE_ID, "records": 5, "seconds": 3},
        "arroyo_validate_query": {"query": QUERY},
    },
    writes={
        "arroyo_create_pipeline": {"name": "revenue-test", "query": QUERY, "parallelism": 2},
        "arroyo_stop_pipeline": {"pipeline_id": HEALTHY_PIPELINE_ID, "mode": "checkpoint"},
        "arroyo_start_pipeline": {"pipeline_id": STOPPED_PIPELINE_ID},
        "arroyo_restart_pipeline": {"pipeline_id": FAILED_PIPELINE_ID},
        "arroyo_rescale_pipeline": {"pipeline_id": HEALTHY_PIPELINE_ID, "parallelism": 6},
        "arroyo_delete_pipeline": {"pipeline_id": FINISHED_PIPELINE_ID},
    },
    not_found={
        "arroyo_wait_for_job": {"pipeline_id": MISSING, "state": "Running"},
        "arroyo_get_pipeline": {"pipeline_id": MISSING},
        "arroyo_get_job": {"pipeline_id": MISSING},
        "arroyo_get_job_errors": {"pipeline_id": MISSING},
        "arroyo_list_checkpoints": {"pipeline_id": HEALTHY_PIPELINE_ID, "job_id": "job_0000000000"},
        "arroyo_stop_pipeline": {"pipeline_id": MISSING},
        "arroyo_get_checkpoint": {"pipeline_id": HEALTHY_PIPELINE_ID, "epoch": 1},
    },
    list_route=("GET", "/api/v1/pipelines"),
    list_tool="arroyo_list_pipelines",
    extra_reads=[
        ("arroyo_list_jobs", {"state": "Failed"}),
        ("arroyo_list_jobs", {"running": True}),
        ("arroyo_list_pipelines", {"limit": 2}),
        ("arroyo_validate_query", {"query": "SELECT * FROM nowhere"}),
    ],
    follow=Follow(
        tool="arroyo_wait_for_job",
        ended={"pipeline_id": FAILED_PIPELINE_ID, "state": "Running"},
        ends={"pipeline_id": STARTING_PIPELINE_ID, "state": "Running"},
        ends_as="Running",
        stays={"pipeline_id": HEALTHY_PIPELINE_ID, "state": "Stopped"},
        route="/api/v1/pipelines/*/jobs",
        after=("arroyo_start_pipeline", "arroyo_restart_pipeline", "arroyo_stop_pipeline"),
    ),
)
