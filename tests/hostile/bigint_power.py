def attack(arg):
    return pow(10, 10**9)
