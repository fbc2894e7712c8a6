"""Forms bind only their listed fields; organisation, role and programs are limited to what the
acting manager may give (T-SEC-03)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Organisation, Role, validate_network
from madoguchi.accounts.services import managed_organisations
from madoguchi.programs.models import Program


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("ユーザー名"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    password = forms.CharField(
        label=_("パスワード"),
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


CODE_WIDGET = {
    "autocomplete": "one-time-code",
    "inputmode": "numeric",
    "autocapitalize": "none",
    "spellcheck": "false",
}


class CodeForm(forms.Form):
    otp_token = forms.CharField(
        label=_("確認コード"),
        max_length=20,
        help_text=_("認証アプリに表示される6桁の数字、または回復コードを入力してください。"),
        widget=forms.TextInput(attrs=CODE_WIDGET),
    )


class EnrolForm(forms.Form):
    otp_token = forms.CharField(
        label=_("確認コード"),
        max_length=10,
        help_text=_("登録した認証アプリに表示される6桁の数字を入力してください。"),
        widget=forms.TextInput(attrs=CODE_WIDGET),
    )


class NetworkForm(forms.Form):
    organisation = forms.ModelChoiceField(label=_("組織"), queryset=Organisation.objects.none())
    network = forms.CharField(
        label=_("アドレス・範囲"),
        max_length=49,
        validators=[validate_network],
        help_text=_("例: 192.0.2.10 または 192.0.2.0/24"),
    )
    note = forms.CharField(label=_("メモ"), max_length=200, required=False)

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = managed_organisations(actor)  # type: ignore[attr-defined]


class UserCreateForm(forms.Form):
    username = forms.SlugField(label=_("ユーザー名"), max_length=150, help_text=_("半角英数字とハイフン"))
    display_name = forms.CharField(label=_("表示名"), max_length=100)
    organisation = forms.ModelChoiceField(label=_("組織"), queryset=Organisation.objects.none())
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices)
    programs = forms.ModelMultipleChoiceField(
        label=_("担当事業"),
        queryset=Program.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    valid_from = forms.DateField(
        label=_("利用開始日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    valid_until = forms.DateField(
        label=_("利用終了日"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, actor: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["organisation"].queryset = managed_organisations(actor)  # type: ignore[attr-defined]
        self.fields["programs"].queryset = Program.objects.filter(  # type: ignore[attr-defined]
            ward_id=actor.organisation_id
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("valid_from"), data.get("valid_until")
        if start and end and start > end:
            self.add_error("valid_until", _("利用終了日は利用開始日より後にしてください。"))
        return data


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("役割"), choices=Role.choices)
