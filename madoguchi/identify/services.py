"""Identification as a user does it: scoped, audited, never copying what was searched.

Every search is an access to personal data and leaves an IDENTIFY event naming the fields
used and the number of candidates (R-35); opening a candidate is a VIEW of that household.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from madoguchi.accounts.models import Organisation
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.identify.engine import Query, Result, identify
from madoguchi.identify.follow_up import FollowUp, follow_up
from madoguchi.identify.models import ApiToken, hash_token
from madoguchi.programs.models import PersonalItem, Program
from madoguchi.programs.recording import require_recording_open
from madoguchi.programs.scoping import member_program, program_ids, require, restrict
from madoguchi.registry.models import Child, Guardian, Household


def program_for(user: Any, code: str) -> Program:
    """The program `code` if `user` may identify in it; 404 otherwise (another program's
    existence is not revealed)."""
    require(user, "identify")
    # One written statement (`member_programs`: the user's programs, whole rows) rather than
    # the program by its code through a compiled queryset and then the user's program ids: a
    # search is typed letter by letter. It keeps the ids for the rest of the request, so the
    # search's and the candidates' scope checks read no more.
    return member_program(user, "identify", code)


@dataclass
class Search:
    result: Result
    # The one item the operator should ask the caller for when the engine abstained on a
    # clear first candidate (`follow_up`): its name, never the household's value.
    follow_up: FollowUp | None = None


@transaction.atomic
def search(*, user: Any, program: Program, query: Query) -> Search:
    """Run the engine for `user` on `program`'s list and audit the search."""
    require(user, "identify")
    # Defence in depth (the view's `program_for` checked it): the user's program ids, read once
    # per request and equal to `programs_for`'s, rather than one more query compiled.
    if program.pk not in program_ids(user, "identify"):
        raise Http404
    if not query.fields_given():
        return Search(Result())
    result = identify(program.pk, query, rebuild_large=False)
    question = follow_up(result)
    details: dict[str, Any] = {
        "fields": result.fields_used,
        "count": len(result.candidates),
        "abstained": result.abstained,
    }
    if question is not None:
        # Which item the panel asked for (a field name, as "fields"): the next search's
        # fields then show whether the operator asked it.
        details["follow_up"] = question.item
    record(
        action=Action.IDENTIFY,
        actor=user,
        program_id=program.pk,
        object_type="target_list",
        details=details,
    )
    return Search(result, question)


@dataclass
class HouseholdDetails:
    household: Household
    guardians: list[Guardian]
    children: list[Child]
    shown: list[str] = field(default_factory=list)  # the PersonalItem values shown


@transaction.atomic
def open_household(*, user: Any, program: Program, public_id: Any) -> HouseholdDetails:
    """Reveal one candidate household's details: an audited VIEW (404 outside scope)."""
    require(user, "identify")
    household = (
        restrict(Household.objects.all(), user, "identify")
        .filter(
            program=program, public_id=public_id, removed_by_import__isnull=True, suspended_at__isnull=True
        )
        .first()
    )
    if household is None:
        raise Http404
    shown = [
        item.value for item in PersonalItem if program.approves(item.value) and item != PersonalItem.INQUIRY
    ]
    record(
        action=Action.VIEW,
        actor=user,
        program_id=program.pk,
        object_type="household",
        object_id=str(household.public_id),
        details={"fields": shown, "via": "identify"},
    )
    return HouseholdDetails(
        household=household,
        guardians=list(household.guardians.order_by("pk")),
        children=list(household.children.order_by("dob", "pk")),
        shown=shown,
    )


def household_in_scope(*, user: Any, program: Program, public_id: Any) -> Household:
    household = (
        restrict(Household.objects.all(), user, "identify")
        .filter(program=program, public_id=public_id)
        .first()
    )
    if household is None:
        raise Http404
    return household


class HouseholdSuspended(Exception):
    """Refused: the household's use is suspended (APPI). The message is Japanese, shown as is."""

    def __init__(self) -> None:
        self.message = _("この世帯は利用停止中のため、問い合わせに紐付けできません。")
        super().__init__(self.message)


def confirm_household(*, user: Any, program: Program, public_id: Any) -> Household:
    """The household an operator confirms for the case being recorded (404 outside scope).

    Binding a household to a case adds a personal item to it: refused outside the recording
    period (RecordingClosed) like every other write.
    """
    household = household_in_scope(user=user, program=program, public_id=public_id)
    require_recording_open(program)
    if household.is_suspended:
        raise HouseholdSuspended()
    return household


# --- the phone system's screen pop -------------------------------------------------------


class TokenError(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def require_token_manager(user: Any, organisation: Organisation) -> None:
    """The supervisor of a contractor and the ward manager of a ward manage their own
    organisation's tokens (docs/permissions.md); 403 for other roles, 404 for another
    organisation's token (its existence is not revealed)."""
    require(user, "api_tokens")
    if user.organisation_id is None or user.organisation_id != organisation.pk:
        raise Http404


@transaction.atomic
def create_api_token(*, organisation: Organisation, name: str, created_by: Any) -> tuple[ApiToken, str]:
    """A new token for `organisation`; the secret is returned once and only its hash kept.

    `created_by` is the user at the token screen, or None for `madoguchi identify-token` (the
    system operator at the server's shell). ValidationError for a blank or too long name.
    """
    if created_by is not None:
        require_token_manager(created_by, organisation)
    secret = ApiToken.new_secret()
    token = ApiToken(
        organisation=organisation, name=name.strip(), token_hash=hash_token(secret), created_by=created_by
    )
    token.full_clean()
    token.save()
    record(
        action=Action.SETTINGS_CHANGE,
        actor=created_by,
        object_type="api_token",
        object_id=token.pk,
        details={"change": "created", "organisation": organisation.pk, "via": _via(created_by)},
    )
    return token, secret


@transaction.atomic
def revoke_api_token(*, token: ApiToken, user: Any) -> ApiToken:
    """Revoke `token` for good (`user` None: the command line). ValidationError when it
    already was: the row is locked first, so two revocations cannot both be audited."""
    locked = ApiToken.objects.select_for_update().select_related("organisation").get(pk=token.pk)
    if user is not None:
        require_token_manager(user, locked.organisation)
    if locked.revoked_at is not None:
        raise ValidationError(_("このトークンはすでに失効しています。"))
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at"])
    record(
        action=Action.SETTINGS_CHANGE,
        actor=user,
        object_type="api_token",
        object_id=locked.pk,
        details={"change": "revoked", "organisation": locked.organisation_id, "via": _via(user)},
    )
    return locked


def _via(user: Any) -> str:
    return "cli" if user is None else "screen"


def authenticate_token(header: str) -> ApiToken:
    """The active token of an `Authorization: Bearer …` header; TokenError(401/403) otherwise."""
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise TokenError(401)
    token = (
        ApiToken.objects.select_related("organisation")
        .filter(token_hash=hash_token(secret.strip()[:200]))
        .first()
    )
    if token is None or not token.is_active:
        raise TokenError(401)
    # A deactivated organisation, or a contractor the ward manager suspended (the kill switch
    # stops its phone system as it stops its people).
    if not token.organisation.is_active or token.organisation.access_suspended:
        raise TokenError(403)
    return token


@transaction.atomic
def screen_pop(*, token: ApiToken, program_code: str, caller_number: str) -> Result:
    """Candidates for a caller's number, for a program of the token's organisation (404 else)."""
    organisation = token.organisation
    program = Program.objects.filter(code=program_code).first()
    if program is None or organisation.pk not in (program.ward_id, program.contractor_id):
        raise TokenError(404)
    # The screen pop starts the recording of a call: nothing may be recorded after the period.
    require_recording_open(program)
    result = identify(program.pk, Query(phone=caller_number), rebuild_large=False)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    record(
        action=Action.IDENTIFY,
        actor=None,
        program_id=program.pk,
        object_type="target_list",
        details={
            "fields": result.fields_used,
            "count": len(result.candidates),
            "via": "api",
            "token_id": token.pk,
            "organisation": organisation.code,
        },
    )
    return result
