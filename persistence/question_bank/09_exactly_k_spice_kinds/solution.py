"""Count contiguous shelf segments holding exactly k distinct spice kinds."""

import sys


def at_most(values, k):
    """Count subarrays containing at most k distinct values (sliding window)."""
    if k <= 0:
        return 0
    counts = {}
    left = 0
    total = 0
    for right, v in enumerate(values):
        counts[v] = counts.get(v, 0) + 1
        while len(counts) > k:
            out = values[left]
            counts[out] -= 1
            if counts[out] == 0:
                del counts[out]
            left += 1
        total += right - left + 1
    return total


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    values = list(map(int, data[2 : 2 + n]))
    sys.stdout.write(f"{at_most(values, k) - at_most(values, k - 1)}\n")


if __name__ == "__main__":
    main()
