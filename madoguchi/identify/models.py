"""Identification's own index of the target list, and the API tokens of phone systems.

The index is derived data: `madoguchi.identify.indexer` updates the rows of the households a
version of the list touched, in the import's transaction, or rebuilds it whole (after a first
or a large import, lazily when a search finds it stale, or by `madoguchi identify-reindex`).
Keys and profiles hold comparison forms of personal items, so they are purged with the list.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.accounts.models import Organisation
from madoguchi.programs.models import Program
from madoguchi.registry.models import Household


class IdentKey(models.Model):
    """One blocking key of one household, e.g. `f:高橋` (family name) or `t:0312345678`."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=160)

    class Meta:
        indexes = [
            # "which households of this program have key K": candidate generation; the
            # household id is in the index so PostgreSQL answers from the index alone.
            models.Index(fields=["program", "key", "household"], name="identkey_program_key"),
        ]

    def __str__(self) -> str:
        return f"key {self.pk} of household {self.household_id}"


class IdentKeyStat(models.Model):
    """How many households of a program have a key: weighs agreement on a common name less."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=160)
    count = models.PositiveIntegerField()

    class Meta:
        constraints = [
            # "how common is key K in this program": one row per key.
            models.UniqueConstraint(fields=["program", "key"], name="identkeystat_program_key"),
        ]

    def __str__(self) -> str:
        return f"key count {self.pk}"


class IdentReading(models.Model):
    """A reading the list gives for a name part (可奈子 → カナコ): how homophones are recognised."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=60)
    reading = models.CharField(max_length=60)
    # How many households give this reading: an incremental update removes the pair only when
    # the last of them leaves the list (the engine reads text and reading only).
    households = models.PositiveIntegerField(default=1)

    class Meta:
        constraints = [
            # "which readings does the list give for these kanji": one row per pair.
            models.UniqueConstraint(fields=["program", "text", "reading"], name="identreading_unique"),
        ]

    def __str__(self) -> str:
        return f"reading {self.pk}"


class IdentProfile(models.Model):
    """A household's comparison forms in one row, so scoring a candidate costs one read."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="+")
    household = models.OneToOneField(Household, on_delete=models.CASCADE, related_name="+")
    data = models.JSONField()

    def __str__(self) -> str:
        return f"profile of household {self.household_id}"


class IdentIndexState(models.Model):
    """Which version of the list the index reflects, and how many households it holds.

    Written in the same transaction as the index rows (a rebuild, or an import's incremental
    update), and read by every search: whatever a process derives from the index must be keyed
    on `version`, which every change of the index increments.
    """

    program = models.OneToOneField(Program, on_delete=models.CASCADE, related_name="+")
    source_import_id = models.BigIntegerField(null=True)
    household_count = models.PositiveIntegerField(default=0)
    built_at = models.DateTimeField(default=timezone.now)  # the last full rebuild
    updated_at = models.DateTimeField(default=timezone.now)  # the last change, rebuild or update
    version = models.PositiveBigIntegerField(default=0)

    # Not a column: set by `indexer.ensure_index` when a search answers from an index older
    # than the list, while the rebuild is left to `identify-reindex --stale`.
    is_stale = False

    def __str__(self) -> str:
        return f"index of program {self.program_id}"


def hash_token(token: str) -> str:
    # Tokens are 256-bit random strings: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode("ascii")).hexdigest()


class ApiToken(models.Model):
    """A phone system's credential for the screen-pop endpoint, one per organisation and use.

    The token itself is shown once when created; only its hash is kept.
    """

    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="api_tokens")
    name = models.CharField(_("名称"), max_length=100)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("APIトークン")
        verbose_name_plural = _("APIトークン")

    def __str__(self) -> str:
        return f"{self.organisation.code}: {self.name}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @staticmethod
    def new_secret() -> str:
        return "mdg_" + secrets.token_urlsafe(32)
