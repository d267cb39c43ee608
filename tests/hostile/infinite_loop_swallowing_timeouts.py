def attack(arg):
    while True:
        try:
            while True:
                pass
        except BaseException:
            pass
