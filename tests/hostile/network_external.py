import socket


def attack(arg):
    with socket.create_connection(("1.1.1.1", 53), timeout=0.5):
        pass
    return "connected"
