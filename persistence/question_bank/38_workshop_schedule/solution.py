"""Lexicographically smallest topological order of workshops, or IMPOSSIBLE on a cycle."""

import heapq
import sys


def main():
    data = sys.stdin.buffer.read().split()
    n, m = int(data[0]), int(data[1])
    out_edges = [[] for _ in range(n + 1)]
    indegree = [0] * (n + 1)
    pos = 2
    for _ in range(m):
        a, b = int(data[pos]), int(data[pos + 1])
        pos += 2
        out_edges[a].append(b)
        indegree[b] += 1

    ready = [v for v in range(1, n + 1) if indegree[v] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        u = heapq.heappop(ready)
        order.append(u)
        for v in out_edges[u]:
            indegree[v] -= 1
            if indegree[v] == 0:
                heapq.heappush(ready, v)

    if len(order) < n:
        print("IMPOSSIBLE")
    else:
        print(" ".join(map(str, order)))


if __name__ == "__main__":
    main()
