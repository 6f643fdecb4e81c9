"""Count connected groups of warehouses and list their sizes in non-increasing order."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n + 1)]
    pos = 2
    for _ in range(m):
        u, v = int(data[pos]), int(data[pos + 1])
        pos += 2
        adj[u].append(v)
        adj[v].append(u)

    seen = [False] * (n + 1)
    sizes = []
    for start in range(1, n + 1):
        if seen[start]:
            continue
        seen[start] = True
        stack = [start]
        size = 0
        while stack:
            u = stack.pop()
            size += 1
            for v in adj[u]:
                if not seen[v]:
                    seen[v] = True
                    stack.append(v)
        sizes.append(size)

    sizes.sort(reverse=True)
    sys.stdout.write(f"{len(sizes)}\n" + " ".join(map(str, sizes)) + "\n")


if __name__ == "__main__":
    main()
