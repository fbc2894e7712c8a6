from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.audit.details import AuditDetailsError, check_token
from madoguchi.audit.forms import DateTimeLocalInput
from madoguchi.compliance.models import INCIDENT_FIELDS, Incident


class DateInput(forms.DateInput):
    input_type = "date"


class StaffRecordForm(forms.Form):
    pledge_signed_on = forms.DateField(label=_("秘密保持誓約の日"), required=False, widget=DateInput())
    training_completed_on = forms.DateField(label=_("最後の研修受講日"), required=False, widget=DateInput())
    note = forms.CharField(label=_("備考（研修名など）"), max_length=200, required=False)


class PolicyForm(forms.Form):
    scope = forms.CharField(widget=forms.HiddenInput)
    valid_days = forms.IntegerField(
        label=_("研修の有効日数"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("空にすると、この範囲の設定を削除します。"),
    )


class ResponsibleForm(forms.Form):
    program = forms.TypedChoiceField(label=_("事業"), coerce=int)
    organisation = forms.TypedChoiceField(label=_("組織"), coerce=int)
    user = forms.TypedChoiceField(label=_("責任者"), coerce=int)
    title = forms.CharField(label=_("役職"), max_length=100, required=False)
    since = forms.DateField(label=_("就任日"), widget=DateInput())

    def __init__(
        self, *args: Any, programs: list[Any], organisations: list[Any], users: list[Any], **kwargs: Any
    ):
        super().__init__(*args, **kwargs)
        self.fields["program"].choices = [(p.pk, p.name) for p in programs]  # type: ignore[attr-defined]
        self.fields["organisation"].choices = [(o.pk, o.name) for o in organisations]  # type: ignore[attr-defined]
        self.fields["user"].choices = [  # type: ignore[attr-defined]
            (u.pk, f"{u.display_name or u.username} ({u.username})") for u in users
        ]


class IncidentForm(forms.ModelForm):
    class Meta:
        model = Incident
        fields = ["program", *INCIDENT_FIELDS]
        widgets = {
            "found_at": DateTimeLocalInput(),
            "occurred_from": DateTimeLocalInput(),
            "ward_told_at": DateTimeLocalInput(),
            "ppc_told_at": DateTimeLocalInput(),
            "summary": forms.Textarea(attrs={"rows": 4}),
            "records": forms.Textarea(attrs={"rows": 4}),
            "told_whom": forms.Textarea(attrs={"rows": 3}),
            "actions": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args: Any, programs: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["program"].queryset = programs  # type: ignore[attr-defined]

    def clean_records(self) -> str:
        lines = [line.strip() for line in self.cleaned_data["records"].splitlines() if line.strip()]
        for line in lines:
            try:
                check_token(line, "records")
            except AuditDetailsError as exc:
                raise forms.ValidationError(
                    _(
                        "対象の記録は受付番号・公開IDで1行に1つずつ書いてください（氏名・電話番号などは書けません）。"
                    )
                ) from exc
        return "\n".join(lines)
