"""Count how many employees sit on each level of a company hierarchy."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    children = [[] for _ in range(n + 1)]
    root = 0
    for i in range(1, n + 1):
        p = int(data[i])
        if p == 0:
            root = i
        else:
            children[p].append(i)

    counts = []
    level = [root]
    while level:
        counts.append(len(level))
        nxt = []
        for v in level:
            nxt.extend(children[v])
        level = nxt
    sys.stdout.write(" ".join(map(str, counts)) + "\n")


if __name__ == "__main__":
    main()
