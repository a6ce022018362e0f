"""Help text more than one command shows: what the server is, and every environment variable it reads."""

from __future__ import annotations

from jobs_mcp import registry

PLATFORMS = ", ".join(registry.names())
DESCRIPTION = f"""\
MCP server for safe, conversational control of data-platform jobs ({PLATFORMS}).
Reads run freely; log tools return short, exact digests instead of raw logs;
nothing changes until a person approves it. A platform without credentials
runs on its embedded sandbox: a simulated account that needs no network."""

# Every environment variable the server reads (config.py, remote.py); tests check that none is left out.
ENVIRONMENT = """\
environment:
  <PLATFORM>_API_TOKEN  a platform's API token, e.g. LYTICS_API_TOKEN, STRAIT_API_TOKEN (never logged)
  <PLATFORM>_API_URL    its API base URL (default: the platform's public API)
  <PLATFORM>_<EXTRA>    further settings a platform needs, e.g. STRAIT_PROJECT_ID, OWLMETRY_TEAM_ID
  JOBS_MCP_PROVIDERS    platforms to serve (same as --providers)
  JOBS_MCP_ACCOUNTS     TOML accounts file for several accounts (same as --accounts)
  JOBS_MCP_TIMEOUT      seconds per HTTP call (default 30; same as --timeout)
  JOBS_MCP_AUDIT_DB     audit log SQLite file (same as --audit-db; default ~/.local/state/jobs-mcp/audit.db,
                        under $XDG_STATE_HOME when that is set)
  JOBS_MCP_STATE        where pending proposals live (same as --state)
  JOBS_MCP_GATE_KEY     signing key for confirmation ids (default: generated once, kept 0600 beside the state;
                        required with --state redis://, the same on every replica)
  JOBS_MCP_AUTH_TOKENS  bearer tokens file for --http (same as --auth-tokens)
  JOBS_MCP_PERSON_PROOF lowest risk whose approval on the page needs a passkey or passphrase (--person-proof)
  JOBS_MCP_APPROVERS    the approvers file `jobs-mcp approver` writes (same as --approvers)"""
PROVIDERS_HELP = (
    f"platforms to serve: a comma-separated list of {PLATFORMS}, or all (default: those with credentials; "
    "with none anywhere, lytics). A platform without credentials runs on its sandbox"
)
AUDIT_HELP = "audit log SQLite file (default ~/.local/state/jobs-mcp/audit.db; or JOBS_MCP_AUDIT_DB)"
