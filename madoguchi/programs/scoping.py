"""The one place that decides which programs' personal data a user may reach (R-19).

Every query for personal data goes through `restrict(queryset, user, action)`, which filters by
the programs the user works on: a user reaches a program when they are one of its members and
their organisation is the program's ward or its contractor. A record outside that answers 404.
"""

from __future__ import annotations

from typing import Any, Literal, TypeVar

from django.core.exceptions import PermissionDenied
from django.db import connections
from django.db.models import Model, Q, QuerySet
from django.http import Http404

from madoguchi.accounts.models import Role
from madoguchi.accounts.otp import SessionRead, aggregate
from madoguchi.core.request_context import memoized, remember
from madoguchi.lib.sql import fetch_all, from_row, select_list, table
from madoguchi.programs.models import Program

M = TypeVar("M", bound=Model)

# What each role may do with personal data. The full matrix, field by field, is
# docs/permissions.md; this table is what the code enforces.
ACTIONS: dict[str, frozenset[str]] = {
    "view": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.WARD_STAFF, Role.WARD_MANAGER, Role.AUDITOR}),
    "identify": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.WARD_STAFF, Role.WARD_MANAGER}),
    "edit": frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.WARD_STAFF, Role.WARD_MANAGER}),
    "escalate": frozenset({Role.OPERATOR, Role.SUPERVISOR}),
    "answer": frozenset({Role.WARD_STAFF, Role.WARD_MANAGER}),
    "import": frozenset({Role.WARD_STAFF, Role.WARD_MANAGER}),
    "export": frozenset({Role.WARD_MANAGER}),
    "manage": frozenset({Role.WARD_MANAGER}),
    "audit": frozenset({Role.WARD_MANAGER, Role.AUDITOR}),
    "supervise": frozenset({Role.SUPERVISOR, Role.WARD_MANAGER}),
    # Account screens: the ward manager for the ward and its contractors, a supervisor for the
    # unlocking of their own operators (accounts.services narrows it per object).
    "accounts": frozenset({Role.SUPERVISOR, Role.WARD_MANAGER}),
    # The screen-pop API tokens of the user's own organisation (identify.services narrows it).
    "api_tokens": frozenset({Role.SUPERVISOR, Role.WARD_MANAGER}),
}

# Field by field (docs/permissions.md): what a role sees of each personal item of a record it
# may view. "opened" means only once the record was opened for a caller (identified), "masked"
# before; "full" always; absent means never.
Visibility = Literal["full", "masked", "none"]
_CONTACT_ITEMS = frozenset(
    {
        "child.dob",
        "guardian.dob",
        "household.address",
        "household.postal_code",
        "guardian.phone",
        "guardian.email",
    }
)
FIELD_ACCESS: dict[str, dict[str, str]] = {
    Role.OPERATOR: {"*": "full", **{item: "opened" for item in _CONTACT_ITEMS}},
    Role.SUPERVISOR: {"*": "full", **{item: "opened" for item in _CONTACT_ITEMS}},
    Role.WARD_STAFF: {"*": "full"},
    Role.WARD_MANAGER: {"*": "full"},
    Role.AUDITOR: {"*": "full", **{item: "masked" for item in _CONTACT_ITEMS}},
    Role.SYSADMIN: {},
}


def can(user: Any, action: str) -> bool:
    """Whether `user`'s role may ever `action`: asked about twenty times a page (the navigation),
    so it reads nothing from the database and looks up today's date at most once a request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if hasattr(user, "is_within_validity") and not user.is_within_validity():
        return False
    return user.role in ACTIONS.get(action, frozenset())


def field_access(user: Any, item: str, *, opened: bool = False) -> Visibility:
    """How `user` may see personal item `item` (a `PersonalItem` value, e.g. "child.dob") of a
    record they may view: "full", "masked" (e.g. ****年**月**日), or "none"."""
    if not can(user, "view"):
        return "none"
    rules = FIELD_ACCESS.get(user.role, {})
    rule = rules.get(item, rules.get("*", "none"))
    if rule == "opened":
        return "full" if opened else "masked"
    return "full" if rule == "full" else "masked" if rule == "masked" else "none"


def require(user: Any, action: str) -> None:
    """403 for a role that may never do `action` (T-SEC-02); object scoping is `restrict`."""
    if not can(user, action):
        raise PermissionDenied


def programs_for(user: Any, action: str = "view") -> QuerySet[Program]:
    if not can(user, action) or user.organisation_id is None:
        return Program.objects.none()
    org = user.organisation_id
    return Program.objects.filter(Q(ward_id=org) | Q(contractor_id=org), members=user).distinct()


def ward_programs(user: Any, action: str) -> QuerySet[Program]:
    """The programs of the user's own ward on which they may `action` (the ward's own screens:
    ending recording, the register, the erasure, disclosures). A contractor's user gets none."""
    if not can(user, action):
        return Program.objects.none()
    return programs_for(user, action).filter(ward_id=getattr(user, "organisation_id", None))


def ward_program_or_404(user: Any, action: str, code: str) -> Program:
    """One program of the user's own ward: 403 for a role that may never `action`, 404 for a
    program outside the ward (or one the user is not a member of)."""
    require(user, action)
    program = ward_programs(user, action).filter(code=code).first()
    if program is None:
        raise Http404
    return program


def program_ids(user: Any, action: str = "view") -> list[int]:
    """The ids of `programs_for(user, action)`, looked up once per request (a page asks four or
    five times: the list, its count, the filters, the badges). The action only decides whether
    the user gets any (`can`); the ids themselves are the same for every action, so one
    lookup serves them all (a case saved from the call screen asks for "identify", "edit" and
    "view")."""
    if not can(user, action) or user.organisation_id is None:
        return []
    return memoized(_program_ids_key(user), lambda: _member_program_ids(user.pk, user.organisation_id))


def member_programs(user: Any, action: str = "view") -> list[Program]:
    """`list(programs_for(user, action).order_by("code"))` as one written statement (the
    identify page lists them on every visit; compiling the queryset cost more than running
    it). Their ids are kept as `program_ids`' for the rest of the request, as that would have
    read the same ones (test_scoping proves the three equal)."""
    if not can(user, action) or user.organisation_id is None:
        return []
    connection = connections[Program.objects.db]
    name, members = table(Program), table(Program.members.through)
    rows = fetch_all(
        Program,
        f"SELECT {select_list(Program, connection)} FROM {name} "  # noqa: S608 - names only
        f"WHERE ({name}.ward_id = %s OR {name}.contractor_id = %s) "
        f"AND {name}.id IN (SELECT m.program_id FROM {members} m WHERE m.user_id = %s) "
        f"ORDER BY {name}.code",
        [user.organisation_id, user.organisation_id, user.pk],
    )
    programs: list[Program] = [from_row(Program, row, connection) for row in rows]
    memoized(_program_ids_key(user), lambda: [program.pk for program in programs])
    return programs


def member_program(user: Any, action: str, code: str, programs: list[Program] | None = None) -> Program:
    """The program `code` among the user's `member_programs` (or `programs`, already read), or
    404: another program's existence is not revealed."""
    chosen = programs if programs is not None else member_programs(user, action)
    program = next((program for program in chosen if program.code == code), None)
    if program is None:
        raise Http404
    return program


def _program_ids_key(user: Any) -> tuple[Any, ...]:
    return ("program_ids", user.pk, user.organisation_id, user.role)


def member_program_condition(user_table: str, program: str = "p") -> str:
    """SQL: the program row `program` is one of the user's (the row of `user_table` in the same
    statement): `_member_program_ids`' rule, for subqueries of the session's statement."""
    members = table(Program.members.through)
    return (
        f"({program}.ward_id = {user_table}.organisation_id "  # noqa: S608 - names only
        f"OR {program}.contractor_id = {user_table}.organisation_id) "
        f"AND {program}.id IN (SELECT m.program_id FROM {members} m WHERE m.user_id = {user_table}.id)"
    )


def _member_program_ids_sql(connection: Any, user_table: str, organisation_table: str) -> str:
    """`_member_program_ids` of the session's user as a subquery of the statement that reads
    them (accounts.otp): the ids in the programs' code order, joined by commas."""
    ids = aggregate(connection, "chosen.id", ",", order="chosen.code")
    return (
        f"SELECT {ids} FROM (SELECT p.id, p.code FROM {table(Program)} p "  # noqa: S608 - names only
        f"WHERE {member_program_condition(user_table)} ORDER BY p.code) chosen"
    )


def _keep_member_program_ids(user: Any, value: Any) -> None:
    if user.organisation_id is not None:
        remember(_program_ids_key(user), [int(part) for part in value.split(",")] if value else [])


# Every staff request reads the user's program ids: with the session's user, in its statement.
SESSION_READ = SessionRead("program_ids", _member_program_ids_sql, _keep_member_program_ids)


def _member_program_ids(user_id: int, organisation_id: int) -> list[int]:
    """`programs_for(...)`'s ids in its order, as one written statement: every staff page asks,
    and compiling the queryset cost more than running it (test_scoping proves them equal)."""
    programs, members = table(Program), table(Program.members.through)
    rows = fetch_all(
        Program,
        f"SELECT DISTINCT p.id, p.code FROM {programs} p "  # noqa: S608 - table names only
        f"INNER JOIN {members} m ON m.program_id = p.id "
        "WHERE (p.ward_id = %s OR p.contractor_id = %s) AND m.user_id = %s ORDER BY p.code",
        [organisation_id, organisation_id, user_id],
    )
    return [row[0] for row in rows]


def restrict(
    queryset: QuerySet[M], user: Any, action: str = "view", *, program_field: str = "program"
) -> QuerySet[M]:
    """Limit `queryset` to rows of programs `user` may `action` on. Empty when none."""
    ids = program_ids(user, action)
    if not ids:
        return queryset.none()
    if program_field == "id":
        return queryset.filter(id__in=ids)
    return queryset.filter(**{f"{program_field}__in": ids})
