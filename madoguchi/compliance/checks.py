"""System checks of the data inventory (R-01): `madoguchi check` fails on an undeclared field."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from madoguchi.compliance import inventory

HINT = (
    "Declare it in the app's inventory.py PERSONAL_DATA: Item(PersonalItem.X), "
    "Extra(AdditionalItem.Y, reason=...) or NotPersonal() (see docs/data-inventory.md)."
)


@register("madoguchi")
def data_inventory(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    return [
        Error(
            f"データ項目の申告がありません: {problem.label} ({problem.message})",
            hint=HINT,
            id=f"compliance.{problem.code}",
        )
        for problem in inventory.problems()
    ]
