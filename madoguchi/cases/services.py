"""Every write to a case: creation, edits, the status machine, escalation and the ward's answer.

Each function refuses outside the program's recording period (R-02), checks the actor's role
against the transition table, writes the timeline entry and the audit event in the same
transaction, and bumps `version` with a conditional UPDATE so a stale save is refused
(`VersionConflict`) instead of overwriting someone else's work.
"""

from __future__ import annotations

import datetime
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import Role
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases.business_days import add_business_days
from madoguchi.cases.models import (
    DEFAULT_CATEGORIES,
    Case,
    Category,
    Priority,
    StandardAnswer,
    Status,
    TimelineEntry,
)
from madoguchi.cases.receipts import next_receipt_number
from madoguchi.cases.verification import decide as decide_verification
from madoguchi.lib.email import normalize_email
from madoguchi.lib.errors import InputError
from madoguchi.lib.phone import normalize_phone
from madoguchi.lib.sql import insert_columns, insert_values, mark_saved
from madoguchi.programs.models import Program
from madoguchi.programs.recording import RecordingClosed as ProgramRecordingClosed
from madoguchi.programs.recording import require_recording_open
from madoguchi.programs.scoping import program_ids, programs_for
from madoguchi.registry.models import Guardian, Household

Kind = TimelineEntry.Kind

# --- errors ------------------------------------------------------------------------------


class CaseError(Exception):
    """A refusal with a Japanese message that can be shown as is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class RecordingClosed(CaseError):
    def __init__(self) -> None:
        super().__init__(_("記録期間外のため、問い合わせの登録・変更はできません。"))


def _require_open(program: Program) -> None:
    """The cases' face of `madoguchi.programs.recording.require_recording_open` (one rule)."""
    try:
        require_recording_open(program)
    except ProgramRecordingClosed as refused:
        raise RecordingClosed from refused


class TransitionRefused(CaseError):
    pass


class VersionConflict(CaseError):
    def __init__(self, current: Case) -> None:
        super().__init__(_("他の利用者がこの問い合わせを先に更新しました。内容を確認してください。"))
        self.current = current


# --- the status machine, written once -------------------------------------------------------

CONTRACTOR = frozenset({Role.OPERATOR, Role.SUPERVISOR})
WARD = frozenset({Role.WARD_STAFF, Role.WARD_MANAGER})
EVERYONE = CONTRACTOR | WARD

# (from, to) -> roles that may make that move. Anything not listed is refused.
TRANSITIONS: dict[tuple[str, str], frozenset[str]] = {
    (Status.NEW, Status.IN_PROGRESS): EVERYONE,
    (Status.NEW, Status.ESCALATED): CONTRACTOR,
    (Status.NEW, Status.CALLBACK): CONTRACTOR,
    (Status.NEW, Status.CLOSED): EVERYONE,
    (Status.IN_PROGRESS, Status.ESCALATED): CONTRACTOR,
    (Status.IN_PROGRESS, Status.CALLBACK): CONTRACTOR,
    (Status.IN_PROGRESS, Status.CLOSED): EVERYONE,
    # the contractor withdraws a question, or the ward sends it back without an answer
    (Status.ESCALATED, Status.IN_PROGRESS): EVERYONE,
    (Status.ESCALATED, Status.WARD_ANSWERED): WARD,
    (Status.WARD_ANSWERED, Status.CALLBACK): EVERYONE,
    (Status.WARD_ANSWERED, Status.IN_PROGRESS): CONTRACTOR,
    (Status.WARD_ANSWERED, Status.ESCALATED): CONTRACTOR,
    (Status.WARD_ANSWERED, Status.CLOSED): CONTRACTOR,
    (Status.CALLBACK, Status.IN_PROGRESS): CONTRACTOR,
    (Status.CALLBACK, Status.ESCALATED): CONTRACTOR,
    (Status.CALLBACK, Status.CLOSED): CONTRACTOR,
    # reopen
    (Status.CLOSED, Status.IN_PROGRESS): frozenset({Role.OPERATOR, Role.SUPERVISOR, Role.WARD_MANAGER}),
}


def allowed_targets(case: Case, actor: Any) -> list[str]:
    """The statuses `actor` may move `case` to now, in the machine's order (for the screen)."""
    role = getattr(actor, "role", None)
    return [
        to
        for (frm, to), roles in TRANSITIONS.items()
        if frm == case.status and role in roles and to not in (Status.ESCALATED, Status.WARD_ANSWERED)
    ]


def can_transition(case: Case, to: str, actor: Any) -> bool:
    return getattr(actor, "role", None) in TRANSITIONS.get((case.status, to), frozenset())


# --- small helpers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CallerDetails:
    name: str = ""
    kana: str = ""
    child_name: str = ""
    child_dob: datetime.date | None = None


def search_key(text: str) -> str:
    """The derived form searched: NFKC (full-width ASCII, half-width kana) and lower case."""
    return unicodedata.normalize("NFKC", text or "").lower()


def normalise_phone(value: str) -> str:
    """The callback number in canonical notation ("" stays ""); a field error otherwise."""
    if not (value or "").strip():
        return ""
    try:
        return normalize_phone(value)
    except InputError as error:
        raise ValidationError({"contact_phone": error.message}) from error


def normalise_email(value: str) -> str:
    if not (value or "").strip():
        return ""
    try:
        return normalize_email(value)
    except InputError as error:
        raise ValidationError({"contact_email": error.message}) from error


def _actor_snapshot(actor: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        return {"author": None, "author_name": "", "author_organisation": ""}
    organisation = getattr(actor, "organisation", None)
    return {
        "author": actor,
        "author_name": str(actor),
        "author_organisation": organisation.name if organisation else "",
    }


def _require_member(case: Case, actor: Any, action: str = "edit") -> None:
    """Defence in depth: the views scope with restrict(); the services check again, against
    the same program ids (`program_ids`, read once per request; equal to `programs_for`'s)."""
    if case.program_id not in program_ids(actor, action):
        raise TransitionRefused(_("この問い合わせを操作する権限がありません。"))


def _add_entry(case: Case, *, touch: bool = False, **fields: Any) -> TimelineEntry:
    """A timeline entry (`fields` as `_new_entry` takes them) saved; its body joins the case's
    search text. `touch`: the case's `updated_at` is set in the same UPDATE (one new row
    version of the case, not two)."""
    entry = _new_entry(case, **fields)
    entry.save(force_insert=True)
    changes: dict[str, Any] = {}
    if entry.body:
        changes["search_text"] = Concat(F("search_text"), Value("\n" + search_key(entry.body)))
    if touch:
        changes["updated_at"] = timezone.now()
    if changes:
        Case.objects.filter(pk=case.pk).update(**changes)
        _forget(case, "search_text")
    return entry


def _new_entry(
    case: Case,
    *,
    kind: str,
    actor: Any,
    body: str = "",
    from_status: str = "",
    to_status: str = "",
    corrects: TimelineEntry | None = None,
) -> TimelineEntry:
    """A timeline entry checked and ready to insert."""
    entry = TimelineEntry(
        case=case,
        kind=kind,
        body=body,
        from_status=from_status,
        to_status=to_status,
        corrects=corrects,
        **_actor_snapshot(actor),
    )
    # `case` is the saved row we were given (or the new case saved with it), the author the
    # acting user's row and `corrects` a saved entry: no query to check that they exist (the
    # foreign keys still hold in the database).
    entry.full_clean(exclude=["case", "author", "corrects"])
    return entry


def _insert_case_with_entry(case: Case, entry: TimelineEntry) -> None:
    """Insert a new case and its first timeline entry; on PostgreSQL in one statement.

    Written SQL rather than two `save()`s: compiling the ORM's INSERTs was a fifth of a new
    case's CPU, and one round trip less is one less in the case's transaction. The values are
    prepared as `save()` prepares them (`madoguchi.lib.sql.insert_values`); neither model has
    a save() of its own or a signal receiver, which a change to either would have to keep so.
    """
    # The connection itself, not the `django.db.connection` proxy: every field's value is
    # prepared with it, and each attribute read through the proxy is a context-local lookup.
    db = connections[DEFAULT_DB_ALIAS]
    case_columns, case_fields = insert_columns(Case, db)
    case_values = insert_values(case, case_fields, db)
    entry_columns, entry_fields = insert_columns(TimelineEntry, db)
    with db.cursor() as cursor:
        if db.vendor == "postgresql":
            entry_values = insert_values(entry, [f for f in entry_fields if f.attname != "case_id"], db)
            cursor.execute(_case_with_entry_sql(), [*case_values, *entry_values])
            case_id, entry_id = cursor.fetchone()
            mark_saved(case, case_id, db)
        else:
            cursor.execute(_insert_sql(Case, case_columns), case_values)
            mark_saved(case, cursor.lastrowid, db)
            entry.case = case
            cursor.execute(_insert_sql(TimelineEntry, entry_columns), insert_values(entry, entry_fields, db))
            entry_id = cursor.lastrowid
    entry.case = case
    mark_saved(entry, entry_id, db)


def _insert_sql(model: Any, columns: list[str]) -> str:
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(columns))
    return f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608


_CASE_WITH_ENTRY_SQL: list[str] = []


def _case_with_entry_sql() -> str:
    """PostgreSQL: the case inserted in a data-modifying CTE, its entry taking the new id
    (the foreign key is checked at COMMIT, as Django declares it deferred)."""
    if not _CASE_WITH_ENTRY_SQL:
        case_columns, _fields = insert_columns(Case, connection)
        entry_columns, entry_fields = insert_columns(TimelineEntry, connection)
        values = ", ".join(
            "(SELECT id FROM new_case)" if field.attname == "case_id" else "%s" for field in entry_fields
        )
        _CASE_WITH_ENTRY_SQL.append(
            f"WITH new_case AS ({_insert_sql(Case, case_columns)} RETURNING id) "  # noqa: S608 - names only
            f"INSERT INTO {connection.ops.quote_name(TimelineEntry._meta.db_table)} "
            f"({', '.join(entry_columns)}) VALUES ({values}) RETURNING (SELECT id FROM new_case), id"
        )
    return _CASE_WITH_ENTRY_SQL[0]


def _forget(case: Case, *names: str) -> None:
    """Drop values the database computed from the object: read again (Django's deferred
    loading) if something asks for them, not read back on every write."""
    for name in names:
        case.__dict__.pop(name, None)


def _bump(case: Case, expected_version: int, *, from_status: str | None = None, **fields: Any) -> Case:
    """Apply `fields` only if nobody changed the case since `expected_version` was read."""
    rows = Case.objects.filter(pk=case.pk, version=expected_version)
    if from_status is not None:
        rows = rows.filter(status=from_status)
    now = timezone.now()
    updated = rows.update(version=F("version") + 1, updated_at=now, **fields)
    if not updated:
        raise VersionConflict(Case.objects.get(pk=case.pk))
    # The row is what we read at `expected_version` with what this UPDATE wrote: set those on
    # the object rather than read the whole row back (forty columns and the search text); a
    # value the database computed (an expression) is read only if asked for.
    case.version = expected_version + 1
    case.updated_at = now
    for name, value in fields.items():
        if hasattr(value, "resolve_expression"):
            _forget(case, name)
        else:
            setattr(case, name, value)
    return case


def _audit(case: Case, actor: Any, action: Action, details: dict[str, Any], **changes: Any) -> None:
    record(
        action=action,
        actor=actor,
        program_id=case.program_id,
        object_type="case",
        object_id=str(case.public_id),
        details=details,
        **changes,
    )


# --- categories ------------------------------------------------------------------------------


def ensure_default_categories(*, program: Program) -> list[Category]:
    """Give a program the standard category list (idempotent; used by the demo and tests)."""
    categories = []
    for order, name in enumerate(DEFAULT_CATEGORIES, start=1):
        category, _created = Category.objects.get_or_create(
            program=program, name=name, defaults={"order": order * 10}
        )
        categories.append(category)
    return categories


# --- creation ----------------------------------------------------------------------------------


def _check_category(program: Program, category: Category | None) -> None:
    """A case is filed under an active category of its program (an old case keeps the one it
    has after a ward manager deactivates it: only a change to an inactive one is refused)."""
    if category is None:
        return
    if category.program_id != program.pk:
        raise ValidationError({"category": _("この事業の分類ではありません。")})
    if not category.is_active:
        raise ValidationError({"category": _("この分類は現在使われていません。別の分類を選んでください。")})


def _check_household(program: Program, household: Household | None, caller_person: Guardian | None) -> None:
    if household is not None and household.program_id != program.pk:
        raise ValidationError({"household": _("この事業の世帯ではありません。")})
    if caller_person is not None and (household is None or caller_person.household_id != household.pk):
        raise ValidationError({"caller_person": _("世帯の保護者ではありません。")})


def _refuse_suspended(household: Household | None) -> None:
    """A household whose use is suspended (APPI) cannot be attached to a case (issue #10)."""
    if household is not None and household.suspended_at is not None:
        raise ValidationError({"household": _("この世帯は利用停止中のため、問い合わせに紐付けできません。")})


def create_case(
    *,
    program: Program,
    channel: str,
    actor: Any,
    inquiry: str,
    category: Category | None = None,
    household: Household | None = None,
    caller: CallerDetails | None = None,
    contact_phone: str = "",
    contact_email: str = "",
    response: str = "",
    verification: str | None = None,
    verified_items: Sequence[str] = (),
    idempotency_key: str | None = None,
    caller_person: Guardian | None = None,
    caller_relation: str = "",
    priority: str = Priority.NORMAL,
    received_at: datetime.datetime | None = None,
) -> Case:
    """Record a new case. `actor=None` is the public inquiry form.

    本人確認 is decided here from `verified_items` by the program's rule
    (`cases.verification.decide`); `verification` is accepted for old callers and ignored: a
    posted label is never trusted. The actor who saves a case is its assignee by default.

    A repeated `idempotency_key` returns the case already made with it: the unique key stops
    the second INSERT, its whole transaction is undone (its receipt number too) and the first
    case is returned. No query looks for it beforehand: repeats are rare, every case pays.
    """
    _require_open(program)
    _check_category(program, category)
    _check_household(program, household, caller_person)
    _refuse_suspended(household)
    caller = caller or CallerDetails()
    del verification  # decided below from the items, never taken from the caller of this function
    decision = decide_verification(program.verification_rule, verified_items)
    if household is None and decision.items:
        raise ValidationError({"verified_items": _("世帯を特定してから本人確認を記録してください。")})
    saved_by = actor if actor is not None and actor.is_authenticated else None
    case = Case(
        program=program,
        channel=channel,
        received_at=received_at or timezone.now(),
        household=household,
        caller_person=caller_person,
        caller_name=caller.name.strip(),
        caller_kana=caller.kana.strip(),
        child_name=caller.child_name.strip(),
        child_dob=caller.child_dob,
        contact_phone=normalise_phone(contact_phone),
        contact_email=normalise_email(contact_email),
        verification=decision.status,
        verified_items=decision.items,
        assignee=saved_by if getattr(saved_by, "is_contractor", False) else None,
        category=category,
        inquiry=inquiry,
        response=response,
        priority=priority,
        status=Status.NEW,
        created_by=saved_by,
        idempotency_key=idempotency_key or None,
        receipt_number="-",
        search_text=search_key(f"{inquiry}\n{response}"),
    )
    if caller_relation:
        case.caller_relation = caller_relation
    # The program is the saved row we were given and public_id a fresh UUID: checking them
    # again costs two queries per case; the database's constraints still hold. The model's
    # constraints are not validated here either: Django checks a CheckConstraint with a query
    # (`SELECT 1 … WHERE <the row's values>`), and a new case's are the receipt number's
    # uniqueness (given below, inside the transaction) and the callback window, which a new
    # case never has. That query was an eighth of the public form's CPU per submission.
    # The household, the caller, the category and the user are rows the caller read (the
    # household and the category checked above): checking that each still exists cost a query
    # apiece, four per case saved from the call screen; the foreign keys still hold.
    case.full_clean(
        exclude=[
            "receipt_number",
            "idempotency_key",
            "program",
            "household",
            "caller_person",
            "category",
            "assignee",
            "created_by",
        ],
        validate_unique=False,
        validate_constraints=False,
    )
    try:
        # One transaction: the number, the case, its first timeline entry and its audit event
        # are committed together or not at all. The number comes from the program's sequence
        # (`cases.receipts`: no lock, a gap if this transaction fails).
        with transaction.atomic():
            case.receipt_number = next_receipt_number(program)
            _insert_case_with_entry(
                case, _new_entry(case, kind=Kind.CREATED, actor=actor, to_status=Status.NEW)
            )
            _audit(
                case,
                actor,
                Action.CREATE,
                {"fields": _filled_fields(case), "channel": channel, "public_form": actor is None},
            )
    except IntegrityError:
        # The same idempotency key saved concurrently: the first one wins, no duplicate (and,
        # the whole transaction being undone, no receipt number is used up either).
        if idempotency_key:
            existing = Case.objects.filter(idempotency_key=idempotency_key).first()
            if existing is not None:
                return existing
        raise
    return case


def _filled_fields(case: Case) -> list[str]:
    names = [
        "household",
        "caller_person",
        "caller_name",
        "caller_kana",
        "child_name",
        "child_dob",
        "contact_phone",
        "contact_email",
        "category",
        "inquiry",
        "response",
    ]
    return [name for name in names if getattr(case, name, None) not in (None, "")]


# --- edits ------------------------------------------------------------------------------------

EDITABLE_FIELDS: tuple[str, ...] = (
    "channel",
    "category",
    "inquiry",
    "response",
    "priority",
    "contact_phone",
    "contact_email",
    "caller_name",
    "caller_kana",
    "child_name",
    "child_dob",
    "caller_relation",
)
# The household, the caller and 本人確認 change only through `cases.identification`
# (link, unlink, correct), each with its own timeline entry.


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value


@transaction.atomic
def update_case(*, case: Case, actor: Any, expected_version: int, changes: dict[str, Any]) -> Case:
    """Change the listed fields of a case; refused with `VersionConflict` when stale."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    _require_open(case.program)
    _require_member(case, actor)
    if case.is_closed:
        raise TransitionRefused(_("完了した問い合わせは再開してから変更してください。"))
    changes = dict(changes)
    if "contact_phone" in changes:
        changes["contact_phone"] = normalise_phone(changes["contact_phone"])
    if "contact_email" in changes:
        changes["contact_email"] = normalise_email(changes["contact_email"])
    if "category" in changes and changes["category"] != case.category:
        _check_category(case.program, changes["category"])
    _check_household(case.program, changes.get("household", case.household), changes.get("caller_person"))
    if "household" in changes and changes["household"] != case.household:
        _refuse_suspended(changes["household"])
    changed = {name: value for name, value in changes.items() if getattr(case, name) != value}
    if not changed:
        if case.version != expected_version:
            raise VersionConflict(Case.objects.get(pk=case.pk))
        return case
    before = {name: _plain(getattr(case, name)) for name in changed}
    candidate = Case.objects.get(pk=case.pk)
    for name, value in changed.items():
        setattr(candidate, name, value)
    candidate.full_clean(exclude=["idempotency_key"])
    fields: dict[str, Any] = dict(changed)
    if "inquiry" in changed or "response" in changed:
        fields["search_text"] = Concat(
            F("search_text"),
            Value("\n" + search_key(f"{changed.get('inquiry', '')}\n{changed.get('response', '')}")),
        )
    _bump(case, expected_version, **fields)
    _audit(
        case,
        actor,
        Action.UPDATE,
        {"fields": sorted(changed)},
        before=before,
        after={name: _plain(value) for name, value in changed.items()},
    )
    return case


@transaction.atomic
def add_note(*, case: Case, actor: Any, body: str, kind: str = Kind.CALL_NOTE) -> TimelineEntry:
    """Append a call note or a response record; appending never conflicts with an edit."""
    if kind not in (Kind.CALL_NOTE, Kind.RESPONSE):
        raise ValueError(kind)
    if not body.strip():
        raise ValidationError({"body": _("内容を入力してください。")})
    _require_open(case.program)
    _require_member(case, actor)
    entry = _add_entry(case, kind=kind, actor=actor, body=body, touch=True)
    _audit(case, actor, Action.UPDATE, {"fields": ["timeline"], "kind": kind})
    return entry


@transaction.atomic
def correct_entry(*, entry: TimelineEntry, actor: Any, body: str) -> TimelineEntry:
    """A correction is a new entry pointing at the one it corrects; the original stays."""
    case = entry.case
    if not body.strip():
        raise ValidationError({"body": _("訂正内容を入力してください。")})
    if entry.kind in (Kind.CREATED, Kind.STATUS_CHANGE, Kind.ASSIGNMENT):
        raise TransitionRefused(_("この記録は訂正できません。"))
    _require_open(case.program)
    _require_member(case, actor)
    correction = _add_entry(case, kind=Kind.CORRECTION, actor=actor, body=body, corrects=entry)
    _audit(case, actor, Action.UPDATE, {"fields": ["timeline"], "kind": Kind.CORRECTION})
    return correction


@transaction.atomic
def assign(*, case: Case, actor: Any, assignee: Any, expected_version: int) -> Case:
    _require_open(case.program)
    _require_member(case, actor)
    if assignee is not None and not programs_for(assignee, "edit").filter(pk=case.program_id).exists():
        raise ValidationError({"assignee": _("この事業の担当者ではありません。")})
    _bump(case, expected_version, assignee=assignee)
    _add_entry(case, kind=Kind.ASSIGNMENT, actor=actor, body=str(assignee) if assignee else "")
    _audit(case, actor, Action.UPDATE, {"fields": ["assignee"]})
    if assignee is not None and assignee != actor:
        from madoguchi.cases import notify

        notify.notify(case=case, users=[assignee], kind="assigned")
    return case


# --- transitions ------------------------------------------------------------------------------


def _transition(case: Case, to: str, actor: Any, note: str, expected_version: int, **fields: Any) -> Case:
    frm = case.status
    if not can_transition(case, to, actor):
        raise TransitionRefused(
            _("「%(from)s」から「%(to)s」には変更できません。")
            % {"from": Status(frm).label, "to": Status(to).label}
        )
    now = timezone.now()
    if to == Status.CLOSED:
        fields.setdefault("closed_at", now)
    if frm == Status.CLOSED:
        fields.setdefault("closed_at", None)
    _bump(case, expected_version, from_status=frm, status=to, **fields)
    _add_entry(case, kind=Kind.STATUS_CHANGE, actor=actor, body=note, from_status=frm, to_status=to)
    _audit(case, actor, Action.UPDATE, {"fields": ["status"], "from": frm, "to": to})
    return case


@transaction.atomic
def transition(*, case: Case, to: str, actor: Any, note: str = "", expected_version: int) -> Case:
    """Move a case along the status machine (TRANSITIONS); escalation and the ward's answer
    go through `escalate` and `answer`, which carry the question and the answer."""
    if to in (Status.ESCALATED, Status.WARD_ANSWERED):
        raise TransitionRefused(_("区への確認依頼と区の回答は専用の画面から行ってください。"))
    _require_open(case.program)
    _require_member(case, actor)
    return _transition(case, to, actor, note, expected_version)


@transaction.atomic
def escalate(*, case: Case, actor: Any, question: str, expected_version: int) -> Case:
    """Ask the ward: the question goes on the timeline and the answer clock starts."""
    if not question.strip():
        raise ValidationError({"question": _("区への確認内容を入力してください。")})
    _require_open(case.program)
    _require_member(case, actor, "escalate")
    now = timezone.now()
    due = add_business_days(timezone.localdate(now), case.program.answer_target_business_days)
    if not can_transition(case, Status.ESCALATED, actor):
        raise TransitionRefused(_("この問い合わせは区へ確認依頼できません。"))
    _add_entry(case, kind=Kind.ESCALATION, actor=actor, body=question)
    _transition(
        case,
        Status.ESCALATED,
        actor,
        "",
        expected_version,
        escalated_at=now,
        ward_due_on=due,
        ward_answered_at=None,
    )
    from madoguchi.cases import notify

    notify.notify(case=case, users=notify.ward_recipients(case), kind="escalated")
    return case


@transaction.atomic
def answer(*, case: Case, actor: Any, body: str, expected_version: int) -> Case:
    """The ward's answer: on the timeline, then the case returns to the contractor (折り返し待ち)."""
    if not body.strip():
        raise ValidationError({"body": _("回答を入力してください。")})
    _require_open(case.program)
    _require_member(case, actor, "answer")
    if not can_transition(case, Status.WARD_ANSWERED, actor):
        raise TransitionRefused(_("この問い合わせには回答できません。"))
    _add_entry(case, kind=Kind.WARD_ANSWER, actor=actor, body=body)
    now = timezone.now()
    _transition(case, Status.WARD_ANSWERED, actor, "", expected_version, ward_answered_at=now)
    # Back to the operator who took the call, unless someone reassigned it meanwhile.
    back_to = {} if case.assignee_id else {"assignee_id": case.created_by_id}
    _transition(case, Status.CALLBACK, actor, "", case.version, **back_to)
    from madoguchi.cases import notify

    notify.notify(case=case, users=notify.contractor_recipients(case), kind="answered")
    return case


# --- standard answers (回答例) -----------------------------------------------------------------


def _require_ward_editor(program: Program, actor: Any) -> None:
    if (
        getattr(actor, "role", None) not in WARD
        or not programs_for(actor, "answer").filter(pk=program.pk).exists()
    ):
        raise TransitionRefused(_("回答例を編集できるのは区の職員だけです。"))


@transaction.atomic
def save_standard_answer(
    *,
    program: Program,
    actor: Any,
    title: str,
    body: str,
    category: Category | None = None,
    is_active: bool = True,
    previous: StandardAnswer | None = None,
) -> StandardAnswer:
    """A new answer, or a new version of `previous`: every version stays as a row."""
    _require_ward_editor(program, actor)
    if category is not None and category.program_id != program.pk:
        raise ValidationError({"category": _("この事業の分類ではありません。")})
    answer_row = StandardAnswer(
        program=program,
        category=category,
        title=title,
        body=body,
        is_active=is_active,
        approved_by=actor,
        search_text=search_key(f"{title}\n{body}"),
    )
    if previous is not None:
        if previous.program_id != program.pk:
            raise ValidationError({"previous": _("この事業の回答例ではありません。")})
        locked = StandardAnswer.objects.select_for_update().get(pk=previous.pk)
        if not locked.is_current:
            raise TransitionRefused(_("この回答例は既に更新されています。最新版から編集してください。"))
        StandardAnswer.objects.filter(pk=locked.pk).update(is_current=False)
        answer_row.key = locked.key
        answer_row.version = locked.version + 1
    answer_row.full_clean()
    answer_row.save()
    record(
        action=Action.CREATE if previous is None else Action.UPDATE,
        actor=actor,
        program_id=program.pk,
        object_type="standard_answer",
        object_id=str(answer_row.key),
        details={"version": answer_row.version},
    )
    return answer_row
