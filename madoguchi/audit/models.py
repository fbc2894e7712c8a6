"""The audit trail: one append-only table of events that never holds a personal value."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Action(models.TextChoices):
    VIEW = "view", _("閲覧")
    SEARCH = "search", _("検索")
    IDENTIFY = "identify", _("本人特定")
    CREATE = "create", _("作成")
    UPDATE = "update", _("更新")
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
    ALLOWLIST_CHANGE = "allowlist_change", _("許可アドレス変更")
    SETTINGS_CHANGE = "settings_change", _("設定変更")


class Outcome(models.TextChoices):
    OK = "ok", _("成功")
    DENIED = "denied", _("拒否")
    FAILED = "failed", _("失敗")


class AuditEvent(models.Model):
    at = models.DateTimeField(db_index=True)
    actor_id = models.BigIntegerField(null=True)
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
    # Names of fields used or changed, counts: never the values themselves.
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # "what did this user see between D1 and D2" (the incident drill)
            models.Index(fields=["actor_id", "at"], name="audit_actor_at"),
            # "who saw this household / case"
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_type}:{self.object_id}"


class AuditChange(models.Model):
    """Before and after values of a change: personal data, read only by the ward manager's screens."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="change")
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"change of event {self.event_id}"
