import os
import signal


def attack(arg):
    os.killpg(os.getpgid(0), signal.SIGKILL)
