"""For each tower, find the nearest strictly taller tower to its left using a monotonic stack."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    heights = [int(x) for x in data[1 : 1 + n]]
    answer = [0] * n
    stack = []  # indices with strictly decreasing heights from bottom to top
    for i, h in enumerate(heights):
        while stack and heights[stack[-1]] <= h:
            stack.pop()
        answer[i] = stack[-1] + 1 if stack else 0
        stack.append(i)
    sys.stdout.write(" ".join(map(str, answer)) + "\n")


if __name__ == "__main__":
    main()
