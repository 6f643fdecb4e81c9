"""Find the shortest, leftmost window of a text that covers all letters of a pattern."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    text, pattern = data[0], data[1]
    need = [0] * 256
    for ch in pattern:
        need[ch] += 1
    missing = len(pattern)
    best_start, best_len = -1, len(text) + 1
    left = 0
    for right, ch in enumerate(text):
        if need[ch] > 0:
            missing -= 1
        need[ch] -= 1
        if missing == 0:
            while need[text[left]] < 0:
                need[text[left]] += 1
                left += 1
            if right - left + 1 < best_len:
                best_len = right - left + 1
                best_start = left
            need[text[left]] += 1
            missing += 1
            left += 1
    if best_start < 0:
        sys.stdout.write("-1\n")
    else:
        sys.stdout.write(f"{best_start + 1} {best_start + best_len}\n")


if __name__ == "__main__":
    main()
