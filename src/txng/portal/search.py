"""Diacritics-insensitive matching for Vietnamese: pure functions, tested without a database.

``fold`` is applied to the query and to the data alike, so "vai thieu", "VAI THIEU" and
"vải thiều" all become ``vai thieu``. đ/Đ is not a combining mark in Unicode and is mapped by hand.
"""

from __future__ import annotations

import re
import unicodedata

_NOT_WORD = re.compile(r"[\W_]+")


def fold(text: str | None) -> str:
    """Lower case, no diacritics (đ→d), punctuation as spaces, single spaces."""
    if not text:
        return ""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(_NOT_WORD.sub(" ", bare.casefold()).split())


def search_key(*parts: str | None) -> str:
    """The folded text a record is searched by."""
    return " ".join(f for f in (fold(p) for p in parts) if f)


def best_rank(query_key: str, *keys: str) -> int | None:
    """Rank over keys in order of importance (the product's own names before its producer's)."""
    for i, key in enumerate(keys):
        found = rank(query_key, key)
        if found is not None:
            return 2 * i + found
    return None


def rank(query_key: str, key: str) -> int | None:
    """None when some word of the query is missing; 0 for the whole phrase, 1 for all words."""
    words = query_key.split()
    if not words:
        return 1
    if not all(w in key for w in words):
        return None
    return 0 if query_key in key else 1
