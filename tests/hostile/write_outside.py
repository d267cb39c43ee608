def attack(arg):
    with open(arg + "/pwned", "w") as f:
        f.write("pwned")
    return arg
