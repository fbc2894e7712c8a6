"""`field_html` gives the include's own HTML, and keeps only what may be kept."""

from __future__ import annotations

import datetime

from django import forms
from django.template.loader import render_to_string
from django.utils import translation

from madoguchi.lib import field_html


class SampleForm(forms.Form):
    status = forms.ChoiceField(label="状態", choices=[("", "すべて"), ("new", "新規")], required=False)
    since = forms.DateField(label="受付日", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    urgent = forms.BooleanField(label="至急", required=False)
    note = forms.CharField(label="メモ", max_length=20, required=False)


def include(field: forms.BoundField) -> str:
    return render_to_string(field_html.TEMPLATE, {"field": field})


class FieldHtmlTests:
    def setup_method(self) -> None:
        field_html._kept.clear()

    def test_it_renders_what_the_include_renders_for_every_state(self):
        for data in ({}, {"status": "new", "since": "2026-04-01", "urgent": "on", "note": "山田 花子"}):
            for form in (SampleForm(), SampleForm(data)):
                form.is_valid()
                for name in form.fields:
                    assert field_html.field_html(form[name]) == include(form[name])
                    assert field_html.field_html(form[name]) == include(form[name])  # from the kept HTML

    def test_free_text_and_errors_are_never_kept(self):
        form = SampleForm({"note": "山田 花子", "since": "not a date"})
        form.is_valid()
        for name in ("note", "since"):
            field_html.field_html(form[name])
        assert not any("山田" in html or "not a date" in html for html in field_html._kept.values())
        assert not [key for key in field_html._kept if key[4] in {"note", "since"}]

    def test_an_empty_text_field_and_structured_values_are_kept_per_value_and_language(self):
        first = SampleForm({"since": "2026-04-01"})
        second = SampleForm({"since": datetime.date(2026, 4, 2).isoformat()})
        for form in (first, second):
            form.is_valid()
            field_html.field_html(form["since"])
            field_html.field_html(form["note"])
        with translation.override("en"):
            field_html.field_html(first["since"])
        assert sorted(key[4] for key in field_html._kept) == ["note", "since", "since", "since"]
        assert 'value="2026-04-02"' in field_html.field_html(second["since"])
