"""Find the lexicographically smallest among all shortest paths in an unweighted graph."""

import sys
from collections import deque


def main():
    data = sys.stdin.buffer.read().split()
    n, m, s, t = int(data[0]), int(data[1]), int(data[2]), int(data[3])
    adj = [[] for _ in range(n + 1)]
    pos = 4
    for _ in range(m):
        u, v = int(data[pos]), int(data[pos + 1])
        pos += 2
        adj[u].append(v)
        adj[v].append(u)

    # Distances to the target t.
    dist = [-1] * (n + 1)
    dist[t] = 0
    queue = deque([t])
    while queue:
        u = queue.popleft()
        for v in adj[u]:
            if dist[v] < 0:
                dist[v] = dist[u] + 1
                queue.append(v)

    if dist[s] < 0:
        print(-1)
        return

    # Walk forward from s, always taking the smallest neighbour one step closer to t.
    path = [s]
    cur = s
    while cur != t:
        want = dist[cur] - 1
        cur = min(v for v in adj[cur] if dist[v] == want)
        path.append(cur)
    sys.stdout.write(f"{len(path) - 1}\n" + " ".join(map(str, path)) + "\n")


if __name__ == "__main__":
    main()
