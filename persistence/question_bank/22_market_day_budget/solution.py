"""Buy as many market items as a budget allows, spending as little as possible."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, budget = int(data[0]), int(data[1])
    prices = sorted(map(int, data[2 : 2 + n]))
    count = spent = 0
    for price in prices:
        if spent + price > budget:
            break
        spent += price
        count += 1
    sys.stdout.write(f"{count} {spent}\n")


if __name__ == "__main__":
    main()
