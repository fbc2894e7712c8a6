"""`LazyForm`: a form made on its first use renders as the form itself, in a loop too."""

from __future__ import annotations

from django import forms
from django.template import Context, Template

from madoguchi.core.forms import LazyForm


class SampleForm(forms.Form):
    name = forms.CharField(label="氏名")
    age = forms.IntegerField(label="年齢")


PAGE = Template(
    "{% if show %}{% for bound in form %}[{{ bound.name }}:{{ bound }}]{% endfor %}"
    "{{ form.name.label }}{{ form.errors }}{% endif %}"
)


def test_a_lazy_form_renders_as_the_form_and_is_made_only_when_used():
    made = []

    def make():
        made.append(1)
        return SampleForm(initial={"name": "試験"})

    lazy = LazyForm(make)
    assert PAGE.render(Context({"show": False, "form": lazy})) == ""
    assert made == []
    assert PAGE.render(Context({"show": True, "form": lazy})) == PAGE.render(
        Context({"show": True, "form": SampleForm(initial={"name": "試験"})})
    )
    assert made == [1]
    assert len(lazy) == 2
