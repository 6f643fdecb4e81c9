"""The final report of a load test: a JSON document, its text rendering, and a PNG of the run over time."""

from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure

from benchmarks.loadtest.context import Context
from benchmarks.loadtest.recorder import MATCH, PUSH, RELAY, REQUEST, ROOM_SETUP, summary
from benchmarks.loadtest.server_probe import ServerMonitor
from benchmarks.reporting import finish

MIB = 2**20


def _rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else 0.0


def _mib(value: int | None) -> float | None:
    return None if value is None else value / MIB


def build(
    context: Context, monitor: ServerMonitor, elapsed: float, stopped: str, target: dict, cleanup: dict[str, int]
) -> dict:
    recorder, options, counts = context.recorder, context.options, context.recorder.counts
    started_seconds = [i for i, second in enumerate(recorder.seconds) if second.counts.get("rooms_started")]
    setup_span = started_seconds[-1] + 1 if started_seconds else 0
    rooms_done = counts["rooms_completed"] + counts["rooms_failed"]
    collab_done = counts["collab_completed"] + counts["collab_failed"]
    pairs = options.matching // 2
    timeline = []
    for index, second in enumerate(recorder.seconds):
        push = summary(second.latencies.get(PUSH, []))
        relay = summary(second.latencies.get(RELAY, []))
        timeline.append({
            "t": index,
            "requests": second.counts.get(REQUEST, 0),
            "submissions": second.counts.get("submissions", 0),
            "pushes": second.counts.get(PUSH, 0),
            "relays": second.counts.get(RELAY, 0),
            "matches": second.counts.get("matches", 0),
            "errors": second.counts.get("errors", 0),
            "push_p50_ms": push["p50"], "push_p95_ms": push["p95"], "push_p99_ms": push["p99"],
            "relay_p99_ms": relay["p99"],
            "server_cpu_cores": second.server_cpu_cores,
            "server_memory_mib": _mib(second.server_memory_bytes),
        })  # fmt: skip
    measured = bool(monitor.memory)
    server = {"pid": monitor.pid, "found": monitor.found, "measured": measured, "samples": len(monitor.memory)}
    if measured:
        span = monitor.cpu_span
        server["memory_pss_mib"] = {"start": _mib(monitor.memory[0]), "peak": _mib(max(monitor.memory)),
                                    "end": _mib(monitor.memory[-1])}  # fmt: skip
        server["cpu_cores"] = {"mean": monitor.cpu_total / span if span else None,
                               "peak": max(monitor.cores) if monitor.cores else None}  # fmt: skip
    client_cpu = monitor.client_cpu_seconds()
    by_route = {
        route: {"count": len(values), "errors": recorder.route_errors[route], **summary(values)}
        for route, values in sorted(recorder.routes.items())
    }
    return {
        "target": target,
        "options": {**vars(options), "auth": context.users.mode},
        "run": {"elapsed_s": elapsed, "stopped": stopped, "users": next(context.users.numbers) - 1},
        "rooms": {
            "asked": options.rooms,
            "started": counts["rooms_started"],
            "completed": counts["rooms_completed"],
            "failed": counts["rooms_failed"],
            "cut_short": options.rooms - rooms_done,
            "completed_per_s": _rate(counts["rooms_completed"], elapsed),
            "started_per_s": _rate(counts["rooms_started"], setup_span),
            "setup_ms": summary(recorder.latencies[ROOM_SETUP]),
        },
        "submissions": {
            "sent": counts["submissions"],
            "right": counts["submissions_right"],
            "wrong": counts["submissions_wrong"],
            "per_s": _rate(counts["submissions"], elapsed),
            "push_latency_ms": summary(recorder.latencies[PUSH]),
        },
        "collab": {
            "asked": options.collab,
            "protocol": options.collab_protocol,
            "started": counts["collab_started"],
            "completed": counts["collab_completed"],
            "failed": counts["collab_failed"],
            "cut_short": options.collab - collab_done,
            "edits": counts["edits"],
            "edits_lost": counts["edits_lost"],
            "relay_latency_ms": summary(recorder.latencies[RELAY]),
        },
        "matching": {
            "users": options.matching,
            "pairs_asked": pairs,
            "matched_pairs": counts["matches"],
            "failed": counts["matches_failed"],
            "cut_short": pairs - counts["matches"] - counts["matches_failed"],
            "matches_per_s": _rate(counts["matches"], elapsed),
            "match_latency_ms": summary(recorder.latencies[MATCH]),
        },
        "requests": {
            "total": len(recorder.latencies[REQUEST]),
            "per_s": _rate(len(recorder.latencies[REQUEST]), elapsed),
            "latency_ms": summary(recorder.latencies[REQUEST]),
            "by_route": by_route,
        },
        "errors": {"total": sum(recorder.errors.values()), "by_kind": dict(recorder.errors.most_common())},
        "server": server,
        "client": {"cpu_seconds": client_cpu, "cpu_cores_mean": _rate(client_cpu, elapsed)},
        "cleanup": cleanup,
        "timeline": timeline,
    }


def _ms(figures: dict) -> str:
    if not figures["count"]:
        return "none measured"
    return (f"p50 {figures['p50']:.1f} ms, p95 {figures['p95']:.1f} ms, p99 {figures['p99']:.1f} ms, "
            f"max {figures['max']:.1f} ms ({figures['count']})")  # fmt: skip


def text(report: dict) -> list[str]:
    rooms, subs, collab, matching = report["rooms"], report["submissions"], report["collab"], report["matching"]
    requests, errors, server, client = report["requests"], report["errors"], report["server"], report["client"]
    run, options = report["run"], report["options"]
    lines = [
        f"load test of {report['target']['url']} ({report['target']['server']}): {run['elapsed_s']:.1f} s, "
        f"{run['stopped']}; {run['users']} users by {options['auth']} login, {options['code']} code, "
        f"seed {options['seed']}",
        f"rooms        {rooms['asked']} asked: {rooms['started']} started, {rooms['completed']} completed, "
        f"{rooms['failed']} failed, {rooms['cut_short']} cut short; {rooms['completed_per_s']:.2f} rooms/s "
        f"completed, {rooms['started_per_s']:.2f} rooms/s set up",
        f"room setup   {_ms(rooms['setup_ms'])}",
        f"submissions  {subs['sent']} ({subs['right']} right, {subs['wrong']} wrong), {subs['per_s']:.1f}/s",
        f"push         submit → STOMP MESSAGE reflecting it on both clients: {_ms(subs['push_latency_ms'])}",
        f"collab       {collab['asked']} asked ({collab['protocol']}): {collab['started']} started, "
        f"{collab['completed']} completed, {collab['failed']} failed, {collab['cut_short']} cut short; "
        f"{collab['edits']} edits, {collab['edits_lost']} lost",
        f"relay        edit → applied by the partner: {_ms(collab['relay_latency_ms'])}",
        f"matching     {matching['users']} users, {matching['matched_pairs']}/{matching['pairs_asked']} pairs "
        f"matched, {matching['failed']} failed, {matching['cut_short']} cut short; "
        f"{matching['matches_per_s']:.2f} matches/s",
        f"match        POST /matching/requests → MATCH_FOUND on SSE: {_ms(matching['match_latency_ms'])}",
        f"requests     {requests['total']}, {requests['per_s']:.1f}/s; {_ms(requests['latency_ms'])}",
    ]
    for route, figures in requests["by_route"].items():
        lines.append(f"  {route:34} {figures['count']:7} requests, {figures['errors']:5} errors, "
                     f"p50 {figures['p50']:.1f} ms, p99 {figures['p99']:.1f} ms")  # fmt: skip
    lines.append(f"errors       {errors['total']}")
    lines += [f"  {count:7}  {kind}" for kind, count in errors["by_kind"].items()]
    if server["measured"]:
        memory, cpu = server["memory_pss_mib"], server["cpu_cores"]
        mean = "-" if cpu["mean"] is None else f"{cpu['mean']:.2f}"
        peak = "-" if cpu["peak"] is None else f"{cpu['peak']:.2f}"
        lines.append(
            f"server       pid {server['pid']} ({server['found']}), process tree: memory (PSS) "
            f"{memory['start']:.0f} MiB at start, {memory['peak']:.0f} MiB peak, {memory['end']:.0f} MiB at end; "
            f"CPU {mean} cores mean, {peak} peak"
        )
    else:
        lines.append(f"server       memory and CPU {server['found']}")
    lines.append(f"client       CPU {client['cpu_seconds']:.1f} s, {client['cpu_cores_mean']:.2f} cores mean")
    cleanup = report["cleanup"]
    if any(cleanup.values()):
        lines.append(
            f"cleanup      after the run: {cleanup['rooms_ended']} rooms ended, {cleanup['collab_sessions_ended']} "
            f"collab sessions ended, {cleanup['match_requests_cancelled']} match requests cancelled, "
            f"{cleanup['left']} left as they were"
        )
    return lines


def plot(report: dict, path: Path) -> None:
    """Push latency percentiles, throughput and the server's CPU and memory, per second of the run."""
    timeline = report["timeline"]
    seconds = [row["t"] for row in timeline]
    figure = Figure(figsize=(11, 10), layout="constrained")
    latency, throughput, server = figure.subplots(3, 1, sharex=True)
    for key, label in (("push_p50_ms", "push p50"), ("push_p95_ms", "push p95"), ("push_p99_ms", "push p99"),
                       ("relay_p99_ms", "collab relay p99")):  # fmt: skip
        points = [(row["t"], row[key]) for row in timeline if row[key] is not None]
        if points:
            latency.plot(*zip(*points, strict=True), label=label, linestyle="--" if key.startswith("relay") else "-")
    latency.set_ylabel("latency (ms)")
    asked = (f"{report['rooms']['asked']} rooms, {report['collab']['asked']} collab sessions, "
             f"{report['matching']['users']} matching users")  # fmt: skip
    latency.set_title(f"load test of {report['target']['url']}: {asked}")
    for key, label in (("requests", "HTTP requests"), ("submissions", "submissions"), ("pushes", "pushes"),
                       ("relays", "collab relays"), ("matches", "matches"), ("errors", "errors")):  # fmt: skip
        throughput.plot(seconds, [row[key] for row in timeline], label=label)
    throughput.set_ylabel("per second")
    cpu = [(row["t"], row["server_cpu_cores"]) for row in timeline if row["server_cpu_cores"] is not None]
    memory = [(row["t"], row["server_memory_mib"]) for row in timeline if row["server_memory_mib"] is not None]
    if cpu:
        server.plot(*zip(*cpu, strict=True), color="tab:red", label="server CPU (cores)")
    server.set_ylabel("CPU (cores)")
    if memory:
        twin = server.twinx()
        twin.plot(*zip(*memory, strict=True), color="tab:purple", label="server memory (PSS, MiB)")
        twin.set_ylabel("memory (MiB)")
        twin.legend(loc="upper right")
    if not cpu and not memory:
        server.text(0.5, 0.5, f"server {report['server']['found']}", ha="center", va="center",
                    transform=server.transAxes)  # fmt: skip
    server.set_xlabel("seconds since the start")
    for axes in (latency, throughput, server):
        axes.grid(alpha=0.3)
        if axes.get_legend_handles_labels()[0]:
            axes.legend(loc="upper left")
    figure.savefig(path, dpi=100)


def write(report: dict, out: Path) -> None:
    """Print the text, and write it, the JSON and the plot to `out` as report.txt, report.json, report.png."""
    lines = text(report)
    finish(lines, report, out / "report.json")
    (out / "report.txt").write_text("\n".join(lines) + "\n")
    plot(report, out / "report.png")
    print(f"report: {out / 'report.txt'}, plot: {out / 'report.png'}")
