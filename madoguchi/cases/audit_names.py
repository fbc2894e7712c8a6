"""How the audit screens name the cases' objects: a case by its 受付番号."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.describe import register_object_type
from madoguchi.cases.models import Case, Category


def case_names(ids: list[str]) -> Mapping[str, str]:
    public_ids = []
    for value in ids:
        try:
            public_ids.append(uuid.UUID(value))
        except ValueError:
            continue
    rows = Case.objects.filter(public_id__in=public_ids).values_list("public_id", "receipt_number")
    return {str(public_id): _("受付番号 %(number)s") % {"number": number} for public_id, number in rows}


def category_names(ids: list[str]) -> Mapping[str, str]:
    keys = [int(value) for value in ids if value.isdigit()]
    return {str(pk): name for pk, name in Category.objects.filter(pk__in=keys).values_list("pk", "name")}


def register() -> None:
    register_object_type("case", gettext_lazy("問い合わせ"), case_names)
    register_object_type("case_list", gettext_lazy("問い合わせ一覧"))
    register_object_type("case_queue", gettext_lazy("対応待ちの一覧"))
    register_object_type("case_category", gettext_lazy("問い合わせ分類"), category_names)
    register_object_type("standard_answer", gettext_lazy("定型回答"))
