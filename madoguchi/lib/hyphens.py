"""Hyphen-like characters that people type between digits, unified to ASCII ``-``.

Japanese input methods and Excel produce many dashes that look alike. Between digits in a
phone number, a postal code or an address block they all mean ``-``; inside words they do
not (``ー`` is the katakana long-vowel mark), so ``unify_hyphens`` is meant for those
numeric fields only, and ``unify_numeric_hyphens`` for mixed text such as addresses.
"""

from __future__ import annotations

import re

HYPHEN_LIKES: frozenset[str] = frozenset(
    "-"  # U+002D hyphen-minus
    "\u00ad"  # soft hyphen
    "\u2010"  # ‐ hyphen
    "\u2011"  # ‑ non-breaking hyphen
    "\u2012"  # ‒ figure dash
    "\u2013"  # – en dash
    "\u2014"  # — em dash
    "\u2015"  # ― horizontal bar
    "\u2043"  # ⁃ hyphen bullet
    "\u2212"  # − minus sign
    "\u2500"  # ─ box drawings light horizontal (IME "keisen")
    "\u2501"  # ━ box drawings heavy horizontal
    "\u30fc"  # ー katakana prolonged sound mark
    "\uff0d"  # － full-width hyphen-minus
    "\uff70"  # ｰ half-width prolonged sound mark
    "\ufe63"  # ﹣ small hyphen-minus
    "\ufe58"  # ﹘ small em dash
)

_HYPHEN_TABLE = {ord(ch): "-" for ch in HYPHEN_LIKES}
_CLASS = "".join(sorted(re.escape(ch) for ch in HYPHEN_LIKES))
_AFTER_DIGIT = re.compile(rf"(?<=[0-9０-９])[{_CLASS}]+")


def unify_hyphens(value: str) -> str:
    """Every hyphen-like character becomes ``-`` (for purely numeric fields)."""
    return value.translate(_HYPHEN_TABLE)


def unify_numeric_hyphens(value: str) -> str:
    """Hyphen-likes become one ``-`` only where they follow a digit (ASCII or full-width).

    ``ー`` after a digit is a dash (``3ー14``); after kana it is a long vowel and stays
    (``グリーンヒル``). A run of dashes collapses to one.
    """
    return _AFTER_DIGIT.sub("-", value)


def is_hyphen_like(ch: str) -> bool:
    return ch in HYPHEN_LIKES
