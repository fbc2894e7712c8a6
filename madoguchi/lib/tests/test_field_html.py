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


class TextForm(forms.Form):
    name = forms.CharField(label="氏名", max_length=200, required=False)
    mail = forms.EmailField(label="メール", required=False)
    body = forms.CharField(label="内容", widget=forms.Textarea(attrs={"rows": 5}), required=False)
    phone = forms.CharField(label="電話", widget=forms.TextInput(attrs={"inputmode": "tel"}), required=False)


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
        assert not [key for key in field_html._kept if key[4] == "since"]
        # A text value is kept only as the placeholder: neither the key nor the HTML holds it.
        assert not any("山田" in repr(key) for key in field_html._kept)

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

    def test_a_text_value_goes_into_the_kept_html_escaped_as_the_include_escapes_it(self):
        values = [
            "山田 花子",
            "<script>alert(\"x\")</script> & 'y'",
            "  前後に空白  ",
            "一行目\n二行目\r\n<b>三</b>",
            "0",
            "&amp; &lt;",
        ]
        for value in values:
            data = {"name": value, "mail": value, "body": value, "phone": value}
            for form in (TextForm(data), TextForm(initial=data)):
                if form.is_bound:
                    form.full_clean()
                for name in ("name", "body", "phone"):
                    assert field_html.field_html(form[name]) == include(form[name]), (name, value)
        assert all(field_html.TOKEN in html for html in field_html._kept.values())
        kept = "".join(field_html._kept.values())
        assert not any(word in kept for word in ("山田", "script", "前後", "二行目", "&amp;amp;"))
        # one kept HTML per field and form, whatever the values
        assert len(field_html._kept) == 3

    def test_a_value_holding_the_token_is_rendered_not_kept(self):
        form = TextForm(initial={"name": "x" + field_html.TOKEN})
        assert field_html.field_html(form["name"]) == include(form["name"])
        assert not field_html._kept

    def test_errors_are_never_kept_for_text_either(self):
        form = TextForm({"mail": "not an address <x>"})
        form.is_valid()
        assert field_html.field_html(form["mail"]) == include(form["mail"])
        assert not field_html._kept
