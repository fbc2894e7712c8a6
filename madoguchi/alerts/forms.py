from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from madoguchi.alerts.models import AlertSettings


class AlertSettingsForm(forms.ModelForm):
    class Meta:
        model = AlertSettings
        fields = ["web_untouched_hours", "households_per_hour", "hours_start", "hours_end", "weekdays_only"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("hours_start"), data.get("hours_end")
        if start is not None and end is not None and start >= end:
            self.add_error("hours_end", _("業務時間の終了は開始より後にしてください。"))
        return data

    def _post_clean(self) -> None:
        # Validation of the whole model happens in services.update_settings (one place).
        pass
