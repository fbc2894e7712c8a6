"""What the panel shows of a candidate before it is opened (masked, never the full items), and
the API tokens a user manages."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from madoguchi.identify.engine import Result
from madoguchi.identify.models import ApiToken
from madoguchi.lib.sql import fetch_all, placeholders, table
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import program_ids, require
from madoguchi.registry.models import Child, Guardian, Household

FIELD_NAMES: dict[str, Any] = {
    "guardian_name": _("保護者の名"),
    "family_name": _("姓"),
    "child_name": _("児童の名"),
    "child_dob": _("児童生年月日"),
    "guardian_dob": _("保護者生年月日"),
    "address": _("住所"),
    "phone": _("電話番号"),
    "email": _("メールアドレス"),
}
HOW: dict[str, tuple[Any, str]] = {
    "exact": (_("一致"), "match--exact"),
    "variant": (_("異体字一致"), "match--variant"),
    "reading": (_("読み一致"), "match--reading"),
    "loose": (_("読み近似（長音など）"), "match--partial"),
    "homophone": (_("同音の別漢字"), "match--partial"),
    "fuzzy": (_("類似"), "match--fuzzy"),
    "partial": (_("部分一致"), "match--partial"),
    "disagree": (_("不一致"), "match--mismatch"),
}
_TOWN_END = re.compile(r"[0-9０-９]|[一二三四五六七八九十]+(?:丁目|番)")


@dataclass
class CandidateView:
    public_id: str
    number: str
    score: int  # percent
    family_names: list[str]
    children: int
    child_birth_years: list[int]
    town: str
    evidence: list[dict[str, Any]] = field(default_factory=list)


def town_of(address: str) -> str:
    """The address up to its town (`東京都世田谷区太子堂`): no block, building or room."""
    match = _TOWN_END.search(address)
    return (address[: match.start()] if match else address).strip()


def _family(name: str) -> str:
    parts = re.split(r"[\s\u3000]+", name.strip(), maxsplit=1)
    return parts[0] if len(parts) == 2 else ""


def candidate_views(*, user: Any, program: Program, result: Result) -> list[CandidateView]:
    """What the panel shows of the engine's candidates in `program`, for `user` (none outside
    their programs); a household no longer in the list is left out."""
    ids = [c.household_id for c in result.candidates]
    if not ids or program.pk not in program_ids(user, "identify"):
        return []
    households = _shown_households(program.pk, ids)
    views: list[CandidateView] = []
    for candidate in result.candidates:
        household = households.get(candidate.household_id)
        if household is None:
            continue
        views.append(
            CandidateView(
                public_id=str(household.public_id),
                number=household.number,
                score=round(candidate.score * 100),
                family_names=[f for f in (_family(name) for name in household.guardian_names) if f],
                children=len(household.child_birth_years),
                child_birth_years=sorted(household.child_birth_years),
                town=town_of(household.address),
                evidence=[
                    {"field": FIELD_NAMES.get(e.field, e.field), "how": HOW[e.how][0], "css": HOW[e.how][1]}
                    for e in candidate.evidence
                    if e.how in HOW
                ],
            )
        )
    return views


@dataclass
class _ShownHousehold:
    public_id: Any
    number: str
    address: str
    guardian_names: list[str] = field(default_factory=list)
    child_birth_years: list[int] = field(default_factory=list)


def _shown_households(program_id: int, ids: list[int]) -> dict[int, _ShownHousehold]:
    """The few columns the panel shows of a search's candidates (at most five households), in
    two written statements: every search asks, and the three querysets of `prefetch_related`
    (households, guardians, children: forty columns of full rows) cost more to compile and
    build than to run. Guardians in the order they were listed (their id)."""
    marks, params = placeholders(ids)
    rows = fetch_all(
        Household,
        f"SELECT id, public_id, number, address FROM {table(Household)} "  # noqa: S608 - names only
        f"WHERE program_id = %s AND id IN ({marks})",
        [program_id, *params],
    )
    public_id, dob = Household._meta.get_field("public_id"), Child._meta.get_field("dob")
    shown = {
        pk: _ShownHousehold(public_id=public_id.to_python(uuid), number=number, address=address)
        for pk, uuid, number, address in rows
    }
    if not shown:
        return shown
    marks, params = placeholders(shown)
    people = fetch_all(
        Household,
        f"SELECT 1 AS kind, household_id, id, name, NULL AS dob FROM {table(Guardian)} "  # noqa: S608
        f"WHERE household_id IN ({marks}) UNION ALL "
        f"SELECT 2, household_id, id, NULL, dob FROM {table(Child)} WHERE household_id IN ({marks}) "
        "ORDER BY 1, 3",
        [*params, *params],
    )
    for kind, household_id, _pk, name, born in people:
        if kind == 1:
            shown[household_id].guardian_names.append(name)
        else:
            shown[household_id].child_birth_years.append(dob.to_python(born).year)
    return shown


def api_tokens_for(user: Any) -> QuerySet[ApiToken]:
    """The screen-pop tokens `user` manages: their own organisation's, newest first (403 for a
    role that manages none)."""
    require(user, "api_tokens")
    if user.organisation_id is None:
        return ApiToken.objects.none()
    return (
        ApiToken.objects.filter(organisation_id=user.organisation_id)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
    )
