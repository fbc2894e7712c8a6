"""Kanji numerals (漢数字) as written in dates and addresses: 十九 → 19, 二〇二〇 → 2020."""

from __future__ import annotations

import re

DIGITS: dict[str, int] = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
UNITS: dict[str, int] = {"十": 10, "拾": 10, "百": 100, "千": 1000}
KANJI_NUMBER = re.compile("[" + "".join(DIGITS) + "".join(UNITS) + "]+")


def kanji_number(text: str) -> int:
    """``十九`` → 19, ``三十八`` → 38, ``百二`` → 102, ``二〇二〇`` → 2020 (digit by digit)."""
    if not text or any(ch not in DIGITS and ch not in UNITS for ch in text):
        raise ValueError(f"not a kanji numeral: {text!r}")
    if all(ch in DIGITS for ch in text):
        return int("".join(str(DIGITS[ch]) for ch in text))
    total, current = 0, 0
    for ch in text:
        if ch in DIGITS:
            current = current * 10 + DIGITS[ch]
        else:
            total += (current or 1) * UNITS[ch]
            current = 0
    return total + current


def replace_kanji_numbers(text: str) -> str:
    """Every run of kanji numerals becomes arabic digits (use only where no word has one)."""
    return KANJI_NUMBER.sub(lambda match: str(kanji_number(match.group(0))), text)
