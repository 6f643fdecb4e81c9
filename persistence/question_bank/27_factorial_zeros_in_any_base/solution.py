"""Number of trailing zeros of n! when it is written in base b."""

import sys


def factorize(b):
    """Return the prime factorisation of b as a list of (prime, exponent) pairs."""
    factors = []
    p = 2
    while p * p <= b:
        if b % p == 0:
            e = 0
            while b % p == 0:
                b //= p
                e += 1
            factors.append((p, e))
        p += 1 if p == 2 else 2
    if b > 1:
        factors.append((b, 1))
    return factors


def legendre(n, p):
    """Exponent of the prime p in n! (Legendre's formula)."""
    total = 0
    while n:
        n //= p
        total += n
    return total


def main():
    data = sys.stdin.buffer.read().split()
    t = int(data[0])
    answers = []
    for i in range(t):
        n, b = int(data[1 + 2 * i]), int(data[2 + 2 * i])
        answers.append(min(legendre(n, p) // e for p, e in factorize(b)))
    sys.stdout.write("\n".join(map(str, answers)) + "\n")


if __name__ == "__main__":
    main()
