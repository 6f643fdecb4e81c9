"""The seeds' own frontends run against this server unchanged: the real g16 PeerPrep frontend, in Chromium.

The frontend is the React app (Vite, TanStack Router, Monaco, @hocuspocus/provider) of
CS3219-AY2526Sem1/cs3219-ay2526s1-project-g16 at commit 256f8d4abc5ae49087efdfb6851579789111a5db,
the group's last. None of it is kept in this repository. `tests/browser/g16_frontend.py` takes
its `frontend/` from the local mirror of that repository's git data (`git archive <commit>
frontend | tar -x`; PEERPREP_G16_MIRROR names the mirror when it is not the default one) into
`${XDG_CACHE_HOME:-~/.cache}/peerprep/g16-frontend-<commit>/`, runs `npm ci` there from the
frontend's own package-lock.json and builds it with its own Vite config. That build is cached,
keyed by the commit and the build settings, and made again only when it is missing (the first
one takes about a minute; delete the directory to force one). Without the mirror (or without git,
node or npm to build it) the test is skipped, and says why.

The frontend is configured, not changed: `src/constants.ts` reads every backend URL from
`VITE_DEV_USER_SERVICE_URL`, `VITE_DEV_QN_SERVICE_URL`, `VITE_DEV_MATCH_SERVICE_URL`,
`VITE_DEV_ATTEMPT_SERVICE_URL`, `VITE_DEV_COLLAB_SERVICE_URL` and `VITE_DEV_CODERUNNER_SERVICE_URL`
when `import.meta.env.DEV` is true, which a build gives with `NODE_ENV=development vite build
--mode development`. The cached build has them all on the placeholder origin
`http://peerprep-api.invalid:1`, with this server's paths for them on its one port: `/user`,
`/questionBank`, `/match`, `/attempt`, `/collab` (its WebSocket `/collab/ws/{roomId}` is derived
from it by the frontend), and the root for the code runner (the frontend posts to `${url}/run`).
Each test copies the build into its temporary directory with the placeholder replaced by the
server's real base URL, and serves the copy from a small static server in a thread (index.html for
any path that is not a file, as the app routes on the client), on a port of its own: the frontend
and the API are two origins, as in production, and CORS lets the frontend's through.

The server is the real `peerprep serve` in a subprocess: a fresh SQLite database in the test's
directory, `peerprep migrate` and `peerprep seed-questions`, the sandbox judge when bubblewrap
works here (else the test judge, and then the story checks only that the run shows some output),
`FRONTEND_URL` set to the frontend's origin, `DEV_LOGIN` off: the two users register through the
frontend like anyone.

`tests/browser/g16_story.mjs` drives Debian's Chromium (`/usr/bin/chromium`, which
`scripts/lib/browser.sh` installs; no browser is downloaded) with playwright-core from
tests/js/node_modules, headless, as two people in two browser contexts (two cookie jars): each
registers (the register page then logs in) and lands on the home page; both pick the same topic,
difficulty and language and ask for a match; A waits on the EventSource and is matched by its
MATCH_FOUND event, B by the HTTP answer; both land on /collab?roomId=…; A types a line into the
Monaco editor and B sees it, B types one and A sees it; A runs the code and sees its output; A
saves the attempt, opens "My Account" and finds it listed, with B as the partner.

Every step leaves screenshots in var/test-artifacts/g16/ (NN-<step>-<a|b>.png, emptied at the
start of each run), with the story's results (story.json) and the server's log (server.log). A
failure names the step, what it waited for, and per user the requests the server refused (status,
method, URL), requests that failed outright, console errors, page errors and WebSockets.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from ops.serving import wait_ready
from tests.browser import g16_frontend
from tests.js_clients import JS_DIR
from tests.services import free_port
from tests.test_server_e2e import PEERPREP, ROOT, stop

CHROMIUM = Path("/usr/bin/chromium")
STORY = Path(__file__).resolve().parent / "g16_story.mjs"
ARTIFACTS = ROOT / "var" / "test-artifacts" / "g16"
STEP_TIMEOUT_MS = 30_000
STORY_TIMEOUT_MS = 240_000
USERS = [
    {"email": "ada.g16@example.com", "username": "ada_lovelace", "password": "ada-secret-1"},
    {"email": "bob.g16@example.com", "username": "bob_babbage", "password": "bob-secret-2"},
]
LINES = ['print("hello from A")', 'print("hello from B")']
OUTPUTS = ["hello from A", "hello from B"]


def _require_tools() -> str:
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is not installed: the browser test runs tests/browser/g16_story.mjs with `node`")
    if not (JS_DIR / "node_modules" / "playwright-core").is_dir():
        pytest.skip(
            "tests/js/node_modules lacks playwright-core: run `source scripts/lib/node.sh && ensure_node_clients`"
        )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"Chromium is not installed ({CHROMIUM}): run `source scripts/lib/browser.sh && ensure_browser`")
    reason = g16_frontend.unavailable_reason()
    if reason is not None:
        pytest.skip(f"the g16 frontend cannot be built: {reason}")
    return node


def _judge_backend() -> str:
    from judge.runner import SandboxRunner

    probe = SandboxRunner()
    try:
        return "sandbox" if probe.available(71) else "test"
    finally:
        probe.close()


def _server_environment(tmp_path: Path, port: int, frontend: str, judge: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if key not in ("RAY_ADDRESS", "RAY_AUTH_MODE", "RAY_AUTH_TOKEN", "REDIS_URL")}  # fmt: skip
    env.update(
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'peerprep.db'}",
        DATA_DIR=str(tmp_path / "var"),
        HOST="127.0.0.1",
        PORT=str(port),
        FRONTEND_URL=frontend,
        DEV_LOGIN="false",
        JUDGE_BACKEND=judge,
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_KIB="1024",
        PYTHONPATH=str(ROOT),
    )
    return env


def _report(done: dict, server_log: Path) -> str:
    """A failure's explanation: the step, what it waited for, and what each page saw go wrong."""
    lines = [f"the g16 story failed at step {done.get('failedStep')!r}: {done.get('error')}"]
    for who, seen in (done.get("diagnostics") or {}).items():
        lines.append(f"--- user {who.upper()}")
        for response in seen["failingResponses"]:
            body = (response.get("body") or "").replace("\n", " ")[:300]
            lines.append(f"  {response['status']} {response['method']} {response['url']}  {body}")
        for request in seen["failedRequests"]:
            kind = " (external, blocked by design)" if request["external"] else ""
            lines.append(f"  FAILED {request['method']} {request['url']}: {request['error']}{kind}")
        lines += [f"  console {entry['type']}: {entry['text'][:300]}" for entry in seen["console"]]
        lines += [f"  page error: {entry['error'][:500]}" for entry in seen["pageErrors"]]
        lines += [f"  dialog: {entry['message']}" for entry in seen["dialogs"]]
        for socket in seen["sockets"]:
            closed = f"closed at {socket['closedAt']} ms" if socket["closedAt"] is not None else "open"
            lines.append(f"  websocket {socket['url']}: sent {socket['sent']}, received {socket['received']}, "
                         f"{closed} {socket['errors'] or ''}")  # fmt: skip
    lines.append("screenshots: " + ", ".join(done.get("failureScreenshots") or done.get("screenshots") or []))
    try:
        tail = server_log.read_text(errors="replace").splitlines()[-30:]
    except OSError:
        tail = []
    lines += ["--- the server's log ends:", *tail]
    return "\n".join(lines)


def test_the_g16_frontend_runs_the_whole_story_against_this_server(tmp_path):
    node = _require_tools()
    dist = g16_frontend.build()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    server_log = ARTIFACTS / "server.log"

    port = free_port()
    api = f"http://127.0.0.1:{port}"
    site = g16_frontend.install(dist, tmp_path / "frontend", api)
    judge = _judge_backend()
    with g16_frontend.serve_spa(site) as frontend:
        env = _server_environment(tmp_path, port, frontend, judge)
        for command in (["migrate"], ["seed-questions"]):
            done = subprocess.run(
                PEERPREP + command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"peerprep {command[0]}: {done.stderr}"
        with open(server_log, "w") as log:
            server = subprocess.Popen([*PEERPREP, "serve"], env=env, cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
        browser_tmp = None
        try:
            wait_ready(f"{api}/ready", server, 90.0, server_log)
            spec = {
                "frontend": frontend,
                "api": api,
                "artifacts": str(ARTIFACTS),
                "chromium": str(CHROMIUM),
                "users": USERS,
                "lines": LINES,
                "expectOutputs": OUTPUTS if judge == "sandbox" else None,
                "stepTimeoutMs": STEP_TIMEOUT_MS,
                "storyTimeoutMs": STORY_TIMEOUT_MS,
            }
            # Playwright's fresh profile directories go there; Chromium's singleton socket in it must
            # fit a Unix socket path, which pytest's tmp_path is too long for.
            browser_tmp = tempfile.mkdtemp(prefix="g16-chromium-")
            story = subprocess.run(
                [node, str(STORY), json.dumps(spec)],
                cwd=JS_DIR,
                env={**os.environ, "TMPDIR": browser_tmp},
                capture_output=True,
                text=True,
                timeout=STORY_TIMEOUT_MS / 1000 + 60,
            )
        finally:
            stop(server)
            if browser_tmp is not None:
                shutil.rmtree(browser_tmp, ignore_errors=True)

    events = []
    for line in story.stdout.splitlines():
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            print(line)
    (ARTIFACTS / "story.json").write_text(json.dumps(events, indent=2))
    for event in events:
        if event.get("event") == "step":
            print(f"step {event['step']} ({event['ms']} ms): {', '.join(event['screenshots'])}")
    print(f"artifacts: {ARTIFACTS} (story.json, server.log, screenshots)")
    final = events[-1] if events and events[-1].get("event") == "done" else None
    assert final is not None, f"the story printed no result (exit {story.returncode}); stderr:\n{story.stderr[-4000:]}"
    if not final["ok"]:
        sys.stdout.write(story.stderr[-4000:])
    assert final["ok"], _report(final, server_log)
    steps = [event["step"] for event in events if event.get("event") == "step"]
    assert steps[-1] == "a-sees-the-attempt-on-the-profile", steps
    for user, seen in final["diagnostics"].items():
        assert seen["pageErrors"] == [], (user, seen["pageErrors"])
        # A frame the Hocuspocus 3.x provider cannot read logs "Invalid typed array length".
        assert not [entry for entry in seen["console"] if "typed array" in entry["text"]], (user, seen["console"])
