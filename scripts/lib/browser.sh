# Sourced by scripts/test: Debian's Chromium for the browser tests (tests/browser), which drive it
# headless with playwright-core (tests/js) against the real server.
# ensure_browser installs it with apt-get when it is missing and that is possible (root, apt-get),
# quietly; if it is still missing it prints one loud line saying so. It never fails the caller
# (safe under set -euo pipefail): without Chromium the browser tests skip, listed at the end.

browser_warning() {
    printf '\033[1;31mWARNING: the browser tests will be SKIPPED: %s\033[0m\n' "$1" >&2
}

ensure_browser() {
    if [ ! -x /usr/bin/chromium ] && [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 &&
                apt-get install -y -qq --no-install-recommends chromium >/dev/null 2>&1; } || true
    fi
    if [ ! -x /usr/bin/chromium ]; then
        browser_warning "Chromium is not installed (Debian: apt-get install chromium)"
        return 0
    fi
    if ! /usr/bin/chromium --headless --no-sandbox --disable-gpu --version >/dev/null 2>&1; then
        browser_warning "/usr/bin/chromium does not start (try: /usr/bin/chromium --headless --no-sandbox --version)"
    fi
    return 0
}
