#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance) against `jobs-mcp serve --http`.
#
# Starts the server on a free loopback port (sandbox, audit db and state in a temp dir), runs the suite's active
# server scenarios against http://127.0.0.1:PORT/mcp, writes the suite's full output to a file, and prints one
# line of its own:  conformance: N passed, M failed, K in baseline
# Exits 1 when a scenario fails that tests/conformance/baseline.txt does not list (or the suite did not run).
#
# Needs `npm ci --prefix tests/node` (the suite and Node 22 live there) and `jobs-mcp` on PATH (or $JOBS_MCP).
# Env: CONFORMANCE_OUT=DIR keeps the suite's output, per-scenario results and verdicts there (default: a temp
# dir, removed when everything passes, kept and named otherwise); CONFORMANCE_BASELINE=FILE replaces baseline.txt.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node_bin="$root/tests/node/node_modules/.bin"
baseline="${CONFORMANCE_BASELINE:-$here/baseline.txt}"
jobs_mcp="${JOBS_MCP:-$(command -v jobs-mcp || true)}"

die() { echo "conformance: $*" >&2; exit 1; }
[ -x "$node_bin/conformance" ] || die "suite not installed: run \`npm ci --prefix tests/node\`"
[ -x "$node_bin/node" ] || die "Node 22 not installed: run \`npm ci --prefix tests/node\`"
[ -n "$jobs_mcp" ] && [ -x "$jobs_mcp" ] || die "jobs-mcp not found (activate the venv or set JOBS_MCP)"
# The suite's `#!/usr/bin/env node` must find Node 22 (it uses fs.globSync), not the system's node.
export PATH="$node_bin:$PATH"
case "$(node --version)" in v2[2-9].*|v[3-9][0-9].*) ;; *) die "need Node >= 22, found $(node --version)";; esac

work="$(mktemp -d "${TMPDIR:-/tmp}/jobs-mcp-conformance.XXXXXX")"
out="${CONFORMANCE_OUT:-$work/out}"
mkdir -p "$out" && rm -rf "$out/results"  # a kept CONFORMANCE_OUT must not mix in an older run
log="$out/suite.log"
server_pid=""
keep=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ -z "$keep" ] && [ -z "${CONFORMANCE_OUT:-}" ]; then rm -rf "$work"; else rm -rf "$work/state"; fi
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"

# A clean environment: no platform credentials (so every platform is its sandbox), state under the temp dir.
mkdir -p "$work/state"
unset_args=()
for name in $(compgen -e); do
  case "$name" in JOBS_MCP_*|LYTICS_*|ARROYO_*|OWLMETRY_*|WISEROWS_*|STRAIT_*) unset_args+=(-u "$name");; esac
done
env ${unset_args[@]+"${unset_args[@]}"} XDG_STATE_HOME="$work/state" \
  "$jobs_mcp" serve --http --port "$port" --audit-db "$work/state/audit.db" >"$out/server.log" 2>&1 &
server_pid=$!

for _ in $(seq 100); do
  if curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1; then break; fi
  kill -0 "$server_pid" 2>/dev/null || { keep=1; die "server exited at start; see $out/server.log"; }
  sleep 0.2
done
curl -fsS --max-time 2 "$url/healthz" >/dev/null 2>&1 || { keep=1; die "server not healthy after 20 s; see $out/server.log"; }

# The suite exits 1 on any failure; our verdict comes from its per-scenario results below, against baseline.txt.
set +e
(cd "$work" && timeout 300 conformance server --url "$url/mcp" --output-dir "$out/results") >"$log" 2>&1
suite_rc=$?
set -e
[ "$suite_rc" -le 1 ] || { keep=1; die "suite did not finish (exit $suite_rc); see $log"; }

# Per scenario: the suite's summary names the scenarios it ran; results/server-<scenario>-<timestamp>/checks.json
# holds each one's checks. A scenario fails when any check is FAILURE (or its results are missing). The verdict
# per scenario goes to verdict.txt; only unexpected failures, stale baseline entries and the summary are printed.
set +e
python3 - "$log" "$out/results" "$baseline" "$out/verdict.txt" <<'PY'
import json, pathlib, re, sys

log, results, baseline = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3]
verdict = open(sys.argv[4], "w")


def say(line: str, loud: bool = False) -> None:
    verdict.write(line + "\n")
    if loud:
        print(line)


ran = re.findall(r"^[✓✗] ([\w./-]+): \d+ passed, \d+ failed", log.read_text(), re.M)
if not ran:
    print(f"conformance: the suite reported no scenarios; see {log}", file=sys.stderr)
    sys.exit(1)
known = {}
for line in pathlib.Path(baseline).read_text().splitlines():
    name, _, reason = line.partition("#")
    if name.strip():
        known[name.strip()] = reason.strip()
stamp = re.compile(r"-\d{4}-\d\d-\d\dT[\d-]+Z$")
checks = {}
for d in results.iterdir():
    if d.name.startswith("server-") and (d / "checks.json").is_file():
        checks[stamp.sub("", d.name[len("server-"):])] = json.loads((d / "checks.json").read_text())
passed, failed, expected = [], [], []
for name in ran:
    bad = [c for c in checks.get(name, [{"status": "FAILURE", "errorMessage": "no results"}]) if c.get("status") == "FAILURE"]
    if not bad:
        passed.append(name)
        stale = name in known
        say(f"  pass  {name}" + ("   (stale: listed in baseline.txt, remove it)" if stale else ""), loud=stale)
    elif name in known:
        expected.append(name)
        say(f"  base  {name}   # {known[name]}")
    else:
        failed.append(name)
        why = "; ".join((c.get("errorMessage") or c.get("id", "?"))[:200] for c in bad)
        say(f"  FAIL  {name}: {why}", loud=True)
for name in sorted(set(known) - set(ran)):
    say(f"  note  {name} is in baseline.txt but the suite did not run it", loud=True)
summary = f"conformance: {len(passed)} passed, {len(failed)} failed, {len(expected)} in baseline"
say(summary, loud=True)
sys.exit(1 if failed else 0)
PY
verdict=$?
set -e
if [ "$verdict" -ne 0 ]; then
  keep=1
  echo "conformance: per-scenario verdicts in $out/verdict.txt, full suite output in $log" >&2
  exit 1
fi
