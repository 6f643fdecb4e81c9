"""Group scrambled labels that are rearrangements of the same letters."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    n = int(data[0])
    groups = {}
    for raw in data[1 : 1 + n]:
        word = raw.decode()
        groups.setdefault("".join(sorted(word)), []).append(word)
    ordered = [sorted(members) for members in groups.values()]
    ordered.sort(key=lambda members: (-len(members), members[0]))
    out = [str(len(ordered))]
    out.extend(" ".join(members) for members in ordered)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
