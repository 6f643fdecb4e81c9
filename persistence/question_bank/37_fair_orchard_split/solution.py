"""Cut one edge of a weighted-vertex tree to make the two parts' sums as close as possible."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    value = [0] + [int(x) for x in data[1 : 1 + n]]
    adj = [[] for _ in range(n + 1)]
    pos = 1 + n
    for _ in range(n - 1):
        u, v = int(data[pos]), int(data[pos + 1])
        pos += 2
        adj[u].append(v)
        adj[v].append(u)

    # Iterative DFS from node 1 to get a parent array and a visiting order.
    parent = [0] * (n + 1)
    parent[1] = -1
    order = []
    stack = [1]
    while stack:
        u = stack.pop()
        order.append(u)
        for v in adj[u]:
            if v != parent[u]:
                parent[v] = u
                stack.append(v)

    # Subtree sums, children before parents.
    sub = value[:]
    for u in reversed(order):
        if parent[u] > 0:
            sub[parent[u]] += sub[u]

    total = sub[1]
    best, ways = None, 0
    for u in range(2, n + 1):  # every non-root node identifies the edge to its parent
        diff = abs(total - 2 * sub[u])
        if best is None or diff < best:
            best, ways = diff, 1
        elif diff == best:
            ways += 1
    print(best, ways)


if __name__ == "__main__":
    main()
