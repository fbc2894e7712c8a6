"""Organisations, the people who work for them, and what each role may do."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _


class Organisation(models.Model):
    class Kind(models.TextChoices):
        WARD = "ward", _("区")
        CONTRACTOR = "contractor", _("委託先")
        OPERATOR = "operator", _("システム運用者")

    code = models.SlugField(_("コード"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    kind = models.CharField(_("種別"), max_length=20, choices=Kind.choices)
    is_active = models.BooleanField(_("有効"), default=True)

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
