"""Minimum total height change that makes a row of terraces non-decreasing."""

import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    heights = map(int, data[1 : 1 + n])
    # Slope trick: a max-heap (stored negated) of the breakpoints of the optimal cost function.
    peaks = []
    cost = 0
    for h in heights:
        heapq.heappush(peaks, -h)
        top = -peaks[0]
        if top > h:
            cost += top - h
            heapq.heapreplace(peaks, -h)
    sys.stdout.write(f"{cost}\n")


if __name__ == "__main__":
    main()
