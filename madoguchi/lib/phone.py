"""Japanese phone numbers: one canonical form for storage, digits for matching.

``phonenumbers`` (Google's libphonenumber data) decides what a valid Japanese number is
and where the hyphens go (``03-1234-5678``, ``090-1234-5678``, ``0120-123-456``), so the
area-code table is not ours to maintain.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

from madoguchi.lib.errors import InputError
from madoguchi.lib.hyphens import unify_hyphens

__all__ = ["normalize_phone", "phone_digits"]

_ALLOWED = re.compile(r"\+?[0-9()\-. ]+")
_MAX_INPUT = 40


def _prepare(value: str) -> str:
    value = unify_hyphens(unicodedata.normalize("NFKC", value)).strip()
    # A leading "+81 (0)3 ..." keeps a trunk zero that must go.
    return re.sub(r"^\+81\s*\(0\)", "+81", value)


def normalize_phone(value: str) -> str:
    """Canonical national notation with hyphens, e.g. ``03-1234-5678``.

    Accepts full-width digits, every hyphen-like dash, spaces, ``(03)1234-5678`` and
    ``+81 90 1234 5678``. A valid foreign number is kept in international notation
    (``+1 202-555-0123``). Raises ``InputError`` when the number is not a valid one.
    """
    text = _prepare(value)
    if not text:
        raise InputError("電話番号を入力してください。", code="required")
    if len(text) > _MAX_INPUT or not _ALLOWED.fullmatch(text):
        raise InputError("電話番号は数字とハイフンで入力してください。", code="invalid_phone")
    try:
        number = phonenumbers.parse(text, "JP")
    except phonenumbers.NumberParseException as error:
        raise InputError("電話番号の桁数が正しくありません。", code="invalid_phone") from error
    if not phonenumbers.is_valid_number(number):
        raise InputError("電話番号の桁数または番号が正しくありません。", code="invalid_phone")
    if number.country_code == 81:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def phone_digits(value: str) -> str:
    """National digits only (``0312345678``), never raising: for partial or odd input.

    ``+81 90-1234-5678`` and ``81 90 1234 5678`` give ``09012345678``.
    """
    text = _prepare(value)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+81") or (digits.startswith("81") and len(digits) in (11, 12)):
        digits = "0" + digits[2:]
    return digits
