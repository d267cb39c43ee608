import socket


def attack(arg):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"exfiltrated", ("127.0.0.1", int(arg)))
    return "sent"
