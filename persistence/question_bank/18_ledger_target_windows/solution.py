"""Count contiguous ledger windows whose entries sum to a target amount."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, target = int(data[0]), int(data[1])
    prefix_count = {0: 1}
    prefix = 0
    windows = 0
    for token in data[2 : 2 + n]:
        prefix += int(token)
        windows += prefix_count.get(prefix - target, 0)
        prefix_count[prefix] = prefix_count.get(prefix, 0) + 1
    sys.stdout.write(f"{windows}\n")


if __name__ == "__main__":
    main()
