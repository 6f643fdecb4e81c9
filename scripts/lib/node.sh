# Sourced by scripts/test: the real JavaScript clients (tests/js: STOMP/SockJS, Hocuspocus, y-websocket)
# that the WebSocket tests drive.
# Runs `npm ci` only when tests/js/package-lock.json changed (a sha256 stamp in node_modules).

ensure_node_clients() {
    local dir="tests/js" stamp want log
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        echo "" >&2
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
        echo "!! WARNING: node/npm not found: the real JavaScript client tests (SockJS," >&2
        echo "!! STOMP) will be SKIPPED. Install Node.js 18 or newer with npm" >&2
        echo "!! (Debian/Ubuntu: apt-get install nodejs npm)." >&2
        echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
        echo "" >&2
        return 1
    fi
    stamp="$dir/node_modules/.installed-lock"
    want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log=$(mktemp)
        if ! (cd "$dir" && npm ci --no-audit --no-fund --silent) >"$log" 2>&1; then
            cat "$log" >&2
            rm -f "$log"
            echo "error: 'npm ci' in $dir failed (log above); the JavaScript client tests will be skipped" >&2
            return 1
        fi
        rm -f "$log"
        echo "$want" >"$stamp"
    fi
}
