"""The end of a program: its return to the ward (返還) and its two-person erasure (消去).

Neither table holds a personal value: a return is described by its manifest (file names, row
counts, SHA-256), an erasure by who asked, who approved, who ran it, which steps are done and
how many rows each erased, the scan's result and the certificate. Both survive the erasure.
The program's state (being erased, erased) lives here, not on `Program`.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import Program


class ReturnExport(models.Model):
    """One return of a program's data to its ward: what was written, never the data itself."""

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="return_exports")
    created_at = models.DateTimeField(_("返還日時"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # The manifest.json as written (file names, row counts, SHA-256) and its own SHA-256.
    manifest = models.JSONField(default=dict)
    manifest_sha256 = models.CharField(max_length=64)
    via = models.CharField(max_length=10, default="command")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"return of {self.program_id} at {self.created_at:%Y-%m-%d %H:%M}"


class ErasureState(models.TextChoices):
    REQUESTED = "requested", _("消去依頼中（承認待ち）")
    APPROVED = "approved", _("消去承認済")
    ERASING = "erasing", _("消去中")
    ERASED = "erased", _("消去済")


class ProgramErasure(models.Model):
    """The erasure of one program: requested by a ward manager, approved by another user, run.

    `steps_done` lists the erasure steps (`madoguchi.lifecycle.erasure.STEPS`) already
    committed, `counts` their row counts: a purge killed half-way resumes from there.
    """

    program = models.OneToOneField(Program, on_delete=models.PROTECT, related_name="erasure")
    state = models.CharField(_("状態"), max_length=12, choices=ErasureState.choices)
    reason = models.CharField(_("理由"), max_length=500)
    waive_return = models.BooleanField(_("返還なしで消去"), default=False)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(_("依頼日時"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    approved_at = models.DateTimeField(_("承認日時"), null=True, blank=True)
    run_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    started_at = models.DateTimeField(_("消去開始日時"), null=True, blank=True)
    finished_at = models.DateTimeField(_("消去完了日時"), null=True, blank=True)
    # The audit event that seals the erasure of the program's before/after values.
    seal_seq = models.BigIntegerField(null=True, blank=True)
    steps_done = models.JSONField(default=list, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    physical = models.JSONField(default=dict, blank=True)
    scan = models.JSONField(default=dict, blank=True)
    # The personal values the scan looks for, read before the first step and encrypted
    # (`madoguchi.lifecycle.scan.seal_values`); dropped when the certificate is issued.
    scan_values_sealed = models.BinaryField(null=True, blank=True, editable=False)
    return_manifest_sha256 = models.CharField(max_length=64, blank=True)
    certificate_pdf = models.BinaryField(null=True, blank=True)
    certificate_sha256 = models.CharField(max_length=64, blank=True)
    certificate_seq = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("事業データの消去")
        verbose_name_plural = _("事業データの消去")

    def __str__(self) -> str:
        return f"erasure of {self.program_id} ({self.state})"

    @property
    def is_under_way(self) -> bool:
        return self.state in (ErasureState.ERASING, ErasureState.ERASED)
