def attack(arg):
    while True:
        pass
