"""Minimise the longest stage when splitting a trail into at most k stages."""

import sys


def stages_needed(lengths, limit):
    """Greedy count of stages when no stage may exceed limit."""
    stages, current = 1, 0
    for length in lengths:
        if current + length > limit:
            stages += 1
            current = length
        else:
            current += length
    return stages


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    lengths = list(map(int, data[2 : 2 + n]))
    low, high = max(lengths), sum(lengths)
    while low < high:
        mid = (low + high) // 2
        if stages_needed(lengths, mid) <= k:
            high = mid
        else:
            low = mid + 1
    sys.stdout.write(f"{low}\n")


if __name__ == "__main__":
    main()
