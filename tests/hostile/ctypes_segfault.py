import ctypes


def attack(arg):
    return ctypes.string_at(1, 16)
