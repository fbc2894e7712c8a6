"""Filters of the audit screens. They hold ids, codes, addresses and times: no personal value,
so they are GET parameters (a household is named by its opaque id, never by its name)."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.audit.describe import object_type_choices as registered_types
from madoguchi.audit.details import AuditDetailsError, check_token
from madoguchi.audit.models import Action
from madoguchi.audit.selectors import EventFilter

# The object types the filter offers first; every other registered type follows.
OBJECT_TYPES = [
    ("", _("（すべて）")),
    ("household", _("世帯")),
    ("case", _("問い合わせ")),
    ("guardian", _("保護者")),
    ("child", _("児童")),
    ("targetlistimport", _("対象者名簿の取込")),
    ("user", _("利用者")),
    ("program", _("事業")),
    ("audit_event", _("監査ログ")),
    ("audit_change", _("変更前後の値")),
]


def object_type_choices() -> list[tuple[str, Any]]:
    first = {value for value, _label in OBJECT_TYPES}
    return OBJECT_TYPES + [(value, label) for value, label in registered_types() if value not in first]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class EventFilterForm(forms.Form):
    actor = forms.TypedChoiceField(label=_("利用者"), required=False, coerce=int, empty_value=None)
    object_type = forms.ChoiceField(label=_("対象の種類"), required=False, choices=object_type_choices)
    object_id = forms.CharField(
        label=_("対象ID"),
        required=False,
        max_length=64,
        help_text=_("世帯・問い合わせの公開ID（URLの末尾）など。氏名では検索できません。"),
    )
    action = forms.ChoiceField(
        label=_("操作"), required=False, choices=[("", _("（すべて）")), *Action.choices]
    )
    client_ip = forms.GenericIPAddressField(label=_("接続元アドレス"), required=False)
    program = forms.TypedChoiceField(label=_("事業"), required=False, coerce=int, empty_value=None)
    at_from = forms.DateTimeField(label=_("期間（から）"), required=False, widget=DateTimeLocalInput())
    at_to = forms.DateTimeField(label=_("期間（まで）"), required=False, widget=DateTimeLocalInput())

    def __init__(self, *args: Any, users: list[Any], programs: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        actor_field: Any = self.fields["actor"]
        actor_field.choices = [("", _("（すべて）"))] + [
            (
                u.pk,
                _("%(name)s（%(username)s・%(role)s）")
                % {
                    "name": u.display_name or u.username,
                    "username": u.username,
                    "role": u.get_role_display(),
                },
            )
            for u in users
        ]
        program_field: Any = self.fields["program"]
        program_field.choices = [("", _("（すべて）"))] + [(p.pk, p.name) for p in programs]

    def clean_object_id(self) -> str:
        value: str = self.cleaned_data["object_id"].strip()
        if value:
            try:
                check_token(value, "object_id")
            except AuditDetailsError as exc:
                raise forms.ValidationError(
                    _("IDで指定してください（氏名・電話番号などは使えません）。")
                ) from exc
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("at_from"), data.get("at_to")
        if start and end and start >= end:
            self.add_error("at_to", _("期間の終わりは始まりより後にしてください。"))
        return data

    def to_filter(self) -> EventFilter:
        data = self.cleaned_data if self.is_valid() else {}
        return EventFilter(
            actor_id=data.get("actor"),
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            action=data.get("action") or "",
            client_ip=data.get("client_ip") or "",
            program_id=data.get("program"),
            at_from=data.get("at_from"),
            at_to=data.get("at_to"),
        )


class ReviewWindowForm(forms.Form):
    at_from = forms.DateField(
        label=_("期間（から）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    at_to = forms.DateField(
        label=_("期間（まで）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def window(self) -> tuple[datetime.datetime, datetime.datetime]:
        today = timezone.localdate()
        data = self.cleaned_data if self.is_valid() else {}
        end_day: datetime.date = data.get("at_to") or today
        start_day: datetime.date = data.get("at_from") or end_day - datetime.timedelta(days=30)
        if start_day > end_day:
            start_day, end_day = end_day, start_day
        start = timezone.make_aware(datetime.datetime.combine(start_day, datetime.time.min))
        end = timezone.make_aware(
            datetime.datetime.combine(end_day + datetime.timedelta(days=1), datetime.time.min)
        )
        return start, end
