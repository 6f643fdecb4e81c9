"""Run-length encode a stamp string, keeping the original if encoding does not help."""

import sys


def main():
    s = sys.stdin.buffer.read().split()[0].decode()
    n = len(s)
    parts = []
    i = 0
    while i < n:
        j = i
        while j < n and s[j] == s[i]:
            j += 1
        parts.append(s[i])
        parts.append(str(j - i))
        i = j
    encoded = "".join(parts)
    sys.stdout.write((encoded if len(encoded) < n else s) + "\n")


if __name__ == "__main__":
    main()
