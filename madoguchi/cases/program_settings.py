"""The ward manager's settings for a program's case work: the category list and the
correction window after the recording period.

Only a ward manager (区管理者) of the program's own ward, who works on the program, may change
them (scoping action `manage`; docs/permissions.md). Each change writes a `settings_change`
audit event with before/after in the same transaction. Screens and commands call these
functions; none of them holds the rule itself.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases.models import Category
from madoguchi.cases.services import CaseError, search_key
from madoguchi.programs.models import Program
from madoguchi.programs.services import is_ward_manager_of

NAME_MAX_LENGTH = Category._meta.get_field("name").max_length or 100
ORDER_STEP = 10


class SettingsRefused(CaseError):
    pass


CATEGORY_REFUSED = gettext_lazy("問い合わせ分類を変更できるのは、この事業の区の区管理者だけです。")
WINDOW_REFUSED = gettext_lazy("訂正期間を設定できるのは、この事業の区の区管理者だけです。")


def _require_ward_manager(program: Program, actor: Any, message: Any) -> None:
    if not is_ward_manager_of(program, actor):
        raise SettingsRefused(str(message))


# --- categories ---------------------------------------------------------------------------------


def _clean_name(program: Program, name: str, *, exclude: Category | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("分類名を入力してください。")})
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationError(
            {"name": _("分類名は%(limit)d文字以内で入力してください。") % {"limit": NAME_MAX_LENGTH}}
        )
    # "商品･ｶﾀﾛｸﾞ" and "商品・カタログ" are the same name to a reader: compare the search keys.
    others = Category.objects.filter(program=program)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    key = search_key(name)
    if any(search_key(other) == key for other in others.values_list("name", flat=True)):
        raise ValidationError({"name": _("同じ名前の分類がすでにあります。")})
    return name


def _audit_category(
    category: Category, actor: Any, change: str, before: dict[str, Any], after: dict[str, Any]
) -> None:
    record(
        action=Action.SETTINGS_CHANGE,
        actor=actor,
        program_id=category.program_id,
        object_type="case_category",
        object_id=category.pk,
        details={"change": change, "fields": sorted(after)},
        before=before,
        after=after,
    )


def _save_name(category: Category) -> None:
    try:
        with transaction.atomic():
            category.save()
    except IntegrityError as error:  # the same name saved concurrently
        raise ValidationError({"name": _("同じ名前の分類がすでにあります。")}) from error


@transaction.atomic
def add_category(*, program: Program, actor: Any, name: str) -> Category:
    """A new category, active, at the end of the list."""
    _require_ward_manager(program, actor, CATEGORY_REFUSED)
    name = _clean_name(program, name)
    last = Category.objects.filter(program=program).aggregate(last=Max("order"))["last"] or 0
    category = Category(program=program, name=name, order=last + ORDER_STEP, is_active=True)
    category.full_clean(validate_unique=False)
    _save_name(category)
    _audit_category(category, actor, "create", {}, {"name": name, "order": category.order, "is_active": True})
    return category


@transaction.atomic
def rename_category(*, category: Category, actor: Any, name: str) -> Category:
    """Rename; every case filed under it shows the new name (it is the same category)."""
    _require_ward_manager(category.program, actor, CATEGORY_REFUSED)
    name = _clean_name(category.program, name, exclude=category)
    before = category.name
    if name == before:
        return category
    category.name = name
    category.full_clean(validate_unique=False)
    _save_name(category)
    _audit_category(category, actor, "rename", {"name": before}, {"name": name})
    return category


@transaction.atomic
def move_category(*, category: Category, actor: Any, offset: int) -> list[Category]:
    """Move one place up (offset -1) or down (+1) in the program's list; the list is renumbered
    10, 20, 30… so equal or missing orders never make a move a no-op."""
    _require_ward_manager(category.program, actor, CATEGORY_REFUSED)
    if offset not in (-1, 1):
        raise ValueError(offset)
    rows = list(
        Category.objects.select_for_update().filter(program_id=category.program_id).order_by("order", "id")
    )
    before = [row.name for row in rows]
    index = next(i for i, row in enumerate(rows) if row.pk == category.pk)
    target = index + offset
    if not 0 <= target < len(rows):
        return rows
    rows[index], rows[target] = rows[target], rows[index]
    for position, row in enumerate(rows, start=1):
        if row.order != position * ORDER_STEP:
            row.order = position * ORDER_STEP
            row.save(update_fields=["order"])
    moved = rows[target]
    _audit_category(moved, actor, "order", {"order": before}, {"order": [row.name for row in rows]})
    return rows


@transaction.atomic
def set_category_active(*, category: Category, actor: Any, active: bool) -> Category:
    """Deactivate (hidden from the case forms and the public form; cases filed under it keep
    it) or reactivate. A category is never deleted: cases and standard answers point at it."""
    _require_ward_manager(category.program, actor, CATEGORY_REFUSED)
    if category.is_active == active:
        return category
    category.is_active = active
    category.save(update_fields=["is_active"])
    _audit_category(
        category,
        actor,
        "reactivate" if active else "deactivate",
        {"is_active": not active},
        {"is_active": active},
    )
    return category


# --- the correction window after the recording period ----------------------------------------------


@transaction.atomic
def allow_correction(
    *,
    program: Program,
    actor: Any,
    until: datetime.datetime | None,
    reason: str = "",
    via: str = "screen",
) -> Program:
    """Open (or close, with None) a correction window after the recording period (R-02).

    Opening needs a reason and a time in the future; both are kept in the audit event's
    after-image (the reason is free text, so never in `details`). `via` names the path
    ("screen" or "command") for the auditor; the rule is the same on both.
    """
    _require_ward_manager(program, actor, WINDOW_REFUSED)
    reason = (reason or "").strip()
    if until is not None:
        if timezone.is_naive(until):
            until = timezone.make_aware(until)
        errors: dict[str, str] = {}
        if until <= timezone.now():
            errors["until"] = _("期限には現在より後の日時を指定してください。")
        if not reason:
            errors["reason"] = _("訂正を許可する理由を入力してください。")
        if errors:
            raise ValidationError(errors)
    _save_setting(program, actor, "correction_allowed_until", until, via, reason=reason)
    return program


# --- how long callback contacts are kept after a case is closed -----------------------------------

RETENTION_REFUSED = gettext_lazy("折り返し連絡先の保存日数を設定できるのは、この事業の区の区管理者だけです。")


@transaction.atomic
def set_callback_retention(*, program: Program, actor: Any, days: int, via: str = "screen") -> Program:
    """Days a case's callback contact is kept after the case is closed (`lifecycle sweep`)."""
    _require_ward_manager(program, actor, RETENTION_REFUSED)
    _save_setting(program, actor, "callback_retention_days", days, via)
    return program


def _save_setting(program: Program, actor: Any, field: str, value: Any, via: str, **extra: Any) -> None:
    """Set one of the program's settings, validate, save and audit it (before and after)."""

    def shown(v: Any) -> Any:
        return v.isoformat() if hasattr(v, "isoformat") else v

    before = getattr(program, field)
    setattr(program, field, value)
    program.full_clean()
    program.save(update_fields=[field])
    record(
        action=Action.SETTINGS_CHANGE,
        actor=actor,
        program_id=program.pk,
        object_type="program",
        object_id=program.pk,
        details={"fields": [field], "via": via},
        before={field: shown(before)},
        after={field: shown(value), **extra},
    )
