"""Folding and ranking without a database."""

from __future__ import annotations

import pytest

from txng.portal.search import best_rank, fold, rank, search_key


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Vải thiều Lục Ngạn", "vai thieu luc ngan"),
        ("VẢI THIỀU", "vai thieu"),
        ("Mì Chũ", "mi chu"),
        ("Đậu tương", "dau tuong"),
        ("  gạo   ST25 — đặc sản ", "gao st25 dac san"),
        ("", ""),
        (None, ""),
    ],
)
def test_fold_strips_vietnamese_diacritics(text: str | None, folded: str) -> None:
    assert fold(text) == folded


def test_rank_needs_every_word_and_prefers_the_phrase() -> None:
    key = search_key("Vải thiều Lục Ngạn", None, "HTX Lục Ngạn")
    assert rank(fold("vai thieu"), key) == 0
    assert rank(fold("ngan vai"), key) == 1
    assert rank(fold("vai nhan"), key) is None
    assert rank("", key) == 1


def test_best_rank_prefers_the_first_key() -> None:
    assert best_rank("dau", "dau tuong", "dau tuong htx") == 0
    assert best_rank("htx", "dau tuong", "dau tuong htx") == 2
    assert best_rank("gao", "dau tuong", "dau tuong htx") is None
