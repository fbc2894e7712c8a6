"""Who may log in and how, and the ward manager's and supervisor's account actions.

Every change here writes its audit row in the same transaction. Audit rows name the user
acted on by id; user names, passwords and codes are never written to the audit log or to
a log line, and a name typed at the login screen is recorded only when it is a real user's.
"""

from __future__ import annotations

import datetime
import secrets
import time
from dataclasses import dataclass
from enum import Enum
from typing import Any

from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet, Sum
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts import allowlist
from madoguchi.accounts.models import (
    CONTRACTOR_ROLES,
    WARD_ROLES,
    AllowedNetwork,
    Organisation,
    RecoveryCode,
    Role,
    User,
)
from madoguchi.accounts.sessions import (
    PENDING_AT,
    PENDING_NEXT,
    PENDING_USER,
    complete_login,
    end_all_sessions,
)
from madoguchi.audit.models import Action, Outcome
from madoguchi.audit.services import record

# The second step must follow the password within this many seconds.
PENDING_SECONDS = 300
# Wrong second-factor codes before the account is locked for LOCK_SECONDS (T-SEC-12).
MAX_CODE_FAILURES = 5
LOCK_SECONDS = 15 * 60
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


# --- login -------------------------------------------------------------------------------


def user_named(username: str) -> User | None:
    return User.objects.filter(username=username).select_related("organisation").first()


def record_login_failure(*, username: str) -> None:
    """LOGIN_FAILED, attributed to the account only when the name is a real user's: a name
    typed by mistake (or a password typed in the wrong field) is never stored."""
    user = user_named(username)
    record(action=Action.LOGIN_FAILED, actor=user, outcome=Outcome.FAILED, details={"step": "password"})


def record_lockout(*, username: str, factor: str) -> None:
    user = user_named(username) if username else None
    record(action=Action.LOCKOUT, actor=user, outcome=Outcome.DENIED, details={"factor": factor})


def begin_second_step(request: HttpRequest, *, user: User, next_url: str) -> None:
    """The password passed: remember who, under a new session key, until the code is checked."""
    request.session.cycle_key()
    request.session[PENDING_USER] = user.pk
    request.session[PENDING_AT] = time.time()
    request.session[PENDING_NEXT] = next_url


def pending_user(request: HttpRequest) -> User | None:
    user_id = request.session.get(PENDING_USER)
    started = request.session.get(PENDING_AT)
    if user_id is None or started is None or time.time() - float(started) > PENDING_SECONDS:
        return None
    user = User.objects.filter(pk=user_id).select_related("organisation").first()
    from madoguchi.accounts.backends import StaffBackend

    if user is None or not StaffBackend().user_can_authenticate(user):
        return None
    return user


def totp_device_for(user: User) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()


class CodeResult(Enum):
    OK = "ok"
    WRONG = "wrong"
    LOCKED = "locked"


def code_locked(device: TOTPDevice | None) -> bool:
    if device is None or device.throttling_failure_count < MAX_CODE_FAILURES:
        return False
    last = device.throttling_failure_timestamp
    return last is not None and timezone.now() - last < datetime.timedelta(seconds=LOCK_SECONDS)


def _recovery_digest(user_id: int, code: str) -> str:
    normalised = code.strip().lower().replace("-", "").replace(" ", "")
    return salted_hmac(
        "madoguchi.accounts.recovery-code", f"{user_id}:{normalised}", algorithm="sha256"
    ).hexdigest()


@transaction.atomic
def check_second_factor(*, user: User, code: str) -> tuple[CodeResult, str]:
    """Check a TOTP code (refused when replayed in its window) or a recovery code (used once).

    Returns the result and which factor matched. Wrong codes of either kind count towards the
    lock; the count lives on the TOTP device row, locked for update against parallel guesses.
    """
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=True).order_by("id").first()
    if device is None:
        return CodeResult.WRONG, ""
    if code_locked(device):
        return CodeResult.LOCKED, "totp"
    cleaned = code.strip().replace(" ", "")
    if cleaned.isdigit() and len(cleaned) == device.digits:
        if device.verify_token(cleaned):
            return CodeResult.OK, "totp"
    elif cleaned:
        match = RecoveryCode.objects.filter(user=user, digest=_recovery_digest(user.pk, cleaned)).first()
        if match is not None:
            match.delete()
            device.throttle_reset()
            return CodeResult.OK, "recovery"
        device.throttle_increment()
    else:
        device.throttle_increment()
    device.refresh_from_db()
    if code_locked(device):
        return CodeResult.LOCKED, "totp"
    return CodeResult.WRONG, ""


def log_in(request: HttpRequest, *, user: User, device: Any, factor: str) -> None:
    with transaction.atomic():
        complete_login(request, user, device)
        record(action=Action.LOGIN, actor=user, details={"factor": factor})


def log_out(request: HttpRequest, *, reason: str = "logout") -> None:
    """End the session on the server (R-12); `reason` says whether the user or a limit ended it."""
    from django.contrib.auth import logout

    user = request.user if request.user.is_authenticated else None
    key = request.session.session_key
    with transaction.atomic():
        if user is not None:
            record(action=Action.LOGOUT, actor=user, details={"reason": reason})
        if key:
            from madoguchi.accounts.models import UserSession

            UserSession.objects.filter(session_key=key).delete()
    logout(request)  # flushes the session: deleted from the store, new empty key


# --- second factor enrolment ---------------------------------------------------------------


def pending_totp_device(*, user: User) -> TOTPDevice:
    """The unconfirmed device shown as a QR code during enrolment (the same one until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


@transaction.atomic
def confirm_enrolment(*, user: User, code: str) -> TOTPDevice | None:
    device = TOTPDevice.objects.select_for_update().filter(user=user, confirmed=False).order_by("-id").first()
    if device is None or code_locked(device):
        return None
    cleaned = code.strip().replace(" ", "")
    if not (cleaned.isdigit() and device.verify_token(cleaned)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    record(
        action=Action.SETTINGS_CHANGE,
        actor=user,
        object_type="user",
        object_id=user.pk,
        details={"fields": ["totp_device"], "change": "enrolled"},
    )
    return device


@transaction.atomic
def new_recovery_codes(*, user: User) -> list[str]:
    """Replace the user's recovery codes; the codes are returned once and stored only hashed."""
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _index in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(12))
        code = f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"
        RecoveryCode.objects.create(user=user, digest=_recovery_digest(user.pk, code))
        codes.append(code)
    record(
        action=Action.SETTINGS_CHANGE,
        actor=user,
        object_type="user",
        object_id=user.pk,
        details={"fields": ["recovery_codes"], "count": len(codes)},
    )
    return codes


# --- who manages whom ----------------------------------------------------------------------


def managed_organisations(actor: Any) -> QuerySet[Organisation]:
    """A ward manager: their ward and the contractors of their ward's programs. A supervisor:
    their own contractor. Nobody else manages accounts."""
    if not getattr(actor, "is_authenticated", False) or actor.organisation_id is None:
        return Organisation.objects.none()
    if actor.role == Role.WARD_MANAGER:
        return Organisation.objects.filter(
            Q(pk=actor.organisation_id) | Q(programs_as_contractor__ward_id=actor.organisation_id)
        ).distinct()
    if actor.role == Role.SUPERVISOR:
        return Organisation.objects.filter(pk=actor.organisation_id)
    return Organisation.objects.none()


def managed_users(actor: Any) -> QuerySet[User]:
    users = User.objects.filter(organisation__in=managed_organisations(actor)).select_related("organisation")
    if getattr(actor, "role", None) == Role.SUPERVISOR:
        users = users.filter(role=Role.OPERATOR)
    return users.order_by("organisation__kind", "organisation__name", "username")


def roles_for(organisation: Organisation) -> list[Role]:
    if organisation.kind == Organisation.Kind.WARD:
        return [role for role in Role if role in WARD_ROLES]
    if organisation.kind == Organisation.Kind.CONTRACTOR:
        return [role for role in Role if role in CONTRACTOR_ROLES or role == Role.SYSADMIN]
    return [Role.SYSADMIN]


def _require_manager(actor: Any) -> None:
    if getattr(actor, "role", None) != Role.WARD_MANAGER:
        raise PermissionDenied


def _require_managed(actor: Any, user: User) -> None:
    if not managed_users(actor).filter(pk=user.pk).exists():
        raise PermissionDenied
    if user.pk == actor.pk:
        raise PermissionDenied  # nobody locks themselves out or raises their own role


def is_locked(user: User) -> bool:
    cool_off: datetime.timedelta = settings.AXES_COOLOFF_TIME
    failures = (
        AccessAttempt.objects.filter(username=user.username, attempt_time__gte=timezone.now() - cool_off)
        .aggregate(total=Sum("failures_since_start"))
        .get("total")
        or 0
    )
    return failures >= settings.AXES_FAILURE_LIMIT or code_locked(totp_device_for(user))


def _audit_user(actor: Any, user: User, action: Action, **kwargs: Any) -> None:
    record(action=action, actor=actor, object_type="user", object_id=user.pk, **kwargs)


def _save(user: User) -> None:
    user.full_clean(exclude=["password"])
    user.save()


@transaction.atomic
def create_user(
    *,
    actor: Any,
    username: str,
    display_name: str,
    organisation: Organisation,
    role: Role | str,
    programs: list[Any],
    valid_from: datetime.date | None = None,
    valid_until: datetime.date | None = None,
) -> tuple[User, str]:
    """A new named account with a random first password (shown once to the manager)."""
    _require_manager(actor)
    if not managed_organisations(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    if role not in roles_for(organisation):
        raise ValidationError({"role": _("この組織には設定できない役割です。")})
    password = "-".join("".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(4)) for _ in range(4))
    user = User(
        username=username,
        display_name=display_name,
        organisation=organisation,
        role=str(role),
        valid_from=valid_from,
        valid_until=valid_until,
    )
    user.set_password(password)
    user.full_clean()
    user.save()
    for program in programs:
        if program.ward_id != actor.organisation_id:
            raise PermissionDenied
        program.members.add(user)
    _audit_user(
        actor,
        user,
        Action.ROLE_CHANGE,
        details={"change": "created", "role": str(role), "programs": [p.pk for p in programs]},
    )
    return user, password


@transaction.atomic
def change_role(*, actor: Any, user: User, role: Role | str) -> None:
    _require_manager(actor)
    _require_managed(actor, user)
    assert user.organisation is not None
    if role not in roles_for(user.organisation):
        raise ValidationError({"role": _("この組織には設定できない役割です。")})
    before = user.role
    user.role = str(role)
    _save(user)
    _audit_user(
        actor, user, Action.ROLE_CHANGE, details={"fields": ["role"], "from": before, "to": str(role)}
    )
    # The new role applies from the next login: end the sessions opened under the old one.
    end_all_sessions([user.pk])


@transaction.atomic
def set_active(*, actor: Any, user: User, active: bool) -> None:
    _require_manager(actor)
    _require_managed(actor, user)
    user.is_active = active
    _save(user)
    _audit_user(
        actor,
        user,
        Action.ROLE_CHANGE,
        details={"fields": ["is_active"], "change": "enabled" if active else "disabled"},
    )
    if not active:
        end_all_sessions([user.pk])


@transaction.atomic
def unlock(*, actor: Any, user: User) -> None:
    """Lift a password or code lockout: a supervisor for their operators, the ward manager for all."""
    if getattr(actor, "role", None) not in {Role.WARD_MANAGER, Role.SUPERVISOR}:
        raise PermissionDenied
    _require_managed(actor, user)
    axes_reset(username=user.username)
    for device in TOTPDevice.objects.filter(user=user):
        device.throttle_reset()
    _audit_user(actor, user, Action.UNLOCK)


@transaction.atomic
def reset_second_factor(*, actor: Any, user: User) -> None:
    """The user lost their authenticator: they enrol a new one at their next login."""
    _require_manager(actor)
    _require_managed(actor, user)
    TOTPDevice.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    _audit_user(
        actor,
        user,
        Action.SETTINGS_CHANGE,
        details={"fields": ["totp_device", "recovery_codes"], "change": "reset"},
    )
    end_all_sessions([user.pk])


@dataclass
class KillSwitchResult:
    organisations: int
    sessions_ended: int


@transaction.atomic
def set_contractor_access(*, actor: Any, suspended: bool) -> KillSwitchResult:
    """The kill switch (R-40, T-OP-08): cut off, or restore, every contractor account of the
    manager's programs at once. Ward accounts are untouched."""
    _require_manager(actor)
    # PostgreSQL refuses FOR UPDATE with DISTINCT: find the ids first, then lock those rows.
    contractor_ids = list(
        managed_organisations(actor).filter(kind=Organisation.Kind.CONTRACTOR).values_list("pk", flat=True)
    )
    contractors = list(Organisation.objects.filter(pk__in=contractor_ids).order_by("pk").select_for_update())
    ended = 0
    for organisation in contractors:
        organisation.access_suspended = suspended
        organisation.save(update_fields=["access_suspended"])
        record(
            action=Action.SETTINGS_CHANGE,
            actor=actor,
            object_type="organisation",
            object_id=organisation.pk,
            details={"fields": ["access_suspended"], "change": "suspended" if suspended else "restored"},
        )
        if suspended:
            ended += end_all_sessions(list(organisation.users.values_list("pk", flat=True)))
    return KillSwitchResult(organisations=len(contractors), sessions_ended=ended)


# --- the allowlist ---------------------------------------------------------------------------


@transaction.atomic
def add_allowed_network(
    *, actor: Any, organisation: Organisation, network: str, note: str = ""
) -> AllowedNetwork:
    _require_manager(actor)
    if not managed_organisations(actor).filter(pk=organisation.pk).exists():
        raise PermissionDenied
    entry = AllowedNetwork(organisation=organisation, network=network.strip(), note=note, created_by=actor)
    entry.full_clean()
    entry.save()
    record(
        action=Action.ALLOWLIST_CHANGE,
        actor=actor,
        object_type="allowed_network",
        object_id=entry.pk,
        details={"change": "added", "organisation": organisation.pk, "network": entry.network},
    )
    allowlist.invalidate()
    return entry


@transaction.atomic
def remove_allowed_network(*, actor: Any, entry: AllowedNetwork, current_address: str) -> None:
    _require_manager(actor)
    if not managed_organisations(actor).filter(pk=entry.organisation_id).exists():
        raise PermissionDenied
    if entry.organisation_id == actor.organisation_id:
        remaining = list(
            AllowedNetwork.objects.filter(organisation_id=entry.organisation_id)
            .exclude(pk=entry.pk)
            .values_list("network", flat=True)
        )
        if not allowlist.address_in(current_address, remaining):
            raise ValidationError(
                _("この削除で、いまお使いのアドレスから利用できなくなるため削除できません。")
            )
    record(
        action=Action.ALLOWLIST_CHANGE,
        actor=actor,
        object_type="allowed_network",
        object_id=entry.pk,
        details={"change": "removed", "organisation": entry.organisation_id, "network": entry.network},
    )
    entry.delete()
    allowlist.invalidate()
