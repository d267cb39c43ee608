import os
import signal


def attack(arg):
    # kill(-1) reaches every process this uid may signal: only the sandbox itself, once the uid is dropped.
    os.kill(-1, signal.SIGKILL)
