"""Find the longest chain of crates that nest strictly inside one another."""

import sys
from bisect import bisect_left


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    values = list(map(int, data[1 : 1 + 2 * n]))
    crates = sorted(zip(values[0::2], values[1::2], strict=False), key=lambda c: (c[0], -c[1]))
    # tails[L] = smallest possible height of the outermost crate in a chain of L + 1 crates
    tails = []
    for _, height in crates:
        position = bisect_left(tails, height)
        if position == len(tails):
            tails.append(height)
        else:
            tails[position] = height
    sys.stdout.write(f"{len(tails)}\n")


if __name__ == "__main__":
    main()
