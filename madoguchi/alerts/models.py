"""Alerts: what someone should look at now, raised once per occurrence by `madoguchi alerts run`.

An `Alert` is one occurrence, made unique by its `key` (the rule, the object and the moment
that make it this occurrence, e.g. the case and the deadline it missed): a second run, or two
runs at once, cannot raise it twice. Each alert has its recipients (the ward manager or the
supervisor concerned), who see it in the app; the e-mail, which holds a link only, is claimed
with a conditional UPDATE of `emailed_at` so that it leaves once.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.cases.models import Case
from madoguchi.programs.models import Program


class AlertSettings(models.Model):
    """The program's thresholds, edited by its ward manager (defaults until then)."""

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="alert_settings")
    web_untouched_hours = models.PositiveSmallIntegerField(
        _("Web問い合わせの未着手（時間）"),
        default=4,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
    )
    households_per_hour = models.PositiveSmallIntegerField(
        _("1時間に開く世帯数の上限"), default=60, validators=[MinValueValidator(1), MaxValueValidator(10000)]
    )
    hours_start = models.PositiveSmallIntegerField(
        _("業務時間（開始時）"), default=8, validators=[MaxValueValidator(23)]
    )
    hours_end = models.PositiveSmallIntegerField(
        _("業務時間（終了時）"), default=20, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    weekdays_only = models.BooleanField(_("土日祝日は業務時間外"), default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("アラート設定")
        verbose_name_plural = _("アラート設定")
        constraints = [
            models.CheckConstraint(
                name="alert_settings_hours_ordered", condition=models.Q(hours_start__lt=models.F("hours_end"))
            ),
        ]

    def __str__(self) -> str:
        return f"alert settings of {self.program_id}"


class Kind(models.TextChoices):
    WARD_OVERDUE = "ward_overdue", _("区回答の期限超過")
    CALLBACK_OVERDUE = "callback_overdue", _("折り返しの期限超過")
    WEB_UNTOUCHED = "web_untouched", _("未着手のWeb問い合わせ")
    OUT_OF_HOURS = "out_of_hours", _("業務時間外の閲覧")
    HOUSEHOLD_BURST = "household_burst", _("多数の世帯の閲覧")


class Alert(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(_("種類"), max_length=20, choices=Kind.choices)
    # One occurrence: the rule, its object and the moment (see services.occurrence keys).
    key = models.CharField(max_length=200, unique=True)
    case = models.ForeignKey(Case, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The user whose record views raised it (out of hours, many households).
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    hour = models.DateTimeField(_("時間帯"), null=True, blank=True)
    count = models.PositiveIntegerField(_("件数"), default=0)
    raised_at = models.DateTimeField(_("発生日時"), auto_now_add=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("アラート")
        verbose_name_plural = _("アラート")
        ordering = ["-raised_at", "-id"]
        indexes = [
            # the mails still to send (a short list; the run claims them one by one)
            models.Index(fields=["emailed_at", "id"], name="alert_mail_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.key}"


class Recipient(models.Model):
    """An alert in a user's list (the in-app notification)."""

    alert = models.ForeignKey(Alert, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["alert", "user"], name="alert_recipient_unique"),
        ]
        indexes = [
            # the user's list and the unread badge
            models.Index(fields=["user", "read_at", "-alert"], name="alert_recipient_unread"),
        ]

    def __str__(self) -> str:
        return f"{self.alert_id} -> {self.user_id}"
