"""Count the ways to climb a staircase in moves of 1, 2 or 3 steps avoiding cracked steps."""

import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.buffer.read().split()
    n, k = int(data[0]), int(data[1])
    cracked = [False] * (n + 1)
    for token in data[2 : 2 + k]:
        cracked[int(token)] = True
    ways = [0] * (n + 1)
    ways[0] = 1
    for i in range(1, n + 1):
        if cracked[i]:
            continue
        total = ways[i - 1]
        if i >= 2:
            total += ways[i - 2]
        if i >= 3:
            total += ways[i - 3]
        ways[i] = total % MOD
    sys.stdout.write(f"{ways[n]}\n")


if __name__ == "__main__":
    main()
