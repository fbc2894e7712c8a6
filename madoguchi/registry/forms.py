from __future__ import annotations

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
