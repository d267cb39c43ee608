import os


def attack(arg):
    chunk = b"x" * (1 << 20)
    while True:
        os.write(1, chunk)
        os.write(2, chunk)
