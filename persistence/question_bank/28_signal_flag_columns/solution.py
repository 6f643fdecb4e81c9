"""Count flag columns of n flags in k colours with no run of more than m equal colours."""

import sys

MOD = 1_000_000_007


def main():
    n, k, m = map(int, sys.stdin.buffer.read().split()[:3])
    # count[i] = valid columns of height i; the last run has some length j <= m, and
    # either it is the whole column (k colours) or it follows a valid column of height
    # i - j with a colour different from that column's top flag (k - 1 colours).
    count = [0] * (n + 1)
    window = 0  # sum of count[i - j] for 1 <= j <= m and i - j >= 1
    for i in range(1, n + 1):
        window = (window + count[i - 1]) % MOD
        if i - m - 1 >= 1:
            window = (window - count[i - m - 1]) % MOD
        value = (k - 1) * window
        if i <= m:
            value += k
        count[i] = value % MOD
    sys.stdout.write(f"{count[n]}\n")


if __name__ == "__main__":
    main()
