"""Repaint the fewest banner letters to get a palindrome, preferring the smallest result."""

import sys


def main():
    s = sys.stdin.buffer.read().split()[0].decode()
    chars = list(s)
    left, right = 0, len(chars) - 1
    changes = 0
    while left < right:
        if chars[left] != chars[right]:
            smaller = min(chars[left], chars[right])
            chars[left] = chars[right] = smaller
            changes += 1
        left += 1
        right -= 1
    sys.stdout.write(f"{changes}\n{''.join(chars)}\n")


if __name__ == "__main__":
    main()
