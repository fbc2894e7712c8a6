"""A benefit program: everything that differs between programs is data here, not code."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Organisation


class PersonalItem(models.TextChoices):
    """The personal items a program may be approved to record (the ファイル簿 entry's 記録項目)."""

    HOUSEHOLD_NUMBER = "household.number", _("世帯番号")
    CHILD_NAME = "child.name", _("児童氏名")
    CHILD_KANA = "child.kana", _("児童氏名カナ")
    CHILD_DOB = "child.dob", _("児童生年月日")
    GUARDIAN_NAME = "guardian.name", _("保護者氏名")
    GUARDIAN_KANA = "guardian.kana", _("保護者氏名カナ")
    GUARDIAN_DOB = "guardian.dob", _("保護者生年月日")
    POSTAL_CODE = "household.postal_code", _("郵便番号")
    ADDRESS = "household.address", _("住所")
    PHONE = "guardian.phone", _("電話番号")
    EMAIL = "guardian.email", _("メールアドレス")
    INQUIRY = "case.inquiry", _("問い合わせ内容・対応内容")


def default_approved_items() -> list[str]:
    return [item.value for item in PersonalItem]


def default_verification_rule() -> dict[str, object]:
    # 本人確認: the caller's name plus two independent items confirmed.
    return {"requires_name": True, "min_other_items": 2, "items": ["dob", "address", "phone"]}


class Program(models.Model):
    code = models.SlugField(_("事業コード"), max_length=50, unique=True)
    name = models.CharField(_("事業名"), max_length=200)
    description = models.TextField(_("説明"), blank=True)
    ward = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="programs_as_ward", verbose_name=_("区")
    )
    contractor = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="programs_as_contractor",
        verbose_name=_("委託先"),
        null=True,
        blank=True,
    )
    recording_start = models.DateField(_("記録期間（開始）"))
    recording_end = models.DateField(_("記録期間（終了）"))
    child_dob_from = models.DateField(_("対象児童の生年月日（から）"), null=True, blank=True)
    child_dob_to = models.DateField(_("対象児童の生年月日（まで）"), null=True, blank=True)
    approved_items = models.JSONField(_("承認された記録項目"), default=default_approved_items)
    verification_rule = models.JSONField(_("本人確認の規則"), default=default_verification_rule)
    receipt_prefix = models.CharField(_("受付番号の接頭辞"), max_length=8, default="Q")
    answer_target_business_days = models.PositiveSmallIntegerField(_("区回答の目標（営業日）"), default=2)
    # A ward manager may open a correction window after the recording period; audited.
    correction_allowed_until = models.DateTimeField(_("期間後の訂正許可期限"), null=True, blank=True)
    # A ward manager may end recording before recording_end (the program closed sooner); audited.
    recording_closed_at = models.DateTimeField(_("記録終了日時（繰上げ）"), null=True, blank=True)
    recording_closed_reason = models.CharField(_("記録終了の理由"), max_length=500, blank=True)
    recording_closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("記録を終了した者"),
    )
    # A case's callback contact (phone, e-mail) is erased this many days after the case closed.
    callback_retention_days = models.PositiveSmallIntegerField(
        _("折り返し連絡先の保存日数"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(3650)],
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="programs", blank=True, verbose_name=_("担当者")
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("事業")
        verbose_name_plural = _("事業")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                name="program_recording_period_ordered",
                condition=models.Q(recording_start__lte=models.F("recording_end")),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        unknown = set(self.approved_items or []) - {item.value for item in PersonalItem}
        if unknown:
            raise ValidationError({"approved_items": _("不明な記録項目があります。")})
        if self.child_dob_from and self.child_dob_to and self.child_dob_from > self.child_dob_to:
            raise ValidationError({"child_dob_to": _("対象児童の生年月日の範囲が逆です。")})

    def today(self) -> datetime.date:
        return timezone.localdate()

    def is_recording_open(self, at: datetime.datetime | None = None) -> bool:
        """True while personal items may be created or changed (R-02, T-SEC-28)."""
        moment = at or timezone.now()
        if self.in_recording_period(moment):
            return True
        return self.correction_allowed_until is not None and moment <= self.correction_allowed_until

    def in_recording_period(self, at: datetime.datetime | None = None) -> bool:
        """Inside the recording period itself, which an early close ends (no correction window)."""
        moment = at or timezone.now()
        if self.recording_closed_at is not None and moment >= self.recording_closed_at:
            return False
        return self.recording_start <= timezone.localdate(moment) <= self.recording_end

    def recording_ended(self, at: datetime.datetime | None = None) -> bool:
        """True once the period is over (its end passed or ended early), correction window or not."""
        moment = at or timezone.now()
        if self.recording_closed_at is not None and moment >= self.recording_closed_at:
            return True
        return timezone.localdate(moment) > self.recording_end

    def is_child_eligible(self, dob: datetime.date) -> bool:
        if self.child_dob_from and dob < self.child_dob_from:
            return False
        return not (self.child_dob_to and dob > self.child_dob_to)

    def approves(self, item: str) -> bool:
        return item in (self.approved_items or [])
