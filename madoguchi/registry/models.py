"""The target list (対象者一覧) the ward hands over: households, their guardian and children.

Names, readings and addresses are stored exactly as written; beside each stands a search key
derived by `madoguchi.registry.keys` (NFKC, variant kanji folded, katakana, no spaces), which is
what identification compares and indexes. A household removed by a later version of the list
is marked, not deleted, so the cases that point at it keep their history.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import Program


class TargetListImport(models.Model):
    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("確認待ち")
        APPLIED = "applied", _("取込済")
        REFUSED = "refused", _("取込不可")
        FAILED = "failed", _("失敗")
        UNCHANGED = "unchanged", _("変更なし")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="target_imports")
    version = models.PositiveIntegerField(_("版"), null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    file_name = models.CharField(_("ファイル名"), max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.BigIntegerField(default=0)
    encoding = models.CharField(_("文字コード"), max_length=20, blank=True)
    row_count = models.PositiveIntegerField(default=0)
    household_count = models.PositiveIntegerField(default=0)
    added = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    ineligible = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices)
    # Row/column/reason of each problem; reasons name the rule, never the value (no personal data).
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "version"], name="target_import_version_unique_per_program"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.program.code} v{self.version} {self.file_name}"


# Key columns carry no database index: identification builds its own index of the list
# (`madoguchi.identify`, refreshed through `registry.hooks`) and no query filters on them.
# Each index would cost every import; add one beside the query that needs it.


class Household(models.Model):
    # The id in URLs and APIs: opaque, so an id says nothing and cannot be guessed.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="households")
    number = models.CharField(_("世帯番号"), max_length=50)
    postal_code = models.CharField(_("郵便番号"), max_length=8, blank=True)
    address = models.CharField(_("住所"), max_length=300)
    address_key = models.CharField(max_length=300)
    # The town and block (e.g. "弦巻2-19-6") without the building: what callers say.
    address_block_key = models.CharField(max_length=200, blank=True)
    # Hash of the household's normalised content: tells an update what changed.
    content_hash = models.CharField(max_length=64)
    first_import = models.ForeignKey(TargetListImport, on_delete=models.PROTECT, related_name="+")
    last_import = models.ForeignKey(TargetListImport, on_delete=models.PROTECT, related_name="+")
    removed_by_import = models.ForeignKey(
        TargetListImport, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Suspension of use (利用停止, APPI §35): a ward manager stops the use of the household's
    # data; identification no longer offers it and no new case may be attached to it.
    suspended_at = models.DateTimeField(_("利用停止日時"), null=True, blank=True)
    # db_default: the import writes households with a raw multi-row INSERT that omits it.
    suspended_reason = models.CharField(
        _("利用停止の理由"), max_length=500, blank=True, default="", db_default=""
    )
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["program", "number"], name="household_number_unique_per_program"),
        ]

    def __str__(self) -> str:
        return f"世帯 {self.pk}"

    @property
    def is_suspended(self) -> bool:
        return self.suspended_at is not None

    @property
    def is_removed(self) -> bool:
        return self.removed_by_import_id is not None


class Guardian(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="guardians")
    name = models.CharField(_("保護者氏名"), max_length=100)
    name_key = models.CharField(max_length=100)
    family_name_key = models.CharField(max_length=60, blank=True)
    kana = models.CharField(_("保護者氏名カナ"), max_length=100, blank=True)
    kana_key = models.CharField(max_length=100, blank=True)
    kana_loose_key = models.CharField(max_length=100, blank=True)
    family_kana_loose_key = models.CharField(max_length=60, blank=True)
    dob = models.DateField(_("保護者生年月日"))
    phone = models.CharField(_("電話番号"), max_length=20, blank=True)
    phone_digits = models.CharField(max_length=15, blank=True)
    email = models.CharField(_("メールアドレス"), max_length=254, blank=True)
    email_key = models.CharField(max_length=254, blank=True)

    def __str__(self) -> str:
        return f"保護者 {self.pk}"


class Child(models.Model):
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="children")
    name = models.CharField(_("児童氏名"), max_length=100)
    name_key = models.CharField(max_length=100)
    given_name_key = models.CharField(max_length=60, blank=True)
    kana = models.CharField(_("児童氏名カナ"), max_length=100, blank=True)
    kana_key = models.CharField(max_length=100, blank=True)
    kana_loose_key = models.CharField(max_length=100, blank=True)
    given_kana_loose_key = models.CharField(max_length=60, blank=True)
    dob = models.DateField(_("児童生年月日"))

    class Meta:
        verbose_name_plural = "children"

    def __str__(self) -> str:
        return f"児童 {self.pk}"


class TargetListChange(models.Model):
    """What one version of the list did to one household, for the preview and the history."""

    class Kind(models.TextChoices):
        ADDED = "added", _("追加")
        CHANGED = "changed", _("変更")
        REMOVED = "removed", _("削除")

    target_import = models.ForeignKey(TargetListImport, on_delete=models.CASCADE, related_name="changes")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="list_changes")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    # Names of the changed columns, never their values.
    fields = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} household {self.household_id}"
