import os


def attack(arg):
    # Absolute paths outside the sandbox's scratch folder: world-writable dirs and the canary's parent.
    targets = ["/tmp", "/var/tmp", "/dev/shm", os.path.dirname(arg)]
    error = None
    for d in targets:
        try:
            with open(os.path.join(d, "skillseq_pwned_abs"), "w") as f:
                f.write("pwned")
            return d
        except OSError as e:
            error = e
    raise error
