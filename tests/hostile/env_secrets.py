import os


def attack(arg):
    return os.environ["HF_TOKEN"] + os.environ["OPENAI_API_KEY"]
