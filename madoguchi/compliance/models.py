"""Compliance records an inspection asks to see (R-40, R-41; issue #14).

- `StaffCompliance`: per staff account, the confidentiality pledge (秘密保持誓約) and the last
  training date.
- `TrainingPolicy`: how long a training stays valid, per organisation or per program; while a
  policy applies to a user, no login without a pledge or after the training expired.
- `ResponsiblePerson`: the program's named responsible person (責任者) per organisation.
- `Incident`: the incident register (事故報告): what, when found, which records, whom told,
  when the ward and the PPC were told, the actions taken.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Organisation
from madoguchi.programs.models import Program


class StaffCompliance(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="compliance",
        verbose_name=_("利用者"),
    )
    pledge_signed_on = models.DateField(_("秘密保持誓約の日"), null=True, blank=True)
    training_completed_on = models.DateField(_("最後の研修受講日"), null=True, blank=True)
    note = models.CharField(_("備考（研修名など）"), max_length=200, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("職員の誓約・研修記録")

    def __str__(self) -> str:
        return f"staff-compliance-{self.user_id}"


class TrainingPolicy(models.Model):
    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("組織"),
    )
    program = models.OneToOneField(
        Program, on_delete=models.CASCADE, null=True, blank=True, related_name="+", verbose_name=_("事業")
    )
    valid_days = models.PositiveIntegerField(_("研修の有効日数"), default=365)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("研修の有効期間")
        constraints = [
            models.CheckConstraint(
                condition=Q(organisation__isnull=False, program__isnull=True)
                | Q(organisation__isnull=True, program__isnull=False),
                name="compliance_policy_one_scope",
            )
        ]

    def __str__(self) -> str:
        return f"training-policy-{self.pk}"


class ResponsiblePerson(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+", verbose_name=_("事業"))
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="+", verbose_name=_("組織")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("責任者")
    )
    title = models.CharField(_("役職"), max_length=100, blank=True)
    since = models.DateField(_("就任日"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事業の責任者")
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organisation"], name="compliance_one_responsible_per_org"
            )
        ]

    def __str__(self) -> str:
        return f"responsible-{self.pk}"


class Incident(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("対応中")
        CLOSED = "closed", _("完了")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="+", verbose_name=_("事業"))
    summary = models.TextField(_("事案の内容"), max_length=4000)
    found_at = models.DateTimeField(_("発見日時"))
    occurred_from = models.DateTimeField(_("発生したと考えられる日時（から）"), null=True, blank=True)
    records = models.TextField(
        _("対象の記録"),
        max_length=4000,
        blank=True,
        help_text=_(
            "受付番号・世帯の公開IDなどを改行で区切って入力します。氏名などの個人情報は書かないでください。"
        ),
    )
    people_count = models.PositiveIntegerField(_("対象人数"), null=True, blank=True)
    told_whom = models.TextField(_("報告・連絡した相手"), max_length=2000, blank=True)
    ward_told_at = models.DateTimeField(_("区へ報告した日時"), null=True, blank=True)
    ppc_told_at = models.DateTimeField(_("個人情報保護委員会へ報告した日時"), null=True, blank=True)
    actions = models.TextField(_("対応・再発防止策"), max_length=4000, blank=True)
    status = models.CharField(_("状態"), max_length=10, choices=Status.choices, default=Status.OPEN)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登録者")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("事故報告")
        ordering = ["-found_at", "-pk"]

    def __str__(self) -> str:
        return f"INC-{self.pk:04d}"

    def record_ids(self) -> list[str]:
        return [line.strip() for line in self.records.splitlines() if line.strip()]


# The incident fields a user fills in (the form) and the audit compares (before/after).
INCIDENT_FIELDS = [
    "summary",
    "found_at",
    "occurred_from",
    "records",
    "people_count",
    "told_whom",
    "ward_told_at",
    "ppc_told_at",
    "actions",
    "status",
]
