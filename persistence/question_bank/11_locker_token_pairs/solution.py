"""Count pairs of locker tokens whose numbers add up to the target value."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, target = int(data[0]), int(data[1])
    seen = {}
    pairs = 0
    for token in data[2 : 2 + n]:
        value = int(token)
        pairs += seen.get(target - value, 0)
        seen[value] = seen.get(value, 0) + 1
    sys.stdout.write(f"{pairs}\n")


if __name__ == "__main__":
    main()
