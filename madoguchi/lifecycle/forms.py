from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class RequestPurgeForm(forms.Form):
    reason = forms.CharField(
        label=_("消去の理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例：事業の終了（契約の定めによる消去）。監査ログと消去証明書に残ります。"),
        error_messages={"required": _("消去の理由を入力してください。")},
    )
    waive_return = forms.BooleanField(
        label=_("区への返還を行わずに消去する"),
        required=False,
        help_text=_("返還しない理由を上の欄に書いてください。"),
    )
