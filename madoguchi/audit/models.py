"""The audit trail: one append-only, hash-chained table of events that never holds a personal value.

Events are appended to one of several hash chains (`chain` 1..AUDIT_CHAINS; chain 0 is the
single chain written before migration 0007, frozen since). Each event carries `chain_seq`
(gapless within its chain, 1, 2, 3, ...), `prev_hash` (the `hash` of the chain's previous
event) and `hash` = SHA-256 over a canonical serialisation of its own fields and `prev_hash`
(`madoguchi.audit.chain`). `seq` is the event's number across all chains: unique and
increasing, but with gaps where a transaction rolled back. One `ChainHead` row per chain holds
its last position and hash; a writer locks one free head (`FOR UPDATE SKIP LOCKED`) until its
transaction ends, so no chain forks or leaves a gap and writers do not queue behind each other
while a head is free (docs/audit.md, "Several chains"). Before and after
values of a change live in `AuditChange`, a separate table only the ward manager's screens
read; the event carries a digest of them so the change table is tamper-evident too.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The `prev_hash` of event 1: 64 zeros.
GENESIS_HASH = "0" * 64


class Action(models.TextChoices):
    VIEW = "view", _("閲覧")
    SEARCH = "search", _("検索")
    IDENTIFY = "identify", _("本人特定")
    CREATE = "create", _("作成")
    UPDATE = "update", _("更新")
    DELETE = "delete", _("削除")
    EXPORT = "export", _("出力")
    PRINT = "print", _("印刷")
    IMPORT = "import", _("取込")
    PURGE = "purge", _("消去")
    LOGIN = "login", _("ログイン")
    LOGIN_FAILED = "login_failed", _("ログイン失敗")
    LOCKOUT = "lockout", _("ロックアウト")
    UNLOCK = "unlock", _("ロック解除")
    LOGOUT = "logout", _("ログアウト")
    PERMISSION_DENIED = "denied", _("権限なし")
    ADDRESS_REFUSED = "address_refused", _("接続元拒否")
    ROLE_CHANGE = "role_change", _("権限変更")
    ACCOUNT_CHANGE = "account_change", _("アカウント変更")
    ALLOWLIST_CHANGE = "allowlist_change", _("許可アドレス変更")
    SETTINGS_CHANGE = "settings_change", _("設定変更")


class Outcome(models.TextChoices):
    OK = "ok", _("成功")
    DENIED = "denied", _("拒否")
    FAILED = "failed", _("失敗")


class AuditEvent(models.Model):
    # The event's number across every chain (the id screens, ledgers and seals cite).
    seq = models.BigIntegerField(unique=True)
    # The chain the event was appended to; 0 is the legacy single chain (frozen).
    chain = models.SmallIntegerField(default=0)
    # The position in that chain, gapless from 1. Null in the legacy chain, where it is `seq`.
    chain_seq = models.BigIntegerField(null=True, blank=True)
    at = models.DateTimeField()
    actor_id = models.BigIntegerField(null=True)
    # A snapshot of who the actor was at the time: accounts change, the trail must not.
    actor_username = models.CharField(max_length=150, blank=True)
    actor_name = models.CharField(max_length=100, blank=True)
    actor_organisation = models.CharField(max_length=200, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    client_ip = models.CharField(max_length=45, blank=True)
    request_id = models.CharField(max_length=32, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    program_id = models.BigIntegerField(null=True)
    object_type = models.CharField(max_length=50, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.OK)
    # Names of fields used or changed, counts, ids, hashes: never the values themselves
    # (checked by `madoguchi.audit.details.check_details`).
    details = models.JSONField(default=dict, blank=True)
    # SHA-256 of the AuditChange's before/after, so that table is covered by the chain.
    change_digest = models.CharField(max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["seq"]
        constraints = [
            # No two events at one position of a chain (no fork); its index is also the order
            # in which `audit verify` walks each chain.
            models.UniqueConstraint(fields=["chain", "chain_seq"], name="audit_chain_position"),
        ]
        # Every screen lists newest first by (at, seq) with keyset pagination; each index ends
        # in (at, seq) so a filtered page is an index range scan, never a sort of the table.
        indexes = [
            # the unfiltered newest-first list and time-range filters
            models.Index(fields=["at", "seq"], name="audit_at_seq"),
            # "what did this user see between D1 and D2" (the incident drill)
            models.Index(fields=["actor_id", "at", "seq"], name="audit_actor_at_seq"),
            # "who saw this household / case"
            models.Index(fields=["object_type", "object_id", "at", "seq"], name="audit_object_at_seq"),
            # "every export this month", "every lockout"
            models.Index(fields=["action", "at", "seq"], name="audit_action_at_seq"),
            # "what came from this address"
            models.Index(fields=["client_ip", "at", "seq"], name="audit_ip_at_seq"),
            # a ward's events: the scope filter of the screens
            models.Index(fields=["program_id", "at", "seq"], name="audit_program_at_seq"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"

    @property
    def actor_role_label(self) -> str:
        from madoguchi.accounts.models import Role

        try:
            return str(Role(self.actor_role).label)
        except ValueError:
            return self.actor_role


class AuditChange(models.Model):
    """Before and after values of a change: personal data, read only by the ward manager's screens."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="change")
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    # Set by the end-of-program erasure (`madoguchi.lifecycle`), which empties before/after:
    # `verify` then accepts the change without its digest, but only when an erasure seal of
    # the event's program (action purge, object type `program_erasure`) follows the event.
    erased_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"change of event {self.event_id}"


class ChainHead(models.Model):
    """One row per chain (id = the chain's number) holding its last position and hash.

    A writer locks one row until its transaction ends: no fork, no gap within a chain.
    """

    # The chain's last position (`chain_seq`; `seq` for the legacy chain 0).
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"head #{self.seq} {self.hash[:12]}"


class ObjectAlias(models.Model):
    """Another id an object was recorded under in older events: one object, one identifier.

    Events are hash-chained and never rewritten, so the households that older screens recorded
    under their database key keep that key in their events; this table (filled by a migration)
    maps it to the public id every event now uses, and the audit filters search both.
    """

    object_type = models.CharField(max_length=50)
    alias_id = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["object_type", "alias_id"], name="audit_alias_unique"),
        ]
        indexes = [
            # "every id this household was recorded under", from its public id
            models.Index(fields=["object_type", "object_id"], name="audit_alias_object"),
        ]

    def __str__(self) -> str:
        return f"{self.object_type}:{self.alias_id} -> {self.object_id}"
