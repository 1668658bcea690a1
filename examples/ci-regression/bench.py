"""The benchmark CI profiles: the same fixed amount of work per round, repeated for a number of
seconds, so each function's share of the samples is stable from run to run.
Usage: python bench.py [seconds]"""
import random
import sys
import time

from textstats import count_words, tokenize, top_words


def make_corpus(words=20_000, seed=1):
    rng = random.Random(seed)
    vocabulary = ["".join(rng.choice("abcdefghij") for _ in range(rng.randint(2, 7))) for _ in range(3_000)]
    return " ".join(rng.choice(vocabulary).capitalize() + rng.choice(["", "", ",", "."]) for _ in range(words))


def run_round(text):
    words = tokenize(text)
    counts = count_words(words)
    return top_words(counts)


def main(seconds):
    text = make_corpus()
    rounds = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        run_round(text)
        rounds += 1
    print(f"{rounds} rounds in {seconds} s")


if __name__ == "__main__":
    main(float(sys.argv[1]) if len(sys.argv) > 1 else 5.0)
