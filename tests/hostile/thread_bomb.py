import threading


def attack(arg):
    while True:
        threading.Thread(target=lambda: __import__("time").sleep(100)).start()
