"""List the distinct badge numbers that appear in both sorted guard-post logs."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    a = list(map(int, data[2 : 2 + n]))
    b = list(map(int, data[2 + n : 2 + n + m]))
    i = j = 0
    common = []
    while i < n and j < m:
        if a[i] < b[j]:
            i += 1
        elif a[i] > b[j]:
            j += 1
        else:
            value = a[i]
            if not common or common[-1] != value:
                common.append(value)
            i += 1
            j += 1
    out = [str(len(common))]
    if common:
        out.append(" ".join(map(str, common)))
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
