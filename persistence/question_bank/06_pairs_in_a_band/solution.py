"""Count index pairs whose sum lies inside a closed interval [L, R]."""

import sys


def pairs_at_most(values, limit):
    """Count pairs i < j of the sorted list with values[i] + values[j] <= limit."""
    count = 0
    left, right = 0, len(values) - 1
    while left < right:
        if values[left] + values[right] <= limit:
            count += right - left
            left += 1
        else:
            right -= 1
    return count


def main():
    data = sys.stdin.buffer.read().split()
    n, low, high = int(data[0]), int(data[1]), int(data[2])
    values = sorted(map(int, data[3 : 3 + n]))
    answer = pairs_at_most(values, high) - pairs_at_most(values, low - 1)
    sys.stdout.write(f"{answer}\n")


if __name__ == "__main__":
    main()
