import os
import signal


def attack(arg):
    # Leave the sandbox's session first, then signal whoever started us.
    try:
        os.setsid()
    except OSError:
        pass
    os.kill(os.getppid(), signal.SIGKILL)
    return "parent killed"
