"""Compute how much rainwater is held between terrace walls of given heights."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    heights = list(map(int, data[1 : 1 + n]))
    left, right = 0, n - 1
    left_max = right_max = 0
    water = 0
    while left < right:
        if heights[left] <= heights[right]:
            if heights[left] >= left_max:
                left_max = heights[left]
            else:
                water += left_max - heights[left]
            left += 1
        else:
            if heights[right] >= right_max:
                right_max = heights[right]
            else:
                water += right_max - heights[right]
            right -= 1
    sys.stdout.write(f"{water}\n")


if __name__ == "__main__":
    main()
