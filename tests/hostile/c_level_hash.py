import hashlib


def attack(arg):
    # a billion rounds in OpenSSL without a return to the interpreter: no signal handler runs until it ends
    return hashlib.pbkdf2_hmac("sha256", arg.encode(), b"salt", 10**9).hex()
