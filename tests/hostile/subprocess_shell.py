import subprocess


def attack(arg):
    return subprocess.run(["touch", arg + "/pwned_by_subprocess"]).returncode
