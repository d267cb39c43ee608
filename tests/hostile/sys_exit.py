import sys


def attack(arg):
    sys.exit(0)
