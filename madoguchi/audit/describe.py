"""Audit events in words a ward's inspector reads: Japanese sentences, objects by their numbers.

The trail stores codes (`details={"fields": ["status"], "text_search": False}`, objects as
`case` + public id) so that it never holds a personal value and stays machine-checkable. This
module turns them into Japanese for the screens: each detail key has a label, known values
have labels, field names are named by the models' own verbose names, and an object is named
by what staff call it (受付番号, 世帯番号) with its public id beside it.

`audit` imports no domain app: the apps register how to name their objects
(`register_object_type`) and their codes (`register_value_labels`) in `AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.apps import apps
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.models import AuditEvent

# The label of each key an event's details may carry. Keys not listed are shown as 「その他」.
DETAIL_LABELS: dict[str, Any] = {
    "fields": gettext_lazy("対象の項目"),
    "change": gettext_lazy("変更の種類"),
    "count": gettext_lazy("件数"),
    "counts": gettext_lazy("件数"),
    "via": gettext_lazy("経路"),
    "screen": gettext_lazy("画面"),
    "step": gettext_lazy("段階"),
    "factor": gettext_lazy("認証方式"),
    "organisation": gettext_lazy("組織"),
    "reason": gettext_lazy("理由"),
    "network": gettext_lazy("許可アドレス"),
    "version": gettext_lazy("版"),
    "format": gettext_lazy("形式"),
    "encoding": gettext_lazy("文字コード"),
    "status": gettext_lazy("状態"),
    "from_epoch": gettext_lazy("期間（から）"),
    "to_epoch": gettext_lazy("期間（まで）"),
    "from": gettext_lazy("変更前"),
    "to": gettext_lazy("変更後"),
    "abstained": gettext_lazy("候補を示さなかった"),
    "follow_up": gettext_lazy("追加で確認を求めた項目"),
    "token_id": gettext_lazy("トークン番号"),
    "programs": gettext_lazy("事業"),
    "text_search": gettext_lazy("本文検索"),
    "terms": gettext_lazy("検索語の数"),
    "query": gettext_lazy("検索条件"),
    "limit": gettext_lazy("上限"),
    "purged_count": gettext_lazy("消去した記録の数"),
    "purged_from_seq": gettext_lazy("消去した記録（から）"),
    "purged_to_seq": gettext_lazy("消去した記録（まで）"),
    "purged_last_hash": gettext_lazy("消去した最後の記録のハッシュ値"),
    "purged_before_epoch": gettext_lazy("消去の基準日時"),
    "purged_chain": gettext_lazy("消去した記録のチェーン"),
    "heads": gettext_lazy("各チェーンの末尾（位置とハッシュ値）"),
    "sha256": gettext_lazy("ファイルのSHA-256"),
    "role": gettext_lazy("役割"),
    "method": gettext_lazy("要求の方式"),
    "view": gettext_lazy("画面"),
    "sessions_ended": gettext_lazy("終了させたセッション数"),
    "name": gettext_lazy("名称"),
    "actor_id": gettext_lazy("利用者番号"),
    "object_type": gettext_lazy("対象の種類"),
    "object_id": gettext_lazy("対象ID"),
    "action": gettext_lazy("操作"),
    "client_ip": gettext_lazy("接続元"),
    "program_id": gettext_lazy("事業番号"),
    "rows": gettext_lazy("行数"),
    "added": gettext_lazy("追加"),
    "changed": gettext_lazy("変更"),
    "removed": gettext_lazy("削除"),
    "unchanged": gettext_lazy("変更なし"),
    "purpose": gettext_lazy("目的"),
    "public_form": gettext_lazy("問い合わせフォームから"),
    "kind": gettext_lazy("種類"),
    "channel": gettext_lazy("受付方法"),
    "priority": gettext_lazy("優先度"),
}

# Labels of values, per key (a value of a key not listed here is shown as it is).
_VALUE_LABELS: dict[str, dict[str, Any]] = {
    "change": {
        "added": gettext_lazy("追加"),
        "changed": gettext_lazy("変更"),
        "created": gettext_lazy("作成"),
        "enrolled": gettext_lazy("登録"),
        "removed": gettext_lazy("削除"),
        "reset": gettext_lazy("再設定"),
        "revoked": gettext_lazy("無効化"),
    },
    "via": {
        "api": gettext_lazy("画面連携API"),
        "identify": gettext_lazy("本人特定画面"),
        "screen": gettext_lazy("画面"),
        "cli": gettext_lazy("コマンド"),
    },
    "step": {
        "password": gettext_lazy("パスワード"),
        "reauth": gettext_lazy("再認証"),
        "second_factor": gettext_lazy("二要素認証"),
    },
    "factor": {"totp": gettext_lazy("ワンタイムパスワード"), "recovery": gettext_lazy("回復コード")},
    "screen": {"earlier_cases": gettext_lazy("これまでの問い合わせ")},
    "reason": {"version_conflict": gettext_lazy("同時に別の更新があった")},
    "format": {"csv": "CSV", "xlsx": "XLSX", "pdf": "PDF", "json": "JSON"},
    "encoding": {"utf-8": "UTF-8", "utf-8-sig": "UTF-8（BOM付き）", "cp932": "Shift_JIS（CP932）"},
    "method": {"GET": gettext_lazy("表示"), "POST": gettext_lazy("送信")},
}

# Field names listed under "fields" that no model names (codes of the product's own).
_FIELD_LABELS: dict[str, Any] = {
    "password": gettext_lazy("パスワード"),
    "recovery_codes": gettext_lazy("回復コード"),
    "totp_device": gettext_lazy("ワンタイムパスワードの端末"),
}

ObjectResolver = Callable[[list[str]], Mapping[str, str]]


@dataclass(frozen=True)
class ObjectType:
    label: Any
    # Given public ids, returns the name staff use for each (受付番号, 世帯番号); may omit some.
    resolver: ObjectResolver | None = None


_OBJECT_TYPES: dict[str, ObjectType] = {
    "audit_event": ObjectType(gettext_lazy("監査ログ")),
    "audit_change": ObjectType(gettext_lazy("変更前後の値")),
    "audit_chain": ObjectType(gettext_lazy("監査ログのハッシュチェーン")),
    "audit_heads": ObjectType(gettext_lazy("監査ログのチェーンの結合")),
    "access_review": ObjectType(gettext_lazy("アクセスレビュー")),
    "user": ObjectType(gettext_lazy("利用者")),
    "user_review": ObjectType(gettext_lazy("利用者の棚卸し")),
    "organisation": ObjectType(gettext_lazy("組織")),
    "allowed_network": ObjectType(gettext_lazy("許可アドレス")),
}


def register_object_type(name: str, label: Any, resolver: ObjectResolver | None = None) -> None:
    _OBJECT_TYPES[name] = ObjectType(label, resolver)


def register_value_labels(key: str, labels: Mapping[str, Any]) -> None:
    """Name the codes a detail key carries, e.g. the approved personal items under "fields"."""
    if key == "fields":
        _FIELD_LABELS.update(labels)
    else:
        _VALUE_LABELS.setdefault(key, {}).update(labels)


def object_type_label(name: str) -> str:
    known = _OBJECT_TYPES.get(name)
    return str(known.label) if known else name


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(((name, str(kind.label)) for name, kind in _OBJECT_TYPES.items()), key=lambda c: c[1])


def object_aliases(object_type: str, object_id: str) -> list[str]:
    """Every id the object has been recorded under (for a filter that must not miss old events)."""
    from django.db.models import Q

    from madoguchi.audit.models import ObjectAlias

    rows = ObjectAlias.objects.filter(
        Q(alias_id=object_id) | Q(object_id=object_id), object_type=object_type
    ).values_list("object_id", "alias_id")
    canonical = {object_id} | {row[0] for row in rows}
    aliases = ObjectAlias.objects.filter(object_type=object_type, object_id__in=canonical).values_list(
        "alias_id", flat=True
    )
    return list(dict.fromkeys([object_id, *sorted(canonical), *aliases]))


@cache
def _model_field_labels() -> dict[str, str]:
    """Field name -> verbose name over the project's models (the first model that names it wins)."""
    labels: dict[str, str] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("madoguchi."):
            continue
        for field in model._meta.get_fields():
            verbose = getattr(field, "verbose_name", None)
            name = getattr(field, "name", "")
            if verbose and name and name not in labels and str(verbose) != name.replace("_", " "):
                labels[name] = str(verbose)
    return labels


def field_label(name: str) -> str:
    if name in _FIELD_LABELS:
        return str(_FIELD_LABELS[name])
    return _model_field_labels().get(name, name)


def _value_text(key: str, value: Any) -> str:
    if isinstance(value, bool):
        return _("あり") if value else _("なし")
    if isinstance(value, list | tuple):
        return _list_separator().join(_value_text(key, item) for item in value) or _("なし")
    if isinstance(value, dict):
        return _list_separator().join(f"{detail_label(k)} {_value_text(k, v)}" for k, v in value.items())
    if key in ("fields", "follow_up") and isinstance(value, str):
        return field_label(value)
    if key.endswith("_epoch") and isinstance(value, int | float):
        import datetime

        from django.utils import timezone

        moment = datetime.datetime.fromtimestamp(value, tz=datetime.UTC)
        return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    if key in ("count", "counts", "rows", "terms", "sessions_ended", "purged_count") and isinstance(
        value, int
    ):
        return _("%(count)s件") % {"count": f"{value:,}"}
    if key == "object_type" and isinstance(value, str):
        return object_type_label(value)
    labels = _VALUE_LABELS.get(key)
    if labels and str(value) in labels:
        return str(labels[str(value)])
    return str(value)


def _list_separator() -> str:
    # Translators: the separator between the items of a list in a sentence.
    return _("、")


def detail_label(key: str) -> str:
    return str(DETAIL_LABELS.get(key, _("その他（%(key)s）") % {"key": key}))


def describe_details(details: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(label, value) pairs in Japanese, in the order the event gave them."""
    return [(detail_label(key), _value_text(key, value)) for key, value in details.items()]


def details_sentence(details: Mapping[str, Any]) -> str:
    """The details as one Japanese sentence: 「対象の項目：保護者氏名、電話番号。件数：3件。」"""
    return "".join(
        _("%(label)s：%(value)s。") % {"label": label, "value": value}
        for label, value in describe_details(details)
    ).strip()


@dataclass(frozen=True)
class ObjectName:
    type_label: str
    # What staff call it (受付番号 KJ-0001, 世帯番号 H-0042), empty when it is no longer known.
    name: str
    object_id: str


def name_objects(events: Iterable[AuditEvent]) -> dict[tuple[str, str], ObjectName]:
    """Name every event's object, one query per object type (a page of events, not N+1)."""
    by_type: dict[str, set[str]] = {}
    for event in events:
        if event.object_id:
            by_type.setdefault(event.object_type, set()).add(event.object_id)
    names: dict[tuple[str, str], ObjectName] = {}
    for object_type, ids in by_type.items():
        known = _OBJECT_TYPES.get(object_type)
        resolved: Mapping[str, str] = {}
        if known is not None and known.resolver is not None:
            resolved = known.resolver(sorted(ids))
        for object_id in ids:
            names[(object_type, object_id)] = ObjectName(
                type_label=object_type_label(object_type),
                name=resolved.get(object_id, ""),
                object_id=object_id,
            )
    return names


def for_display(events: list[AuditEvent]) -> list[AuditEvent]:
    """Give each event `object_name` and `details_sentence` for the screens (one query per type)."""
    names = name_objects(events)
    for event in events:
        fallback = ObjectName(object_type_label(event.object_type), "", event.object_id)
        shown: Any = event
        shown.object_name = names.get((event.object_type, event.object_id), fallback)
        shown.details_sentence = details_sentence(event.details or {})
    return events
