import os
import signal


def attack(arg):
    os.kill(os.getppid(), signal.SIGKILL)
    return "parent killed"
