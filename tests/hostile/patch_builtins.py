import builtins


def attack(arg):
    # Poison what the next programs of the batch rely on; the harness restores builtins after every call.
    builtins.len = lambda x: 0
    builtins.sum = lambda x: -1
    raise RuntimeError("poisoned builtins")
