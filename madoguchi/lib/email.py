"""E-mail addresses: one stored form, validated the way Django's forms validate them."""

from __future__ import annotations

import re
import unicodedata

from madoguchi.lib.errors import InputError

__all__ = ["email_key", "normalize_email"]

_MAX_LENGTH = 254
# Used only when Django is not importable (the lib is usable without it).
_FALLBACK = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@(?:[A-Za-z0-9-]+\.)+[A-Za-z0-9-]{2,63}")
_INVALID = "メールアドレスの形式が正しくありません（例: hanako@example.jp）。"


def _validate(address: str) -> None:
    try:
        from django.core.exceptions import ValidationError
        from django.core.validators import EmailValidator
    except ImportError:  # pragma: no cover - the project always has Django
        if not _FALLBACK.fullmatch(address) or ".." in address:
            raise InputError(_INVALID, code="invalid_email") from None
        return
    try:
        EmailValidator()(address)
    except ValidationError as error:
        raise InputError(_INVALID, code="invalid_email") from error


def normalize_email(value: str) -> str:
    """``A@example.jp`` from ``Ａ＠example.jp``: NFKC, domain lower-cased and IDNA-encoded.

    The local part keeps its case (it is the mailbox owner's to define). ``a@b`` and other
    malformed addresses raise ``InputError``.
    """
    text = "".join(unicodedata.normalize("NFKC", value).split()).strip("\u200b\ufeff")
    if not text:
        raise InputError("メールアドレスを入力してください。", code="required")
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InputError(_INVALID, code="invalid_email")
    domain = domain.lower().rstrip(".")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as error:
            raise InputError(_INVALID, code="invalid_email") from error
    address = f"{local}@{domain}"
    if len(address) > _MAX_LENGTH:
        raise InputError("メールアドレスが長すぎます。", code="invalid_email")
    _validate(address)
    return address


def email_key(value: str) -> str:
    """Matching key: the normalized address lower-cased, or "" when it is not an address."""
    try:
        return normalize_email(value).lower()
    except InputError:
        return ""
