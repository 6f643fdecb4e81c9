"""Population-weighted sum of distances from every node of a weighted tree (rerooting DP)."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    pop = [0] + [int(x) for x in data[1 : 1 + n]]
    adj = [[] for _ in range(n + 1)]
    pos = 1 + n
    for _ in range(n - 1):
        u, v, w = int(data[pos]), int(data[pos + 1]), int(data[pos + 2])
        pos += 3
        adj[u].append((v, w))
        adj[v].append((u, w))

    # Iterative DFS from village 1: parent, edge weight to parent, depth, visiting order.
    parent = [0] * (n + 1)
    up_w = [0] * (n + 1)
    depth = [0] * (n + 1)
    parent[1] = -1
    order = []
    stack = [1]
    while stack:
        u = stack.pop()
        order.append(u)
        for v, w in adj[u]:
            if v != parent[u]:
                parent[v] = u
                up_w[v] = w
                depth[v] = depth[u] + w
                stack.append(v)

    # Population inside each subtree (children before parents).
    sub = pop[:]
    for u in reversed(order):
        if parent[u] > 0:
            sub[parent[u]] += sub[u]
    total = sub[1]

    cost = [0] * (n + 1)
    cost[1] = sum(pop[v] * depth[v] for v in range(1, n + 1))
    # Moving the meeting point from parent p to child u across an edge of weight w:
    # the sub[u] people inside get w closer, the other total - sub[u] get w farther.
    for u in order[1:]:
        cost[u] = cost[parent[u]] + up_w[u] * (total - 2 * sub[u])

    best = min(range(1, n + 1), key=lambda v: (cost[v], v))
    sys.stdout.write(" ".join(map(str, cost[1:])) + "\n" + f"{best}\n")


if __name__ == "__main__":
    main()
