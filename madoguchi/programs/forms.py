from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.services import REASON_MAX_LENGTH


class CloseRecordingForm(forms.Form):
    reason = forms.CharField(
        label=_("記録を終了する理由"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("監査記録に残ります。例：事業の終了が前倒しになったため"),
        error_messages={"required": _("記録を終了する理由を入力してください。")},
    )
    confirm = forms.BooleanField(
        label=_("記録を終了すると、以後この事業の個人情報の登録・変更はできないことを確認しました"),
        error_messages={"required": _("確認の欄にチェックを入れてください。")},
    )
