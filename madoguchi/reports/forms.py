"""The report's choice of program and period, and the download's format."""

from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import Program
from madoguchi.reports.formats import ENCODINGS, FORMATS
from madoguchi.reports.selectors import KINDS, period_for

MAX_DAYS = 366


class ReportForm(forms.Form):
    program = forms.ChoiceField(label=_("事業"))
    kind = forms.ChoiceField(
        label=_("種類"),
        choices=[(key, _(label)) for key, label in KINDS.items()],
        initial="monthly",
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=_("対象日"),
        required=False,
        help_text=_("日報・週報・月報は、この日を含む日・週（月曜から）・月の報告です。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    date_from = forms.DateField(
        label=_("期間（から）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("期間（まで）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(program.code, program.name) for program in programs]
        if len(programs) == 1:
            field.initial = programs[0].code
        self.fields["day"].initial = timezone.localdate()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == "range":
            start, end = data.get("date_from"), data.get("date_to")
            if start is None:
                self.add_error("date_from", _("開始日を入力してください。"))
            if end is None:
                self.add_error("date_to", _("終了日を入力してください。"))
            if start and end:
                if end < start:
                    self.add_error("date_to", _("終了日は開始日以降の日付にしてください。"))
                elif (end - start).days + 1 > MAX_DAYS:
                    self.add_error("date_to", _("期間は366日以内にしてください。"))
                else:
                    data["period"] = (start, end)
        elif kind:
            day = data.get("day") or timezone.localdate()
            data["period"] = period_for(kind, day)
        return data

    @property
    def period(self) -> tuple[datetime.date, datetime.date]:
        start, end = self.cleaned_data["period"]
        return start, end


class DownloadForm(ReportForm):
    format = forms.ChoiceField(label=_("形式"), choices=[(fmt, fmt.upper()) for fmt in FORMATS])
    encoding = forms.ChoiceField(
        label=_("CSVの文字コード"),
        choices=[(ENCODINGS[0], _("UTF-8（BOM付き）")), (ENCODINGS[1], _("Shift_JIS（CP932）"))],
        initial=ENCODINGS[0],
        required=False,
    )
