import os


def attack(arg):
    os.closerange(0, 4096)
    return "closed"
