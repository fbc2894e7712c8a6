"""How the audit screens name the target list's objects: a household by its 世帯番号."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from madoguchi.audit.describe import register_object_type
from madoguchi.registry.models import Household, TargetListImport


def _uuids(ids: list[str]) -> list[uuid.UUID]:
    found = []
    for value in ids:
        try:
            found.append(uuid.UUID(value))
        except ValueError:
            continue
    return found


def household_names(ids: list[str]) -> Mapping[str, str]:
    # Older events named a household by its database key: both forms are answered.
    keys = [int(value) for value in ids if value.isdigit()]
    rows = Household.objects.filter(Q(public_id__in=_uuids(ids)) | Q(pk__in=keys)).values_list(
        "pk", "public_id", "number"
    )
    names: dict[str, str] = {}
    for pk, public_id, number in rows:
        label = _("世帯番号 %(number)s") % {"number": number}
        names[str(public_id)] = label
        names[str(pk)] = label
    return names


def import_names(ids: list[str]) -> Mapping[str, str]:
    keys = [int(value) for value in ids if value.isdigit()]
    rows = TargetListImport.objects.filter(pk__in=keys).values_list("pk", "version")
    return {str(pk): _("第%(version)s版") % {"version": version} for pk, version in rows if version}


def register() -> None:
    register_object_type("household", gettext_lazy("世帯"), household_names)
    register_object_type("guardian", gettext_lazy("保護者"))
    register_object_type("child", gettext_lazy("児童"))
    register_object_type("target_list", gettext_lazy("対象者名簿"))
    register_object_type("target_list_import", gettext_lazy("対象者名簿の取込"), import_names)
    register_object_type("targetlistimport", gettext_lazy("対象者名簿の取込"), import_names)
