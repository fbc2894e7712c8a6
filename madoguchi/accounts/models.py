"""Organisations, the people who work for them, and what each role may do."""

from __future__ import annotations

import contextlib
import datetime
import ipaddress

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from madoguchi.core.request_context import memoized


class Organisation(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward", _("区")
        CONTRACTOR = "contractor", _("委託先")
        OPERATOR = "operator", _("システム運用者")

    code = models.SlugField(_("コード"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(_("有効"), default=True)
    # The ward manager's kill switch (R-40, T-OP-08): nobody of this organisation may log in.
    access_suspended = models.BooleanField(_("利用停止中"), default=False)

    class Meta:
        verbose_name = _("組織")
        verbose_name_plural = _("組織")
        ordering = ["kind", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    OPERATOR = "operator", _("委託先オペレーター")
    SUPERVISOR = "supervisor", _("委託先スーパーバイザー")
    WARD_STAFF = "ward_staff", _("区職員")
    WARD_MANAGER = "ward_manager", _("区管理者")
    AUDITOR = "auditor", _("監査担当")
    SYSADMIN = "sysadmin", _("システム管理者")


CONTRACTOR_ROLES = frozenset({Role.OPERATOR, Role.SUPERVISOR})
WARD_ROLES = frozenset({Role.WARD_STAFF, Role.WARD_MANAGER, Role.AUDITOR})


class User(AbstractUser):
    """A named individual (R-08): no shared accounts; the role decides what they may do."""

    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(_("役割"), max_length=20, choices=Role.choices)
    display_name = models.CharField(_("表示名"), max_length=100, blank=True)
    # The period the person is on the staff roster (従事者名簿, R-08): no login outside it.
    valid_from = models.DateField(_("利用開始日"), null=True, blank=True)
    valid_until = models.DateField(_("利用終了日"), null=True, blank=True)

    class Meta:
        verbose_name = _("利用者")
        verbose_name_plural = _("利用者")
        constraints = [
            models.CheckConstraint(
                name="user_role_valid",
                condition=models.Q(role__in=[choice.value for choice in Role]),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_contractor(self) -> bool:
        return self.role in CONTRACTOR_ROLES

    @property
    def is_ward(self) -> bool:
        return self.role in WARD_ROLES

    def is_within_validity(self, day: datetime.date | None = None) -> bool:
        if not self.valid_from and not self.valid_until:
            return True  # most users: no roster dates (and today's date costs a time-zone lookup)
        # Asked about twenty times a page (`scoping.can`): the date is looked up once a request.
        today = day or memoized("today", timezone.localdate)
        if self.valid_from and today < self.valid_from:
            return False
        return not (self.valid_until and today > self.valid_until)


def validate_network(value: str) -> None:
    try:
        ipaddress.ip_network(value.strip(), strict=True)
    except ValueError as exc:
        raise ValidationError(
            _("IPアドレスまたはCIDR形式（例: 192.0.2.0/24）で入力してください。ホスト部は0にしてください。"),
            code="invalid_network",
        ) from exc


class AllowedNetwork(models.Model):
    """An address or range from which an organisation's staff may use the system (R-15, R-17).

    Defence in depth behind the edge allowlist: every staff URL is refused from elsewhere.
    """

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="allowed_networks", verbose_name=_("組織")
    )
    network = models.CharField(_("アドレス・範囲"), max_length=49, validators=[validate_network])
    note = models.CharField(_("メモ"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("許可アドレス")
        verbose_name_plural = _("許可アドレス")
        ordering = ["organisation", "network"]
        constraints = [
            models.UniqueConstraint(fields=["organisation", "network"], name="allowed_network_unique"),
        ]

    def __str__(self) -> str:
        return self.network

    def clean(self) -> None:
        # One spelling per range, so the unique constraint catches "192.0.2.1" vs "192.0.2.1/32".
        if self.network:
            with contextlib.suppress(ValueError):  # the field validator reports it
                self.network = str(ipaddress.ip_network(self.network.strip(), strict=True))

    def as_network(self) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
        return ipaddress.ip_network(self.network, strict=False)


class UserSession(models.Model):
    """Which session keys belong to whom, so disabling a user ends all of them at once (R-12).

    Works with any session engine: ending a session deletes it through the engine's own store.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="sessions")
    session_key = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    client_ip = models.CharField(max_length=45, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"session of user {self.user_id}"


class RecoveryCode(models.Model):
    """A single-use recovery code for the second factor, stored only as a keyed digest (R-09).

    django-otp's static tokens are stored in clear, so recovery codes live here instead.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"recovery code of user {self.user_id}"
