while True:
    pass


def attack(arg):
    return "never loaded"
