"""Answer range-count queries over crate heights with sorting and binary search."""

import sys
from bisect import bisect_left, bisect_right


def main():
    data = sys.stdin.buffer.read().split()
    n, q = int(data[0]), int(data[1])
    heights = sorted(map(int, data[2 : 2 + n]))
    out = []
    pos = 2 + n
    for _ in range(q):
        low, high = int(data[pos]), int(data[pos + 1])
        pos += 2
        out.append(bisect_right(heights, high) - bisect_left(heights, low))
    sys.stdout.write("\n".join(map(str, out)) + "\n")


if __name__ == "__main__":
    main()
