"""The data inventory (R-01, 個人情報ファイル簿): which model field holds which personal item.

Every text, date, e-mail, JSON, address and file field of every Madoguchi model is classified
in its app's `inventory.py`, as a mapping named `PERSONAL_DATA`:

    from madoguchi.compliance.inventory import Extra, Item, NotPersonal, AdditionalItem
    from madoguchi.programs.models import PersonalItem

    PERSONAL_DATA = {
        "registry.Guardian": {
            "name": Item(PersonalItem.GUARDIAN_NAME),
            "name_key": Item(PersonalItem.GUARDIAN_NAME, note="検索用キー"),
            "relation": Extra(AdditionalItem.CALLER_RELATION, reason="…why the ward agreed…"),
            "status": NotPersonal(),
        },
    }

- `Item(*items)`: one or more approved items (`programs.models.PersonalItem`): the ファイル簿's
  記録項目. A copy or a search key made from an item is the item too (it must be erased with it).
- `Extra(item, reason=...)`: an additional item the ward agreed to (`AdditionalItem`), with why.
- `NotPersonal(note)`: holds no personal item of a resident (codes, states, times of events,
  staff data, hashes).

The system check `compliance.E001` fails on any such field left undeclared (and E002 on a
declaration naming no field), so a new field cannot hold personal data unnoticed.
`personal_fields()` is the list the end-of-program erasure must cover.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _

from madoguchi.programs.models import PersonalItem


class AdditionalItem(models.TextChoices):
    """Items held beyond the consultation's list of approved items, each agreed with the ward."""

    READING = "extra.reading", _("読み仮名・検索用の読み")
    SEARCH_KEY = "extra.search_key", _("検索用キー（氏名・住所・電話番号から作成）")
    CALLER_RELATION = "extra.caller_relation", _("通話者の続柄")
    IDENTITY_CHECK = "extra.identity_check", _("本人確認の結果")
    UNIDENTIFIED_CALLER = "extra.unidentified_caller", _("世帯を特定できない通話者の氏名・連絡先")
    CHANGE_HISTORY = "extra.change_history", _("変更前後の値（監査記録）")
    LIST_FILE = "extra.list_file", _("対象者一覧ファイルの名前・取込結果")
    CLIENT_ADDRESS = "extra.client_address", _("接続元IPアドレス（住民）")
    OTHER = "extra.other", _("その他（理由を参照）")


@dataclass(frozen=True)
class Item:
    items: tuple[str, ...]
    note: Any = ""  # str or a lazy translation (shown on the ward's screen)

    def __init__(self, *items: str, note: Any = "") -> None:
        if not items:
            raise ValueError("Item() needs at least one PersonalItem")
        object.__setattr__(self, "items", tuple(str(item) for item in items))
        object.__setattr__(self, "note", note)


@dataclass(frozen=True)
class Extra:
    item: str
    reason: Any  # str or a lazy translation
    note: Any = ""


@dataclass(frozen=True)
class NotPersonal:
    note: str = ""


Declaration = Item | Extra | NotPersonal

# Field classes that can hold a personal item (subclasses included: EmailField, SlugField,
# DateTimeField, URLField...). Numbers, booleans and keys hold none on their own.
CLASSIFIED_FIELD_TYPES: tuple[type[models.Field[Any, Any]], ...] = (
    models.CharField,
    models.TextField,
    models.DateField,
    models.JSONField,
    models.GenericIPAddressField,
    models.FileField,
    models.BinaryField,
)

PROJECT_PREFIX = "madoguchi."


@dataclass(frozen=True)
class PersonalField:
    model: type[models.Model]
    field: str
    item: str  # a PersonalItem or AdditionalItem value
    kind: str  # "approved" or "additional"
    reason: Any = ""
    note: Any = ""

    @property
    def label(self) -> str:
        return f"{self.model._meta.label}.{self.field}"


def project_models() -> Iterator[type[models.Model]]:
    for model in apps.get_models():
        if model.__module__.startswith(PROJECT_PREFIX) and not model._meta.abstract:
            yield model


def classified_fields(model: type[models.Model]) -> list[str]:
    return [field.name for field in model._meta.concrete_fields if isinstance(field, CLASSIFIED_FIELD_TYPES)]


def declarations() -> dict[str, dict[str, Declaration]]:
    """Every app's `PERSONAL_DATA`, merged: {"app_label.Model": {"field": Declaration}}."""
    merged: dict[str, dict[str, Declaration]] = {}
    for config in apps.get_app_configs():
        if not config.name.startswith(PROJECT_PREFIX):
            continue
        module_name = f"{config.name}.inventory"
        if find_spec(module_name) is None:
            continue
        declared: dict[str, dict[str, Declaration]] = getattr(import_module(module_name), "PERSONAL_DATA", {})
        for label, fields in declared.items():
            merged.setdefault(label, {}).update(fields)
    return merged


@dataclass(frozen=True)
class Problem:
    code: str
    label: str
    message: str


def problems() -> list[Problem]:
    """Undeclared fields (E001), declarations of no field (E002), unknown items (E003)."""
    declared = declarations()
    found: list[Problem] = []
    approved = {item.value for item in PersonalItem}
    additional = {item.value for item in AdditionalItem}
    models_by_label = {model._meta.label: model for model in project_models()}
    for label, model in sorted(models_by_label.items()):
        fields = declared.get(label, {})
        for name in classified_fields(model):
            if name not in fields:
                found.append(Problem("E001", f"{label}.{name}", "undeclared"))
    for label, fields in sorted(declared.items()):
        found_model = models_by_label.get(label)
        names = {field.name for field in found_model._meta.concrete_fields} if found_model else set()
        for name, declaration in sorted(fields.items()):
            where = f"{label}.{name}"
            if name not in names:
                found.append(Problem("E002", where, "declared but no such field"))
            if isinstance(declaration, Item) and not set(declaration.items) <= approved:
                found.append(
                    Problem(
                        "E003", where, f"unknown PersonalItem {sorted(set(declaration.items) - approved)}"
                    )
                )
            if isinstance(declaration, Extra):
                if declaration.item not in additional:
                    found.append(Problem("E003", where, f"unknown AdditionalItem {declaration.item!r}"))
                if not declaration.reason.strip():
                    found.append(Problem("E003", where, "an additional item needs its reason"))
    return found


def personal_fields() -> list[PersonalField]:
    """The declared personal fields: (model, field, item) for every approved or additional item
    a field holds. A field holding several items appears once per item."""
    models_by_label = {model._meta.label: model for model in project_models()}
    result: list[PersonalField] = []
    for label, fields in sorted(declarations().items()):
        model = models_by_label.get(label)
        if model is None:
            continue
        for name, declaration in sorted(fields.items()):
            if isinstance(declaration, Item):
                for item in declaration.items:
                    result.append(PersonalField(model, name, item, "approved", note=declaration.note))
            elif isinstance(declaration, Extra):
                result.append(
                    PersonalField(
                        model,
                        name,
                        declaration.item,
                        "additional",
                        reason=declaration.reason,
                        note=declaration.note,
                    )
                )
    return result


def item_label(value: str) -> str:
    for choices in (PersonalItem, AdditionalItem):
        for item in choices:
            if item.value == value:
                return str(item.label)
    return value


def field_label(model: type[models.Model], name: str) -> str:
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except Exception:
        return name


# The compliance app's own fields (other apps declare theirs in their inventory.py).
_STAFF = NotPersonal("職員の情報（従事者名簿の範囲）")
_CODE = NotPersonal()
_NO_VALUES = NotPersonal("事案の記録：受付番号・公開IDと件数のみ（氏名などは書かない）")

PERSONAL_DATA: dict[str, dict[str, Declaration]] = {
    "compliance.StaffCompliance": {
        "pledge_signed_on": _STAFF,
        "training_completed_on": _STAFF,
        "note": _STAFF,
        "updated_at": _CODE,
    },
    "compliance.TrainingPolicy": {"created_at": _CODE},
    "compliance.ResponsiblePerson": {"title": _STAFF, "since": _STAFF, "updated_at": _CODE},
    "compliance.Incident": {
        "summary": _NO_VALUES,
        "found_at": _CODE,
        "occurred_from": _CODE,
        "records": _NO_VALUES,
        "told_whom": _NO_VALUES,
        "ward_told_at": _CODE,
        "ppc_told_at": _CODE,
        "actions": _NO_VALUES,
        "status": _CODE,
        "created_at": _CODE,
        "updated_at": _CODE,
    },
}
