"""The 情報管理台帳: one register of every receipt, export, return, disclosure and erasure of personal data.

An entry says what moved, when, who moved it, why, how many rows and the SHA-256 of the file
(or manifest) that left or arrived. It never holds a personal value itself, so it survives the
end-of-program erasure: it is the record that the erasure and the return happened.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import Program


class LedgerKind(models.TextChoices):
    RECEIPT = "receipt", _("受領（名簿取込）")
    EXPORT = "export", _("出力")
    RETURN = "return", _("返還")
    DISCLOSURE = "disclosure", _("開示")
    ERASURE = "erasure", _("消去")


class LedgerEntry(models.Model):
    at = models.DateTimeField(_("日時"))
    kind = models.CharField(_("種別"), max_length=20, choices=LedgerKind.choices)
    program = models.ForeignKey(
        Program, on_delete=models.PROTECT, related_name="ledger_entries", verbose_name=_("事業")
    )
    # A snapshot of the actor: accounts change, the register must not.
    actor_id = models.BigIntegerField(null=True)
    actor_username = models.CharField(_("実施者（ID）"), max_length=150, blank=True)
    actor_name = models.CharField(_("実施者"), max_length=100, blank=True)
    actor_organisation = models.CharField(_("所属"), max_length=200, blank=True)
    # What moved, in words without personal values: 「対象者名簿 第3版」「問い合わせ一覧（CSV）」.
    what = models.CharField(_("対象"), max_length=300)
    purpose = models.CharField(_("目的"), max_length=500, blank=True)
    row_count = models.BigIntegerField(_("件数"), null=True, blank=True)
    file_name = models.CharField(_("ファイル名"), max_length=255, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    # The audit event that records the same act (its seq in the hash chain).
    audit_seq = models.BigIntegerField(_("監査ログ番号"), null=True, blank=True)
    # Counts, file names and hashes only: never a personal value.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("情報管理台帳")
        verbose_name_plural = _("情報管理台帳")
        ordering = ["-at", "-id"]
        indexes = [
            # the register of one program, newest first (the screen and its CSV)
            models.Index(fields=["program", "at"], name="ledger_program_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.get_kind_display()} {self.what}"
