"""List the bridges of an undirected multigraph with an iterative Tarjan low-link search."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    adj = [[] for _ in range(n + 1)]
    ends = []
    pos = 2
    for e in range(m):
        u, v = int(data[pos]), int(data[pos + 1])
        pos += 2
        ends.append((u, v))
        adj[u].append((v, e))
        if u != v:
            adj[v].append((u, e))

    tin = [0] * (n + 1)
    low = [0] * (n + 1)
    parent_edge = [-1] * (n + 1)
    ptr = [0] * (n + 1)
    timer = 0
    bridges = []

    for root in range(1, n + 1):
        if tin[root]:
            continue
        timer += 1
        tin[root] = low[root] = timer
        stack = [root]
        while stack:
            u = stack[-1]
            i = ptr[u]
            if i < len(adj[u]):
                ptr[u] = i + 1
                v, e = adj[u][i]
                if e == parent_edge[u]:
                    continue  # do not reuse the exact tunnel we arrived by
                if tin[v]:
                    if tin[v] < low[u]:
                        low[u] = tin[v]
                else:
                    timer += 1
                    tin[v] = low[v] = timer
                    parent_edge[v] = e
                    stack.append(v)
            else:
                stack.pop()
                if stack:
                    p = stack[-1]
                    if low[u] < low[p]:
                        low[p] = low[u]
                    if low[u] > tin[p]:
                        a, b = ends[parent_edge[u]]
                        bridges.append((min(a, b), max(a, b)))

    bridges.sort()
    out = [str(len(bridges))]
    out.extend(f"{a} {b}" for a, b in bridges)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
