import signal


def attack(arg):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
