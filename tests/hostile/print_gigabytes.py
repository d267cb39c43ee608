def attack(arg):
    chunk = "x" * (1 << 20)
    for _ in range(4096):
        print(chunk)
    return "printed 4 GiB"
