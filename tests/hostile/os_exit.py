import os


def attack(arg):
    os._exit(0)
