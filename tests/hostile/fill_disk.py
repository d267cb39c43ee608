def attack(arg):
    with open("big.bin", "wb") as f:
        for _ in range(4096):
            f.write(b"x" * (1 << 20))
    return "wrote 4 GiB"
