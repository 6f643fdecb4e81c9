"""Count the minutes in a range at which at least one of two bell towers rings."""

import sys
from math import gcd


def rings_up_to(x, a, b, both):
    """Number of minutes m with 1 <= m <= x when tower A or tower B rings."""
    return x // a + x // b - x // both


def main():
    data = sys.stdin.buffer.read().split()
    t = int(data[0])
    answers = []
    pos = 1
    for _ in range(t):
        a, b, lo, hi = (int(v) for v in data[pos : pos + 4])
        pos += 4
        both = a // gcd(a, b) * b
        answers.append(rings_up_to(hi, a, b, both) - rings_up_to(lo - 1, a, b, both))
    sys.stdout.write("\n".join(map(str, answers)) + "\n")


if __name__ == "__main__":
    main()
