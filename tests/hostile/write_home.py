import pwd


def attack(arg):
    home = pwd.getpwuid(0).pw_dir
    with open(home + "/skillseq_pwned", "w") as f:
        f.write("pwned")
    return home
