"""What the operator types into the identification panel (every field optional), and the
name of a new screen-pop API token."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.identify.engine import Query
from madoguchi.identify.verification import ITEMS

FIELD_LABELS = {
    "guardian_name": _("保護者氏名"),
    "guardian_kana": _("保護者氏名カナ"),
    "child_name": _("児童氏名"),
    "child_kana": _("児童氏名カナ"),
    "child_dob": _("児童生年月日"),
    "guardian_dob": _("保護者生年月日"),
    "address": _("住所"),
    "phone": _("電話番号"),
    "email": _("メールアドレス"),
}
HINTS = {
    "child_dob": _("例: R2.5.3、2020/5/3"),
    "address": _("町名からで構いません"),
}


def _field(name: str) -> forms.CharField:
    return forms.CharField(
        label=FIELD_LABELS[name],
        required=False,
        max_length=200,
        help_text=HINTS.get(name, ""),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class SearchForm(forms.Form):
    program = forms.SlugField(widget=forms.HiddenInput)
    guardian_name = _field("guardian_name")
    guardian_kana = _field("guardian_kana")
    child_name = _field("child_name")
    child_kana = _field("child_kana")
    child_dob = _field("child_dob")
    guardian_dob = _field("guardian_dob")
    address = _field("address")
    phone = _field("phone")
    email = _field("email")

    def query(self) -> Query:
        data = self.cleaned_data
        return Query(**{name: data.get(name) or "" for name in FIELD_LABELS})


class ConfirmForm(forms.Form):
    program = forms.SlugField()
    household = forms.UUIDField()
    items = forms.MultipleChoiceField(choices=list(ITEMS.items()), required=False)


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=100,
        help_text=_("どの電話システムで使うかが分かる名前（例：本社コールセンターのPBX）"),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
