import os


def attack(arg):
    os.execv("/bin/sh", ["sh", "-c", "touch " + arg + "/pwned_by_exec; sleep 100"])
