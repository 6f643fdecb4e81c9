# Sourced by scripts that judge locally: bubblewrap for the sandbox judge (judge/sandbox.py).
# ensure_sandbox installs it with apt-get when it is missing and that is possible (root, apt-get),
# quietly; if the sandbox still cannot work it prints one loud line saying why. It never fails
# the caller (safe under set -euo pipefail).

sandbox_warning() {
    printf '\033[1;31mWARNING: the local sandbox judge is unavailable: %s\033[0m\n' "$1" >&2
}

ensure_sandbox() {
    if ! command -v bwrap >/dev/null 2>&1 && [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq bubblewrap >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq bubblewrap >/dev/null 2>&1; } || true
    fi
    # libseccomp builds the sandbox's seccomp filter (judge/seccomp.py, through pyseccomp); without it the sandbox refuses.
    if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' && [ "$(id -u 2>/dev/null)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        export DEBIAN_FRONTEND=noninteractive
        apt-get install -y -qq libseccomp2 >/dev/null 2>&1 ||
            { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq libseccomp2 >/dev/null 2>&1; } || true
    fi
    if ! ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2'; then
        sandbox_warning "libseccomp is not installed; the sandbox refuses to run without its seccomp filter (Debian: apt-get install libseccomp2)"
        return 0
    fi
    if ! command -v bwrap >/dev/null 2>&1; then
        sandbox_warning "bubblewrap is not installed (Debian: apt-get install bubblewrap)"
        return 0
    fi
    if ! command -v gcc >/dev/null 2>&1; then
        sandbox_warning "gcc is not installed; the sandbox's supervisor is built with it (Debian: apt-get install gcc)"
        return 0
    fi
    # The judge runs bwrap unprivileged (as nobody when root), so it needs user namespaces.
    local drop=()
    if [ "$(id -u 2>/dev/null)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
        drop=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    fi
    if ! (cd / && ${drop[@]+"${drop[@]}"} bwrap --unshare-user --unshare-pid --unshare-net --ro-bind / / true) >/dev/null 2>&1; then
        sandbox_warning "bwrap cannot create an unprivileged sandbox here (are user namespaces disabled? sysctl user.max_user_namespaces, kernel.unprivileged_userns_clone)"
    fi
    return 0
}
