# Sourced by scripts/run and scripts/test: a .venv with the project installed, every package at
# its version in constraints.txt. Reinstalls only when pyproject.toml, constraints.txt or the
# extras asked for changed; quiet unless it fails.

find_python() {
    for candidate in "${PYTHON:-}" python3.13 python3.12 python3.11 python3; do
        [ -n "$candidate" ] || continue
        if command -v "$candidate" >/dev/null 2>&1 &&
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: Python 3.11 or newer is needed (set PYTHON=/path/to/python3.11)" >&2
    return 1
}

ensure_venv() {
    local extras="$1" python stamp want log
    if [ ! -x .venv/bin/python ]; then
        python=$(find_python) || exit 1
        if ! "$python" -m venv .venv >/dev/null 2>&1; then
            rm -rf .venv
            echo "error: '$python -m venv' failed; install the venv module (Debian: apt-get install python3-venv)" >&2
            exit 1
        fi
    fi
    stamp=".venv/.installed${extras:+-$extras}"
    want=$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        log=$(mktemp)
        if ! { .venv/bin/python -m pip install --disable-pip-version-check -q --upgrade pip &&
            .venv/bin/python -m pip install --disable-pip-version-check -q -c constraints.txt -e ".${extras:+[$extras]}"; } >"$log" 2>&1; then
            grep -v "^WARNING: Location" "$log" >&2
            echo "error: installing the project into .venv failed (log above)" >&2
            rm -f "$log"
            exit 1
        fi
        rm -f "$log"
        echo "$want" >"$stamp"
    fi
}
