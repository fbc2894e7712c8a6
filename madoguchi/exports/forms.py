"""The export's choices: the case list's filters (its own form), the columns, format and purpose."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.forms import SearchForm
from madoguchi.exports.services import COLUMNS, DEFAULT_COLUMNS, FORMATS, PURPOSE_MAX
from madoguchi.programs.models import Program


class ExportForm(SearchForm):
    """The case list's SearchForm (status, category, channel, dates, assignee, escalated,
    overdue, text) plus what an export needs."""

    program = forms.ChoiceField(label=_("事業"))
    columns = forms.MultipleChoiceField(
        label=_("出力する項目"),
        choices=[(column.key, column.label) for column in COLUMNS],
        initial=DEFAULT_COLUMNS,
        widget=forms.CheckboxSelectMultiple,
    )
    format = forms.ChoiceField(
        label=_("形式"),
        choices=[(fmt, fmt.upper()) for fmt in FORMATS],
        initial="xlsx",
        widget=forms.RadioSelect,
    )
    purpose = forms.CharField(
        label=_("出力の目的"),
        max_length=PURPOSE_MAX,
        help_text=_(
            "情報管理台帳と監査記録に残ります（例: 区議会への報告資料の作成）。"
            "個人の氏名などは書かないでください。"
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, programs: list[Program], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(program.code, program.name) for program in programs]
        if len(programs) == 1:
            field.initial = programs[0].code
        self.fields["mine"].widget = forms.HiddenInput()
