"""Lytics cases for the provider-parametrized suites."""

from cases import Cases, Follow
from jobs_mcp.providers.lytics.simulator import (
    CYCLING_JOB_ID,
    FACEBOOK_EXPORT_ID,
    FAILED_JOB_ID,
    HEALTHY_EXPORT_ID,
    PAUSED_JOB_ID,
)

MISSING = "00000000000000000000000000000000"

CASES = Cases(
    provider="lytics",
    reads={
        "lytics_wait_for_job": {"job_id": FAILED_JOB_ID},
        "lytics_list_jobs": {},
        "lytics_get_job": {"job_id": FACEBOOK_EXPORT_ID},
        "lytics_list_workflows": {},
        "lytics_list_auths": {},
        "lytics_get_job_logs": {"job_id": FACEBOOK_EXPORT_ID, "page_size": 3},
        "lytics_list_account_job_logs": {},
        "lytics_list_streams": {},
        "lytics_list_schema_fields": {},
        "lytics_get_event_quota": {},
    },
    writes={
        "lytics_create_job": {
            "name": "Test export",
            "workflow": "webhook_triggers",
            "config": {"webhook_url": "https://example.com/hook"},
        },
        "lytics_update_job": {"job_id": HEALTHY_EXPORT_ID, "description": "changed by a test"},
        "lytics_pause_job": {"job_id": HEALTHY_EXPORT_ID},
        "lytics_resume_job": {"job_id": PAUSED_JOB_ID},
        "lytics_bounce_job": {"job_id": HEALTHY_EXPORT_ID},
        "lytics_release_job": {"job_id": HEALTHY_EXPORT_ID},
        "lytics_kill_job": {"job_id": FAILED_JOB_ID},
    },
    not_found={
        "lytics_wait_for_job": {"job_id": MISSING},
        "lytics_get_job": {"job_id": MISSING},
        "lytics_get_job_logs": {"job_id": MISSING},
        "lytics_pause_job": {"job_id": MISSING},
    },
    list_route=("GET", "/v2/job"),
    list_tool="lytics_list_jobs",
    extra_reads=[
        ("lytics_list_jobs", {"show_all": True, "show_state": True}),
        (
            "lytics_get_job_logs",
            {"job_id": FACEBOOK_EXPORT_ID, "page_size": 3, "page_from": "newest", "level": "error"},
        ),
    ],
    streamed_logs=[
        ("lytics_get_job_logs", {"job_id": FACEBOOK_EXPORT_ID}, "/v2/job/*/logs"),
        ("lytics_list_account_job_logs", {}, "/v2/job/logs"),
    ],
    follow=Follow(
        tool="lytics_wait_for_job",
        ended={"job_id": FAILED_JOB_ID},
        ends={"job_id": CYCLING_JOB_ID},
        ends_as="sleeping",
        stays={"job_id": HEALTHY_EXPORT_ID},
        route="/v2/job/*",
        after=("lytics_resume_job", "lytics_bounce_job"),
    ),
)
