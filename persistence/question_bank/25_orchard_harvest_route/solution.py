"""Best apple harvest on a right/down route through an orchard grid, and how many routes achieve it."""

import sys

MOD = 1_000_000_007


def main():
    data = sys.stdin.buffer.read().split()
    rows, cols = int(data[0]), int(data[1])
    grid = [data[2 + r].decode() for r in range(rows)]
    unreachable = -1
    best_above = [unreachable] * cols
    ways_above = [0] * cols
    for r in range(rows):
        line = grid[r]
        best_row = [unreachable] * cols
        ways_row = [0] * cols
        for c in range(cols):
            cell = line[c]
            if cell == "#":
                continue
            if r == 0 and c == 0:
                best_row[0] = int(cell)
                ways_row[0] = 1
                continue
            best, ways = best_above[c], ways_above[c]
            if c > 0:
                left_best = best_row[c - 1]
                if left_best > best:
                    best, ways = left_best, ways_row[c - 1]
                elif left_best == best and best != unreachable:
                    ways = (ways + ways_row[c - 1]) % MOD
            if best != unreachable:
                best_row[c] = best + int(cell)
                ways_row[c] = ways
        best_above, ways_above = best_row, ways_row
    best, ways = best_above[cols - 1], ways_above[cols - 1]
    if best == unreachable:
        sys.stdout.write("-1 0\n")
    else:
        sys.stdout.write(f"{best} {ways}\n")


if __name__ == "__main__":
    main()
