"""The real PeerPrep frontend of CS3219-AY2526Sem1/cs3219-ay2526s1-project-g16, built once, served per test.

Nothing of that repository is kept in ours. `build()` takes `frontend/` of the pinned commit
from the local mirror of its git data (`git archive <commit> frontend | tar -x`) into a cache
outside the repo, `${XDG_CACHE_HOME:-~/.cache}/peerprep/g16-frontend-<commit>/`, runs `npm ci`
there from the frontend's own package-lock.json, and builds it with its own Vite config; the
cache is keyed by the commit and by `RECIPE` (the build's settings) and rebuilt only when it
is missing or the recipe changed. `install()` copies the built `dist/` into a test's directory
with the placeholder API origin replaced by the real one, and `serve_spa()` serves that copy
on an origin of its own, as production serves it apart from the API.

How the frontend is pointed at this server without changing its code: `src/constants.ts` takes
every backend URL from `VITE_DEV_*_SERVICE_URL` when `import.meta.env.DEV` is true (else from
hard-coded production addresses). Vite sets `import.meta.env.DEV` from NODE_ENV, so the build runs
with `NODE_ENV=development vite build --mode development` and those variables set to
`PLACEHOLDER_ORIGIN` plus each service's path on this server's single port (`/user`,
`/questionBank`, `/match`, `/attempt`, `/collab`, and the code runner's `/run` at the root).
Vite inlines them as string literals, which `install()` rewrites to the server's base URL.

`python -m tests.browser.g16_frontend` builds the cache ahead of a run and prints where.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

REPOSITORY = "CS3219-AY2526Sem1/cs3219-ay2526s1-project-g16"
COMMIT = "256f8d4abc5ae49087efdfb6851579789111a5db"
DEFAULT_MIRROR = "/work/.mirror/CS3219-AY2526Sem1+cs3219-ay2526s1-project-g16/repo"
PLACEHOLDER_ORIGIN = "http://peerprep-api.invalid:1"

# The frontend's variable for each backend, and where this server serves that backend.
SERVICE_PATHS = {
    "VITE_DEV_USER_SERVICE_URL": "/user",
    "VITE_DEV_QN_SERVICE_URL": "/questionBank",
    "VITE_DEV_MATCH_SERVICE_URL": "/match",
    "VITE_DEV_ATTEMPT_SERVICE_URL": "/attempt",
    "VITE_DEV_COLLAB_SERVICE_URL": "/collab",
    "VITE_DEV_CODERUNNER_SERVICE_URL": "",  # the frontend calls `${CODERUNNER_URL}/run`
}
BUILD_COMMAND = ["node_modules/.bin/vite", "build", "--mode", "development"]
# Everything the cached build depends on: a change to any of it rebuilds the cache.
RECIPE = {
    "repository": REPOSITORY,
    "commit": COMMIT,
    "placeholder": PLACEHOLDER_ORIGIN,
    "env": {"NODE_ENV": "development", **{name: PLACEHOLDER_ORIGIN + path for name, path in SERVICE_PATHS.items()}},
    # Its dependencies' install scripts are not run (npm 11 skips them unless allowed, older npm would
    # not): esbuild's and Tailwind's binaries come as optional packages, which is all the build needs.
    "install": ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
    "build": BUILD_COMMAND,
}
STAMP = "peerprep-build.json"
TEXT_SUFFIXES = {".html", ".js", ".mjs", ".css", ".json", ".map", ".txt", ".webmanifest"}
NPM_TIMEOUT_SECONDS = 900
BUILD_TIMEOUT_SECONDS = 900


class Unavailable(Exception):
    """The frontend cannot be had here (no mirror, no Node.js): the test skips with this reason."""


class BuildFailed(RuntimeError):
    """Extracting, installing or building failed; the message ends with the log's tail."""


def mirror() -> Path:
    return Path(os.environ.get("PEERPREP_G16_MIRROR", DEFAULT_MIRROR))


def cache_dir() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "peerprep" / f"g16-frontend-{COMMIT}"


def dist_dir() -> Path:
    return cache_dir() / "frontend" / "dist"


def is_built() -> bool:
    stamp = cache_dir() / STAMP
    try:
        recorded = json.loads(stamp.read_text())
    except (OSError, ValueError):
        return False
    return recorded.get("recipe") == RECIPE and (dist_dir() / "index.html").is_file()


def unavailable_reason() -> str | None:
    """Why the frontend cannot be built here, or None (an existing build needs nothing)."""
    if is_built():
        return None
    where = mirror()
    if shutil.which("git") is None:
        return "git is not installed: the g16 frontend is taken from its mirror with `git archive`"
    if not where.is_dir():
        return f"the mirror of {REPOSITORY} is absent ({where}); set PEERPREP_G16_MIRROR to its git directory"
    found = subprocess.run(
        ["git", "-C", str(where), "cat-file", "-e", f"{COMMIT}^{{commit}}"], capture_output=True, timeout=60
    )
    if found.returncode != 0:
        return f"the mirror of {REPOSITORY} at {where} lacks commit {COMMIT}"
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed: building the g16 frontend needs Node.js 18 or newer with npm"
    return None


def build(log: Callable[[str], None] = print) -> Path:
    """The built `dist/` of the pinned frontend, from the cache or built into it now (under a lock)."""
    cache = cache_dir()
    cache.parent.mkdir(parents=True, exist_ok=True)
    with open(cache.parent / f"{cache.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if is_built():
            return dist_dir()
        reason = unavailable_reason()
        if reason is not None:
            raise Unavailable(reason)
        started = time.monotonic()
        log_path = cache.parent / f"{cache.name}.build.log"
        log(f"building the g16 frontend ({COMMIT[:12]}) into {cache}; its log is {log_path}")
        _build_into(cache, log_path)
        seconds = time.monotonic() - started
        (cache / STAMP).write_text(json.dumps({"recipe": RECIPE, "seconds": round(seconds, 1)}, indent=2))
        log(f"built the g16 frontend in {seconds:.0f} s")
        return dist_dir()


def _build_into(cache: Path, log_path: Path) -> None:
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    with open(log_path, "w") as log:

        def run(argv: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> None:
            log.write(f"$ {' '.join(argv)}\n")
            log.flush()
            try:
                done = subprocess.run(argv, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=timeout)
            except subprocess.TimeoutExpired:
                raise BuildFailed(f"`{' '.join(argv)}` took over {timeout:g} s{_tail(log_path)}") from None
            if done.returncode != 0:
                raise BuildFailed(f"`{' '.join(argv)}` exited with {done.returncode}{_tail(log_path)}")

        archive = subprocess.Popen(
            ["git", "-C", str(mirror()), "archive", "--format=tar", COMMIT, "frontend"],
            stdout=subprocess.PIPE,
            stderr=log,
        )
        assert archive.stdout is not None
        extracted = subprocess.run(["tar", "-x", "-C", str(cache)], stdin=archive.stdout, stderr=log, timeout=300)
        archive.stdout.close()
        if archive.wait(60) != 0 or extracted.returncode != 0:
            raise BuildFailed(f"extracting frontend/ of {COMMIT} from {mirror()} failed{_tail(log_path)}")
        frontend = cache / "frontend"
        run(RECIPE["install"], frontend, NPM_TIMEOUT_SECONDS)
        env = {key: value for key, value in os.environ.items() if not key.startswith("VITE_")}
        env.update(RECIPE["env"])
        run(BUILD_COMMAND, frontend, BUILD_TIMEOUT_SECONDS, env)
    if not _files_with(dist_dir(), PLACEHOLDER_ORIGIN):
        raise BuildFailed(
            f"the build in {dist_dir()} does not contain {PLACEHOLDER_ORIGIN}: Vite did not take"
            " src/constants.ts's import.meta.env.DEV branch"
        )


def _tail(log_path: Path, lines: int = 40) -> str:
    try:
        text = log_path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return ""
    return f"; the end of {log_path}:\n" + "\n".join(text)


def _files_with(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and path.suffix in TEXT_SUFFIXES and needle in path.read_text(errors="ignore"):
            found.append(path)
    return found


def install(dist: Path, target: Path, api_base: str) -> Path:
    """A copy of `dist` in `target` whose backend URLs point at `api_base` (e.g. http://127.0.0.1:8081)."""
    shutil.copytree(dist, target)
    rewritten = _files_with(target, PLACEHOLDER_ORIGIN)
    if not rewritten:
        raise BuildFailed(f"no file of {dist} names {PLACEHOLDER_ORIGIN}; delete {cache_dir()} to rebuild")
    for path in rewritten:
        path.write_text(path.read_text().replace(PLACEHOLDER_ORIGIN, api_base.rstrip("/")))
    return target


class _SpaHandler(SimpleHTTPRequestHandler):
    """Static files, and index.html for any path that is not one (the app's client-side routes)."""

    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".mjs": "text/javascript",
        ".css": "text/css",
        ".json": "application/json",
        ".wasm": "application/wasm",
        ".ttf": "font/ttf",
    }

    def send_head(self):
        if not os.path.isfile(self.translate_path(self.path)):
            self.path = "/index.html"
        return super().send_head()

    def log_message(self, format, *args):
        pass


@contextlib.contextmanager
def serve_spa(root: Path, host: str = "127.0.0.1") -> Iterator[str]:
    """Serves `root` on a free port of `host` in a thread; yields its origin (http://host:port)."""
    server = ThreadingHTTPServer((host, 0), partial(_SpaHandler, directory=str(root)))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="g16-frontend", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)


if __name__ == "__main__":
    reason = unavailable_reason()
    if reason is not None:
        raise SystemExit(f"cannot build: {reason}")
    print(build())
