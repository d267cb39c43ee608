import signal


def attack(arg):
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass
