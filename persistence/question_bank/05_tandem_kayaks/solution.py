"""Find the minimum number of two-seat kayaks needed to carry every paddler."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, capacity = int(data[0]), int(data[1])
    weights = sorted(map(int, data[2 : 2 + n]))
    light, heavy = 0, n - 1
    kayaks = 0
    while light <= heavy:
        if light < heavy and weights[light] + weights[heavy] <= capacity:
            light += 1
        heavy -= 1
        kayaks += 1
    sys.stdout.write(f"{kayaks}\n")


if __name__ == "__main__":
    main()
