import sys


def attack(arg):
    sys.setrecursionlimit(10**8)

    def down(n):
        return down(n + 1) + 1

    return down(0)
