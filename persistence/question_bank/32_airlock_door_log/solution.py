"""Validate an airlock event log where doors must close in reverse opening order."""

import sys


def main():
    data = sys.stdin.buffer.read().split()
    q = int(data[0])
    stack = []
    is_open = set()
    pos = 1
    for i in range(1, q + 1):
        op = data[pos]
        door = int(data[pos + 1])
        pos += 2
        if op == b"O":
            if door in is_open:
                print(f"ERROR {i}")
                return
            stack.append(door)
            is_open.add(door)
        else:
            if not stack or stack[-1] != door:
                print(f"ERROR {i}")
                return
            stack.pop()
            is_open.discard(door)
    if stack:
        print("UNCLOSED " + " ".join(map(str, reversed(stack))))
    else:
        print("SAFE")


if __name__ == "__main__":
    main()
