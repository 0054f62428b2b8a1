"""A small in-memory inverted index with BM25 ranking, updated one memory at a time.

Batch BM25 libraries rebuild their matrices on change; memories change one at a time from
a KV watch, so an incremental index of our own is both simpler and faster here.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict

TOKEN = re.compile(r"[a-z0-9]+")
K1, B = 1.2, 0.75


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text.lower())


class SearchIndex:
    def __init__(self) -> None:
        self.postings: dict[str, dict[str, int]] = defaultdict(dict)
        self.lengths: dict[str, int] = {}
        self.words: dict[str, list[str]] = {}
        self.total = 0

    def add(self, doc_id: str, text: str) -> None:
        self.remove(doc_id)
        words = tokens(text)
        self.lengths[doc_id] = len(words)
        self.total += len(words)
        counts: dict[str, int] = defaultdict(int)
        for word in words:
            counts[word] += 1
        for word, n in counts.items():
            self.postings[word][doc_id] = n
        self.words[doc_id] = list(counts)

    def remove(self, doc_id: str) -> None:
        length = self.lengths.pop(doc_id, None)
        if length is None:
            return
        self.total -= length
        for word in self.words.pop(doc_id, []):
            posting = self.postings[word]
            posting.pop(doc_id, None)
            if not posting:
                del self.postings[word]

    def search(self, query: str) -> dict[str, float]:
        """BM25 score of every document that contains a query word."""
        n = len(self.lengths)
        if n == 0:
            return {}
        lengths = self.lengths
        # norm = tf + K1 * (1 - B + B * length / average), with the constant parts hoisted
        base, per_word = K1 * (1 - B), K1 * B / (self.total / n or 1)
        scores: dict[str, float] = defaultdict(float)
        for word in set(tokens(query)):
            posting = self.postings.get(word)
            if not posting:
                continue
            weight = math.log(1 + (n - len(posting) + 0.5) / (len(posting) + 0.5)) * (K1 + 1)
            for doc_id, tf in posting.items():
                scores[doc_id] += weight * tf / (tf + base + per_word * lengths[doc_id])
        return scores
