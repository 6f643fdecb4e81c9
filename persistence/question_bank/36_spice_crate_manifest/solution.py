"""Count spices in a nested crate manifest using an explicit stack of counters."""

import sys


def read_number(text, i):
    """Return (value, next_index); value is 1 when no digits start at i."""
    j = i
    while j < len(text) and text[j].isdigit():
        j += 1
    return (int(text[i:j]) if j > i else 1), j


def main():
    text = sys.stdin.read().strip()
    stack = [{}]
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "(":
            stack.append({})
            i += 1
        elif ch == ")":
            inner = stack.pop()
            mult, i = read_number(text, i + 1)
            outer = stack[-1]
            for spice, cnt in inner.items():
                outer[spice] = outer.get(spice, 0) + cnt * mult
        else:
            cnt, i = read_number(text, i + 1)
            top = stack[-1]
            top[ch] = top.get(ch, 0) + cnt
    totals = stack[0]
    sys.stdout.write("".join(f"{k} {totals[k]}\n" for k in sorted(totals)))


if __name__ == "__main__":
    main()
