"""List the badge codes that were scanned exactly once, in log order."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    codes = [code.decode() for code in data[1 : 1 + n]]
    counts = {}
    for code in codes:
        counts[code] = counts.get(code, 0) + 1
    singles = [code for code in codes if counts[code] == 1]
    sys.stdout.write("\n".join(singles) + "\n" if singles else "NONE\n")


if __name__ == "__main__":
    main()
