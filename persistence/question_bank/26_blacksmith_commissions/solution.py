"""Choose one-day commissions with deadlines to maximise the blacksmith's total pay."""

import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    jobs = sorted(zip(map(int, data[1 : 1 + 2 * n : 2]), map(int, data[2 : 2 + 2 * n : 2]), strict=False))
    chosen = []  # min-heap of the pays of the commissions kept so far
    for deadline, pay in jobs:
        heapq.heappush(chosen, pay)
        if len(chosen) > deadline:
            heapq.heappop(chosen)
    sys.stdout.write(f"{sum(chosen)}\n")


if __name__ == "__main__":
    main()
