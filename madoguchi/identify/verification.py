"""本人確認: whether what the caller confirmed satisfies the program's rule.

A rule is the program's `verification_rule`, e.g. the default
`{"requires_name": True, "min_other_items": 2, "items": ["dob", "address", "phone"]}`:
the caller's name plus two of date of birth, address and phone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.translation import gettext_lazy as _

VERIFIED = "verified"
PARTIAL = "partial"
NOT_VERIFIED = "not_verified"

# The items an operator can tick, in the order the panel shows them.
ITEMS: dict[str, Any] = {
    "name": _("氏名"),
    "dob": _("生年月日"),
    "address": _("住所"),
    "phone": _("電話番号"),
}
STATUS_LABELS: dict[str, Any] = {
    VERIFIED: _("本人確認済み"),
    PARTIAL: _("本人確認（一部）"),
    NOT_VERIFIED: _("本人未確認"),
}


def verification_status(rule: dict[str, Any] | None, confirmed_items: Iterable[str]) -> str:
    """ "verified" when the rule holds, "partial" when something was confirmed, else "not_verified"."""
    rule = rule or {}
    confirmed = {item for item in confirmed_items if item in ITEMS}
    requires_name = bool(rule.get("requires_name", True))
    counted = [item for item in rule.get("items", ["dob", "address", "phone"]) if item != "name"]
    minimum = int(rule.get("min_other_items", 2))
    others = len(confirmed & set(counted))
    if (not requires_name or "name" in confirmed) and others >= minimum and confirmed:
        return VERIFIED
    return PARTIAL if confirmed else NOT_VERIFIED
