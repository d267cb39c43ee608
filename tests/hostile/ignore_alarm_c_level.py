import signal


def attack(arg):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    return pow(3, 10**9)
