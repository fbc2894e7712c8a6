from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext_lazy as _


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("対象者一覧（CSV ファイル）"),
        help_text=_("UTF-8 または Shift_JIS（CP932）の CSV、5 MB まで。取り込む前に内容を確認します。"),
    )

    def clean_file(self) -> UploadedFile:
        upload: UploadedFile = self.cleaned_data["file"]
        if not (upload.name or "").lower().endswith(".csv"):
            raise forms.ValidationError(_("拡張子が .csv のファイルを選んでください。"))
        limit = settings.TARGET_LIST_MAX_UPLOAD_BYTES
        if upload.size is None or upload.size > limit:
            raise forms.ValidationError(
                _("ファイルが大きすぎます（%(mb)d MB まで）。") % {"mb": limit // (1024 * 1024)}
            )
        if upload.size == 0:
            raise forms.ValidationError(_("ファイルが空です。"))
        return upload


class TokenForm(forms.Form):
    """The server-side upload is named by this token, looked up in the user's own session."""

    token = forms.CharField(max_length=64, widget=forms.HiddenInput)
    drop_columns = forms.MultipleChoiceField(
        label=_("除外する列"), required=False, widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args: object, droppable: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["drop_columns"].choices = [(name, name) for name in droppable or []]  # type: ignore[attr-defined]


class HouseholdLookupForm(forms.Form):
    """The ward manager opens a household by its 世帯番号 (POST: the number stays out of URLs)."""

    program = forms.ChoiceField(label=_("事業"))
    number = forms.CharField(label=_("世帯番号"), max_length=50)

    def __init__(self, *args: Any, programs: Sequence[Any] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["program"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.code, p.name) for p in programs]
        if len(programs) == 1:
            field.initial = programs[0].code


class SuspendForm(forms.Form):
    reason = forms.CharField(
        label=_("利用停止の理由"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("例：本人から利用停止の請求があったため（監査記録に残ります）"),
        error_messages={"required": _("利用停止の理由を入力してください。")},
    )


class LiftForm(forms.Form):
    reason = forms.CharField(
        label=_("解除の理由"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
