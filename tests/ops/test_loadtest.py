"""`scripts/loadtest` against a real server: `peerprep serve` on the embedded defaults (SQLite, its own
Ray) with DEV_LOGIN and the deterministic test judge, started by the benchmarks' `served()`.

The load tester runs as the command does (`python -m benchmarks.loadtest`), finds the server's
process by its port, and its report must account for everything it was asked to do, error-free.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.server import served

ROOT = Path(__file__).resolve().parents[2]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
SECTIONS = {"target", "options", "run", "rooms", "submissions", "collab", "matching", "requests", "errors", "server",
            "client", "cleanup", "timeline"}  # fmt: skip
PROBLEMS_PER_ROOM = 3  # CONTEST_PROBLEM_COUNT's default


@pytest.fixture(scope="module")
def server():
    with served(JUDGE_BACKEND="test") as (base_url, process):
        yield base_url, process


def loadtest(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{ROOT}:{ROOT / 'scripts'}"}
    command = [sys.executable, "-m", "benchmarks.loadtest", *args]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def positive_percentiles(figures: dict, count: int) -> None:
    assert figures["count"] == count
    assert 0 < figures["p50"] <= figures["p95"] <= figures["p99"] <= figures["max"]


def test_a_small_run_does_all_it_was_asked_and_reports_every_figure_without_error(server, tmp_path):
    base_url, process = server
    rooms, sessions, matching, edits, wrong_per_right = 4, 2, 4, 5, 1
    run = loadtest(
        "--url", base_url, "--rooms", str(rooms), "--collab", str(sessions), "--matching", str(matching),
        "--duration", "240", "--submit-every", "2.2", "--wrong-per-right", str(wrong_per_right),
        "--edits", str(edits), "--edit-every", "0.2", "--match-wait", "0.5", "--out", str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert set(report) == SECTIONS
    assert report["run"]["stopped"] == "all work done"
    assert report["options"]["auth"] == "dev"

    assert {key: report["rooms"][key] for key in ("asked", "started", "completed", "failed", "cut_short")} == {
        "asked": rooms, "started": rooms, "completed": rooms, "failed": 0, "cut_short": 0}  # fmt: skip
    assert report["rooms"]["completed_per_s"] > 0 and report["rooms"]["started_per_s"] > 0
    positive_percentiles(report["rooms"]["setup_ms"], rooms)
    per_kind = rooms * 2 * PROBLEMS_PER_ROOM
    submissions = report["submissions"]
    assert (submissions["right"], submissions["wrong"]) == (per_kind, per_kind * wrong_per_right)
    assert submissions["sent"] == per_kind * (1 + wrong_per_right) and submissions["per_s"] > 0
    positive_percentiles(submissions["push_latency_ms"], submissions["sent"])

    collab = report["collab"]
    assert (collab["started"], collab["completed"], collab["failed"], collab["cut_short"]) == (sessions, sessions, 0, 0)
    assert (collab["edits"], collab["edits_lost"]) == (sessions * 2 * edits, 0)
    positive_percentiles(collab["relay_latency_ms"], sessions * 2 * edits)
    pairs = report["matching"]
    assert (pairs["matched_pairs"], pairs["failed"], pairs["cut_short"]) == (matching // 2, 0, 0)
    positive_percentiles(pairs["match_latency_ms"], matching // 2)

    requests = report["requests"]
    assert requests["total"] == sum(route["count"] for route in requests["by_route"].values())
    assert requests["per_s"] > 0
    assert requests["by_route"]["POST /rooms/submit"]["count"] == submissions["sent"]
    assert requests["by_route"]["POST /rooms/end"]["count"] == rooms
    assert all(route["errors"] == 0 for route in requests["by_route"].values())
    assert report["errors"] == {"total": 0, "by_kind": {}}

    server_figures = report["server"]
    assert server_figures["pid"] == process.pid and server_figures["measured"]
    assert all(value > 0 for value in server_figures["memory_pss_mib"].values())
    assert server_figures["cpu_cores"]["mean"] > 0
    assert report["cleanup"] == {"rooms_ended": 0, "collab_sessions_ended": 0, "match_requests_cancelled": 0,
                                 "left": 0}  # fmt: skip
    assert sum(second["submissions"] for second in report["timeline"]) == submissions["sent"]

    text = (tmp_path / "report.txt").read_text()
    assert text in run.stdout
    assert "errors       0\n" in text and f"pid {process.pid}" in text
    width, height = png_size(tmp_path / "report.png")
    assert width > 0 and height > 0


def test_the_duration_bounds_the_run_and_what_it_cut_short_is_cleaned_up(server, tmp_path):
    base_url, _ = server
    run = loadtest(
        "--url", base_url, "--rooms", "2", "--collab", "0", "--matching", "2", "--duration", "4",
        "--submit-every", "60", "--match-wait", "60", "--seed", "2", "--out", str(tmp_path),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    # Seed 2 draws first submissions 53 and 50 s and the second matching user 42 s in: all past the 4 s run.
    assert report["options"]["seed"] == 2 and "seed 2" in run.stdout
    assert report["run"]["stopped"] == "duration reached"
    assert (report["rooms"]["started"], report["rooms"]["completed"], report["rooms"]["cut_short"]) == (2, 0, 2)
    assert (report["matching"]["matched_pairs"], report["matching"]["cut_short"]) == (0, 1)
    assert report["errors"]["total"] == 0
    assert report["cleanup"] == {"rooms_ended": 2, "collab_sessions_ended": 0, "match_requests_cancelled": 1,
                                 "left": 0}  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "complaint"),
    [
        (["--matching", "3"], "--matching must be even"),
        (["--rooms", "500000"], "a run makes at most 999,999 users"),
        (["--duration", "0"], "must be above 0"),
        (["--serve", "--server-pid", "1"], "--server-pid measures a running server"),
    ],
)
def test_options_out_of_bounds_are_refused_before_anything_runs(arguments, complaint):
    run = loadtest(*arguments)
    assert run.returncode == 2
    assert complaint in run.stderr
