"""How the audit screens name programs and the approved personal items listed in an event."""

from __future__ import annotations

from collections.abc import Mapping

from django.utils.translation import gettext_lazy

from madoguchi.audit.describe import register_object_type, register_value_labels
from madoguchi.programs.models import PersonalItem, Program


def program_names(ids: list[str]) -> Mapping[str, str]:
    keys = [int(value) for value in ids if value.isdigit()]
    return {str(pk): name for pk, name in Program.objects.filter(pk__in=keys).values_list("pk", "name")}


def register() -> None:
    register_object_type("program", gettext_lazy("事業"), program_names)
    register_value_labels("fields", {item.value: item.label for item in PersonalItem})
    # Identification names the items it compared by short codes.
    register_value_labels(
        "fields",
        {
            "name": gettext_lazy("氏名"),
            "kana": gettext_lazy("氏名カナ"),
            "dob": gettext_lazy("生年月日"),
            "child_name": gettext_lazy("児童氏名"),
            "child_dob": gettext_lazy("児童生年月日"),
            "guardian_name": gettext_lazy("保護者氏名"),
            "guardian_dob": gettext_lazy("保護者生年月日"),
            "guardian_kana": gettext_lazy("保護者氏名カナ"),
            "child_kana": gettext_lazy("児童氏名カナ"),
            "phone": gettext_lazy("電話番号"),
            "email": gettext_lazy("メールアドレス"),
            "address": gettext_lazy("住所"),
            "postal_code": gettext_lazy("郵便番号"),
        },
    )
