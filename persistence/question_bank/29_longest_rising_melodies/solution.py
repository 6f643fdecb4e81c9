"""Length of the longest strictly rising subsequence and the number of such subsequences."""

import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    pitches = list(map(int, data[1 : 1 + n]))
    rank = {v: i + 1 for i, v in enumerate(sorted(set(pitches)))}
    size = len(rank)
    # Fenwick tree over pitch ranks; each node keeps the best (length, count) in its range.
    tree_len = [0] * (size + 1)
    tree_cnt = [0] * (size + 1)
    for value in pitches:
        r = rank[value]
        best, ways = 0, 1  # an empty prefix gives a melody of length 1 in one way
        i = r - 1
        while i > 0:
            length = tree_len[i]
            if length > best:
                best, ways = length, tree_cnt[i]
            elif length == best and length:
                ways += tree_cnt[i]
            i &= i - 1
        best += 1
        ways %= MOD
        i = r
        while i <= size:
            length = tree_len[i]
            if best > length:
                tree_len[i], tree_cnt[i] = best, ways
            elif best == length:
                tree_cnt[i] = (tree_cnt[i] + ways) % MOD
            i += i & -i
    best, ways = 0, 0
    i = size
    while i > 0:
        if tree_len[i] > best:
            best, ways = tree_len[i], tree_cnt[i]
        elif tree_len[i] == best:
            ways += tree_cnt[i]
        i &= i - 1
    sys.stdout.write(f"{best} {ways % MOD}\n")


if __name__ == "__main__":
    main()
