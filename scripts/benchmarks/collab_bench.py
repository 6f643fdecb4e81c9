"""`scripts/bench collab`: this server's collab sessions against Hocuspocus 3.4.4, one workload, one run.

S sessions x 2 @hocuspocus/provider clients (one Node process, `js/collab_load.mjs`), each
appending a marker to `code` every 200 ms; the other client of the session times its arrival.
The same load runs against this server (`peerprep serve`, embedded Ray, SQLite; sessions
created over REST, JWTs for both users) and against `@hocuspocus/server` 3.4.4 (in-memory
documents, no extensions, `js/hocuspocus_server.mjs`), at S = 200 and S = 1,000. Printed:
relay latency p50/p99, server CPU per 1,000 relayed updates (the server's whole process
tree), memory per session (PSS with the sessions connected minus before), and the ratios.
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from reporting import finish

from api.core.security import TokenService
from benchmarks.measure import cpu_seconds_by_role, free_port, pss_bytes_by_role
from benchmarks.server import served

ROOT = Path(__file__).resolve().parents[2]
JS = Path(__file__).resolve().parent / "js"


def run_load(url: str, sessions: list[dict], server_pid: int, seconds: float) -> dict:
    """Connect every client, then measure the server while the load runs."""
    spec = {"url": url, "sessions": sessions, "intervalMs": 200, "warmupMs": 3000, "durationMs": int(seconds * 1000)}
    before_memory = pss_bytes_by_role(server_pid)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as spec_file:
        json.dump(spec, spec_file)
    load = subprocess.Popen(["node", str(JS / "collab_load.mjs"), f"@{spec_file.name}"], cwd=JS,
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    events = {}
    cpu_start = cpu_end = None
    for line in load.stdout:
        event = json.loads(line)
        events[event["event"]] = event
        if event["event"] == "measuring":
            cpu_start, started = cpu_seconds_by_role(server_pid), time.monotonic()
            memory = pss_bytes_by_role(server_pid)
        if event["event"] == "done":
            cpu_end, ended = cpu_seconds_by_role(server_pid), time.monotonic()
            break
    load.wait(60)
    done = events.get("done")
    if done is None or cpu_start is None or cpu_end is None:
        raise SystemExit(f"the load client failed: {events}")
    by_role = {role: spent - cpu_start.get(role, 0.0) for role, spent in cpu_end.items()}
    cpu = sum(by_role.values())
    per_1000_ms = 1000 / max(1, done["relayed"]) * 1000  # seconds of CPU → ms per 1,000 relayed updates
    return {
        "relayed": done["relayed"],
        "p50_ms": done["p50"],
        "p99_ms": done["p99"],
        "errors": done["errors"],
        "lost": done["lost"],
        "cpu_ms_per_1000": cpu * per_1000_ms,
        "cpu_share": cpu / (ended - started),
        "cpu_ms_per_1000_by_process": {
            role: round(spent * per_1000_ms, 1) for role, spent in by_role.items() if spent > 0
        },
        "memory_per_session_kb": (sum(memory.values()) - sum(before_memory.values())) / len(sessions) / 1024,
        "memory_per_session_kb_by_process": {
            role: round((used - before_memory.get(role, 0)) / len(sessions) / 1024, 1) for role, used in memory.items()
        },
    }


def ours(count: int, seconds: float) -> dict:
    secret = secrets.token_urlsafe(48)
    tokens = TokenService(secret, 3600)
    with served(JWT_SECRET=secret, COLLAB_SESSION_TTL_SECONDS="7200") as (base, server):
        admin = {"Authorization": f"Bearer {tokens.issue(1, 'ADMIN')}"}
        sessions = []
        with httpx.Client(base_url=base, timeout=60) as http:
            for n in range(count):
                first, second = 200_000 + 2 * n, 200_001 + 2 * n
                for user in (first, second):
                    http.post("/auth/login", params={"userId": user}).raise_for_status()
                body = {"topic": "Arrays", "difficulty": "Easy", "questionId": "1", "language": "python",
                        "user1ID": str(first), "user2ID": str(second)}  # fmt: skip
                made = http.post("/collab/sessions", json=body, headers=admin)
                made.raise_for_status()
                sessions.append({"name": made.json()["data"]["id"],
                                 "tokens": [tokens.issue(first, "USER"), tokens.issue(second, "USER")]})  # fmt: skip
        time.sleep(2)
        return run_load(base.replace("http", "ws") + "/collab/ws", sessions, server.pid, seconds)


def hocuspocus(count: int, seconds: float) -> dict:
    port = free_port()
    server = subprocess.Popen(["node", str(JS / "hocuspocus_server.mjs"), str(port)], cwd=JS, stdout=subprocess.PIPE,
                              text=True)  # fmt: skip
    try:
        assert json.loads(server.stdout.readline())["event"] == "listening"
        time.sleep(1)
        sessions = [{"name": f"doc-{n}", "tokens": ["x", "x"]} for n in range(count)]
        return run_load(f"ws://127.0.0.1:{port}", sessions, server.pid, seconds)
    finally:
        server.terminate()
        server.wait(30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, nargs="+", default=[200, 1000])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench-collab.json")
    parser.add_argument("--ours-only", action="store_true", help="this server alone, no Hocuspocus nor ratios")
    args = parser.parse_args()
    results: dict[str, dict] = {}
    lines = []
    for count in args.sessions:
        if args.ours_only:
            mine = results[str(count)] = ours(count, args.seconds)
            lines.append(
                f"S = {count}, this server alone: relay p99 {mine['p99_ms']:.1f} ms (p50 {mine['p50_ms']:.1f}), "
                f"CPU per 1,000 updates {mine['cpu_ms_per_1000']:.0f} ms {mine['cpu_ms_per_1000_by_process']}, "
                f"memory per session {mine['memory_per_session_kb']:.0f} KB"
            )
            print(lines[-1], flush=True)
            continue
        print(f"[S={count}] Hocuspocus 3.4.4", flush=True)
        baseline = hocuspocus(count, args.seconds)
        print(f"[S={count}] this server", flush=True)
        mine = ours(count, args.seconds)
        results[str(count)] = {"hocuspocus": baseline, "ours": mine}
        ratio = {key: mine[key] / baseline[key] for key in ("p99_ms", "cpu_ms_per_1000", "memory_per_session_kb")
                 if baseline[key]}  # fmt: skip
        results[str(count)]["ratios"] = ratio
        lines += [
            f"S = {count}: {mine['relayed']} updates relayed here, {baseline['relayed']} by Hocuspocus",
            f"  relay p99             {mine['p99_ms']:8.1f} ms vs {baseline['p99_ms']:8.1f} ms  = "
            f"{ratio.get('p99_ms', float('nan')):.2f}x  (target ≤ 1.5x; p50 {mine['p50_ms']:.1f} vs "
            f"{baseline['p50_ms']:.1f} ms)",
            f"  CPU per 1,000 updates {mine['cpu_ms_per_1000']:8.0f} ms vs {baseline['cpu_ms_per_1000']:8.0f} ms  = "
            f"{ratio.get('cpu_ms_per_1000', float('nan')):.2f}x  (target ≤ 1.5x; server busy "
            f"{mine['cpu_share'] * 100:.0f} % vs {baseline['cpu_share'] * 100:.0f} % of a core)",
            "  CPU by process here   "
            + ", ".join(
                f"{role} {spent:.0f}"
                for role, spent in sorted(mine["cpu_ms_per_1000_by_process"].items(), key=lambda item: -item[1])[:5]
            )
            + " ms",
            f"  memory per session    {mine['memory_per_session_kb']:8.0f} KB vs "
            f"{baseline['memory_per_session_kb']:8.0f} KB  = {ratio.get('memory_per_session_kb', float('nan')):.2f}x"
            "  (target ≤ 1x)",
            "  memory by process here "
            + ", ".join(
                f"{role} {used:.0f}"
                for role, used in sorted(mine["memory_per_session_kb_by_process"].items(), key=lambda item: -item[1])[
                    :3
                ]
            )
            + " KB",
            f"  errors {mine['errors']} / {baseline['errors']}, markers never seen {mine['lost']} / {baseline['lost']}",
        ]
        print("\n".join(lines[-7:]), flush=True)
    return finish(lines, results, args.json)


if __name__ == "__main__":
    sys.exit(main())
