"""Password rules beyond Django's (R-10): no words an attacker would try first for this system."""

from __future__ import annotations

import unicodedata
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Words anyone guessing a password for this system would try first.
BASE_WORDS = (
    "madoguchi",
    "窓口",
    "mado",
    "setagaya",
    "世田谷",
    "せたがや",
    "セタガヤ",
    "kodomo",
    "子ども",
    "callcenter",
    "コールセンター",
    "password",
    "パスワード",
    "kuyakusho",
    "区役所",
)
MIN_WORD_LENGTH = 4


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def context_words() -> set[str]:
    """The fixed words plus the names and codes of every organisation and program."""
    from madoguchi.accounts.models import Organisation
    from madoguchi.programs.models import Program

    words = {_fold(word) for word in BASE_WORDS}
    for code, name in Organisation.objects.values_list("code", "name"):
        words.update(_fold(part) for part in (code, name, *code.split("-"), *name.split()))
    for code, name in Program.objects.values_list("code", "name"):
        words.update(_fold(part) for part in (code, name, *code.split("-"), *name.split()))
    # Short fragments ("ku", "a") would refuse half of all passwords; keep only real words.
    return {word for word in words if len(word) >= MIN_WORD_LENGTH or (not word.isascii() and len(word) >= 2)}


class ContextWordValidator:
    """Refuses a password containing the system's, the ward's or a program's name."""

    def validate(self, password: str, user: Any = None) -> None:
        folded = _fold(password)
        if any(word in folded for word in context_words()):
            raise ValidationError(
                _("この業務・組織・システムの名称を含むパスワードは使えません。"),
                code="password_context_word",
            )

    def get_help_text(self) -> str:
        return _("区・事業・システムの名称を含まないでください。")
