"""Merge overlapping or touching boat rental periods into busy blocks."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    values = list(map(int, data[1 : 1 + 2 * n]))
    rentals = sorted(zip(values[0::2], values[1::2], strict=False))
    blocks = []
    for start, end in rentals:
        if blocks and start <= blocks[-1][1]:
            if end > blocks[-1][1]:
                blocks[-1][1] = end
        else:
            blocks.append([start, end])
    out = [str(len(blocks))]
    out.extend(f"{start} {end}" for start, end in blocks)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
