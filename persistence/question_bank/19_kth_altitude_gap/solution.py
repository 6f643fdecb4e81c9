"""Find the k-th smallest altitude difference among all pairs of beacons."""

import sys
from bisect import bisect_right


def pairs_within(heights, gap):
    """Number of pairs i < j (in sorted order) with heights[j] - heights[i] <= gap."""
    n = len(heights)
    return sum(bisect_right(heights, h + gap, i + 1, n) - i - 1 for i, h in enumerate(heights))


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    heights = sorted(map(int, data[2 : 2 + n]))
    low, high = 0, heights[-1] - heights[0]
    while low < high:
        mid = (low + high) // 2
        if pairs_within(heights, mid) >= k:
            high = mid
        else:
            low = mid + 1
    sys.stdout.write(f"{low}\n")


if __name__ == "__main__":
    main()
