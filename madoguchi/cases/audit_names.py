"""How the audit screens name the cases' objects: a case by its 受付番号."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.describe import register_object_type, register_value_labels
from madoguchi.cases.models import Case, Category, Channel, Priority, Status, TimelineEntry


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
    register_value_labels("channel", dict(Channel.choices))
    register_value_labels("priority", dict(Priority.choices))
    for key in ("status", "from", "to"):
        register_value_labels(key, dict(Status.choices))
    register_value_labels("kind", dict(TimelineEntry.Kind.choices))
    register_value_labels("screen", {"case": gettext_lazy("問い合わせの詳細"), "edit": gettext_lazy("編集")})
    register_value_labels(
        "fields",
        {
            **{
                field.name: field.verbose_name
                for field in Case._meta.fields
                if field.verbose_name != field.name
            },
            "household": gettext_lazy("世帯"),
            "timeline": gettext_lazy("経過"),
            "assignee": gettext_lazy("担当者"),
            "category": gettext_lazy("分類"),
            "caller_person": gettext_lazy("問い合わせ者"),
        },
    )
