import shutil


def attack(arg):
    shutil.rmtree(arg)
    return "deleted"
