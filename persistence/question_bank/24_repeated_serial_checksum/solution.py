"""Digital root of a digit string written out k times in a row."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    serial = data[0].decode()
    k = int(data[1])
    total = sum(map(int, serial)) * k
    root = 0 if total == 0 else 1 + (total - 1) % 9
    sys.stdout.write(f"{root}\n")


if __name__ == "__main__":
    main()
