"""A tiny text-statistics library: the code under test of the CI regression example."""
from .core import count_words, tokenize, top_words

__all__ = ["count_words", "tokenize", "top_words"]
