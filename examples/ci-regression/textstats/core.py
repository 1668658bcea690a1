import os

# Stands in for a code change that makes count_words() about three times as slow (say, extra
# passes someone added "to be safe"). `check.sh --inject-regression` sets it.
_SLOW = os.environ.get("TEXTSTATS_SLOW") == "1"

_PUNCTUATION = ".,;:!?\"'()"


def tokenize(text):
    words = []
    for word in text.split():
        word = word.strip(_PUNCTUATION).lower()
        if word:
            words.append(word)
    return words


def count_words(words):
    counts = {}
    for _ in range(3 if _SLOW else 1):
        counts = {}
        for word in words:
            counts[word] = counts.get(word, 0) + 1
    return counts


def top_words(counts, n=10):
    best = []
    for word, count in counts.items():
        if len(best) < n or count > best[-1][0]:
            best.append((count, word))
            best.sort(reverse=True)
            del best[n:]
    return [(word, count) for count, word in best]
