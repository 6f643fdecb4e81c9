"""Count lantern poles visible from the west end and from the east end of a street."""

import sys


def count_visible(heights):
    """Return how many heights are strictly greater than every earlier height."""
    visible = 0
    tallest = 0
    for h in heights:
        if h > tallest:
            visible += 1
            tallest = h
    return visible


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    heights = list(map(int, data[1 : 1 + n]))
    west = count_visible(heights)
    east = count_visible(reversed(heights))
    sys.stdout.write(f"{west} {east}\n")


if __name__ == "__main__":
    main()
