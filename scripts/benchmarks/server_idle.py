"""`scripts/bench server-idle`: `peerprep serve` on the embedded defaults, 8 s after `/ready`:
PSS and idle CPU of its process tree by role, from the scheduler's per-thread counters."""

from __future__ import annotations

import argparse
import sys
import time

from benchmarks.measure import idle_cpu_percent, pss_bytes_by_role
from benchmarks.server import served


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30, help="length of the idle CPU window")
    args = parser.parse_args()
    with served() as (_, server):
        time.sleep(8)
        pss = pss_bytes_by_role(server.pid)
        shares = idle_cpu_percent(server.pid, args.seconds)
    total = sum(shares.values())
    print(f"PSS {sum(pss.values()) / 2**20:.0f} MiB, idle CPU {total:.2f} % of a core over {args.seconds:.0f} s")
    print("  " + ", ".join(f"{role} {share:.2f} %" for role, share in sorted(shares.items(), key=lambda i: -i[1])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
