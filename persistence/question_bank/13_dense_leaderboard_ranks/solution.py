"""Assign dense leaderboard ranks to contestants based on their scores."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    scores = list(map(int, data[1 : 1 + n]))
    distinct = sorted(set(scores), reverse=True)
    rank_of = {score: position + 1 for position, score in enumerate(distinct)}
    sys.stdout.write(" ".join(str(rank_of[s]) for s in scores) + "\n")


if __name__ == "__main__":
    main()
