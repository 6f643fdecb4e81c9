"""Find the longest, leftmost substring that uses at most k distinct letters."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    k = int(data[0])
    s = data[1]
    counts = [0] * 256
    distinct = 0
    best_len, best_start = 0, 0
    left = 0
    for right, ch in enumerate(s):
        if counts[ch] == 0:
            distinct += 1
        counts[ch] += 1
        while distinct > k:
            out = s[left]
            counts[out] -= 1
            if counts[out] == 0:
                distinct -= 1
            left += 1
        if right - left + 1 > best_len:
            best_len = right - left + 1
            best_start = left
    sys.stdout.write(f"{best_len} {best_start + 1}\n")


if __name__ == "__main__":
    main()
