"""本人確認 of a case, decided on the server by the program's rule.

The browser only says which items the caller answered correctly; the status (確認済 /
一部確認 / 未確認) is always computed here from `Program.verification_rule`, never taken from a
posted label. Zero items is never 確認済, and an item outside the program's rule is refused
with a Japanese validation error, so no arbitrary string is stored as an item.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from madoguchi.identify.verification import ITEMS, verification_status


def item_label(code: str) -> str:
    """An item's Japanese label; an unknown code (an old record) is shown as 「その他」."""
    label = ITEMS.get(code)
    return str(label) if label is not None else _("その他")


def program_items(rule: dict[str, Any] | None) -> list[str]:
    """The items the program's rule counts, in the panel's order (the name first)."""
    rule = rule or {}
    counted = set(rule.get("items", ["dob", "address", "phone"]))
    if rule.get("requires_name", True):
        counted.add("name")
    return [code for code in ITEMS if code in counted]


@dataclass(frozen=True)
class Decision:
    status: str
    items: list[str]

    @property
    def label(self) -> str:
        from madoguchi.cases.models import Verification

        return str(Verification(self.status).label)


def decide(rule: dict[str, Any] | None, posted_items: Iterable[str]) -> Decision:
    """The status the rule gives for the items confirmed; a ValidationError for a foreign item."""
    allowed = program_items(rule)
    items: list[str] = []
    for raw in posted_items:
        for part in str(raw).split(","):
            code = part.strip()
            if not code:
                continue
            if code not in allowed:
                raise ValidationError(
                    {"verified_items": _("本人確認の項目にこの事業で使わない項目が含まれています。")}
                )
            if code not in items:
                items.append(code)
    ordered = [code for code in allowed if code in items]
    status = verification_status(rule, ordered) if ordered else "not_verified"
    return Decision(status=status, items=ordered)


def describe(status: str, items: Iterable[str]) -> str:
    """「本人確認済（氏名・生年月日・電話番号）」: for the timeline, in Japanese."""
    from madoguchi.cases.models import Verification

    labels = [item_label(code) for code in items]
    text = str(Verification(status).label)
    return f"{text}（{'・'.join(labels)}）" if labels else text
