"""Login in two steps (password, then the second factor), logout, enrolment, and the ward
manager's and supervisor's account screens."""

from __future__ import annotations

import base64
import functools
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts import services
from madoguchi.accounts.forms import CodeForm, EnrolForm, LoginForm, NetworkForm, RoleForm, UserCreateForm
from madoguchi.accounts.models import AllowedNetwork, Organisation, Role, User, UserSession
from madoguchi.accounts.sessions import (
    PENDING_AT,
    PENDING_NEXT,
    PENDING_USER,
    end_all_sessions,
    end_session,
    mark_reauthenticated,
    recently_authenticated,
)
from madoguchi.audit.models import Action, Outcome
from madoguchi.audit.services import record
from madoguchi.core.request_context import current_client_ip
from madoguchi.programs.scoping import require

logger = logging.getLogger(__name__)

ViewFunc = Callable[..., HttpResponseBase]

# One message for an unknown user and a wrong password (T-SEC-10).
BAD_CREDENTIALS = "ユーザー名またはパスワードが正しくありません。"
LOCKED = (
    "ログインできない状態です（試行回数の上限）。"
    "15分後に再度お試しいただくか、管理者に解除を依頼してください。"
)
# Failed password attempts from one address before it is slowed down (an office shares one
# address, so this is far above the per-user limit of 5).
ADDRESS_FAILURE_LIMIT = 30
ADDRESS_WINDOW_SECONDS = 15 * 60


def safe_next(request: HttpRequest, value: str | None) -> str:
    """`next` only when it stays on this site (T-SEC-18); the home page otherwise."""
    if (
        value
        and url_has_allowed_host_and_scheme(
            value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and value.startswith("/")
        and not value.startswith(("//", "/\\"))
    ):
        return value
    return reverse(settings.LOGIN_REDIRECT_URL)


def _address_key(address: str) -> str:
    return f"accounts:login-failures:{address}"


def lockout_response(
    request: HttpRequest, original_response: Any = None, credentials: Any = None
) -> HttpResponse:
    """django-axes calls this for a locked-out user name (AXES_LOCKOUT_CALLABLE)."""
    form = LoginForm()
    return render(request, "accounts/login.html", {"form": form, "error": _(LOCKED)}, status=429)


def _address_failures(address: str) -> int:
    try:
        return int(cache.get(_address_key(address)) or 0)
    except Exception:
        # Redis down: the per-user lockout (in the database, django-axes) still holds.
        logger.warning("cache unavailable: login failures per address are not counted")
        return 0


def _count_address_failure(address: str) -> None:
    try:
        if cache.add(_address_key(address), 1, ADDRESS_WINDOW_SECONDS) is False:
            try:
                cache.incr(_address_key(address))
            except ValueError:
                cache.set(_address_key(address), 1, ADDRESS_WINDOW_SECONDS)
    except Exception:
        logger.warning("cache unavailable: login failures per address are not counted")


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.user.is_authenticated:
        return redirect(next_url)
    form = LoginForm(request.POST or None)
    error = ""
    status = 200
    if request.method == "POST" and form.is_valid():
        address = getattr(request, "client_ip", "")
        if _address_failures(address) >= ADDRESS_FAILURE_LIMIT:
            return render(
                request,
                "accounts/login.html",
                {"form": form, "error": _(LOCKED), "next": next_url},
                status=429,
            )
        username = form.cleaned_data["username"]
        user = authenticate(request, username=username, password=form.cleaned_data["password"])
        if user is None:
            _count_address_failure(address)
            services.record_login_failure(username=username)
            error, status = _(BAD_CREDENTIALS), 200
        else:
            assert isinstance(user, User)
            from madoguchi.accounts import allowlist
            from madoguchi.accounts.middleware import refuse_address

            if not allowlist.is_allowed(address, user.organisation_id):
                return refuse_address(request)
            services.begin_second_step(request, user=user, next_url=next_url)
            if services.totp_device_for(user) is None:
                return redirect("accounts:enrol")
            return redirect("accounts:verify")
    return render(
        request, "accounts/login.html", {"form": form, "error": error, "next": next_url}, status=status
    )


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def verify_view(request: HttpRequest) -> HttpResponse:
    user = services.pending_user(request)
    if user is None:
        messages.info(request, _("もう一度ユーザー名とパスワードを入力してください。"))
        return redirect("accounts:login")
    device = services.totp_device_for(user)
    if device is None:
        return redirect("accounts:enrol")
    form = CodeForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        result, factor = services.check_second_factor(user=user, code=form.cleaned_data["otp_token"])
        if result is services.CodeResult.OK:
            refused = _compliance_refusal(request, user)
            if refused is not None:
                return refused
            next_url = request.session.get(PENDING_NEXT) or reverse(settings.LOGIN_REDIRECT_URL)
            services.log_in(request, user=user, device=device, factor=factor)
            if factor == "recovery":
                messages.warning(request, _("回復コードを使いました。使ったコードはもう使えません。"))
            return HttpResponseRedirect(safe_next(request, next_url))
        if result is services.CodeResult.LOCKED:
            services.record_lockout(username=user.username, factor="totp")
            error = _(LOCKED)
        else:
            record(
                action=Action.LOGIN_FAILED,
                actor=user,
                outcome=Outcome.FAILED,
                details={"step": "second_factor"},
            )
            error = _("確認コードが正しくありません。")
    return render(request, "accounts/verify.html", {"form": form, "error": error})


def _compliance_refusal(request: HttpRequest, user: User) -> HttpResponse | None:
    """No login without the confidentiality pledge or after the training expired (R-40, #14):
    checked once both factors passed, so the refusal tells nothing to someone without them."""
    from madoguchi.compliance.services import login_refusal

    refusal = login_refusal(user)
    if refusal is None:
        return None
    for key in (PENDING_USER, PENDING_AT, PENDING_NEXT):
        request.session.pop(key, None)
    record(action=Action.LOGIN_FAILED, actor=user, outcome=Outcome.DENIED, details={"reason": refusal.code})
    return render(
        request,
        "accounts/login.html",
        {"form": LoginForm(), "error": refusal.message, "next": ""},
        status=403,
    )


def _qr_data_uri(url: str) -> str:
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    svg: bytes = image.to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def enrol_view(request: HttpRequest) -> HttpResponse:
    """First login (or after the manager reset the factor): register an authenticator app."""
    user = services.pending_user(request)
    if user is None:
        return redirect("accounts:login")
    if services.totp_device_for(user) is not None:
        return redirect("accounts:verify")
    device = services.pending_totp_device(user=user)
    form = EnrolForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        confirmed = services.confirm_enrolment(user=user, code=form.cleaned_data["otp_token"])
        if confirmed is not None:
            refused = _compliance_refusal(request, user)
            if refused is not None:
                return refused
            services.log_in(request, user=user, device=confirmed, factor="totp_enrolment")
            codes = services.new_recovery_codes(user=user)
            # Shown in this response only: the codes are stored hashed and cannot be shown again.
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        error = _("確認コードが正しくありません。認証アプリの時刻設定も確認してください。")
    secret = base64.b32encode(device.bin_key).decode("ascii")
    context = {"form": form, "error": error, "qr": _qr_data_uri(device.config_url), "secret": secret}
    return render(request, "accounts/enrol.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    services.log_out(request)
    response = redirect("accounts:login")
    # The browser drops what it kept of the staff pages.
    response["Clear-Site-Data"] = '"cache", "storage"'
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def recovery_codes_view(request: HttpRequest) -> HttpResponse:
    """New recovery codes for oneself, after confirming a current code from the authenticator."""
    form = EnrolForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        result, factor = services.check_second_factor(user=request.user, code=form.cleaned_data["otp_token"])
        if result is services.CodeResult.OK and factor == "totp":
            codes = services.new_recovery_codes(user=request.user)
            return render(request, "accounts/recovery_codes.html", {"codes": codes})
        error = _("確認コードが正しくありません。")
    return render(request, "accounts/recovery_codes_confirm.html", {"form": form, "error": error})


def reauth_required(
    return_to: str, *, action: str, return_kwargs: tuple[str, ...] = ()
) -> Callable[[ViewFunc], ViewFunc]:
    """Sensitive actions (roles, accounts, allowlists, the kill switch, the audit export, the
    target-list import; R-14) need the second factor again when the login is older than 5
    minutes. A POST cannot be replayed after the detour, so the user comes back to `return_to`
    (a URL name, reversed with the view's keyword arguments named in `return_kwargs`) and
    submits again. A role that may never do `action` is refused first (403), without the detour."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @functools.wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            require(request.user, action)
            if request.method == "POST" and not recently_authenticated(request):
                messages.info(request, _("重要な操作のため、確認コードをもう一度入力してください。"))
                target = reverse(return_to, kwargs={name: kwargs[name] for name in return_kwargs})
                return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': target})}")
            return view(request, *args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorator


@sensitive_post_parameters("otp_token")
@never_cache
@require_http_methods(["GET", "POST"])
def reauth_view(request: HttpRequest) -> HttpResponse:
    next_url = safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = EnrolForm(request.POST or None)
    error = ""
    if request.method == "POST" and form.is_valid():
        assert isinstance(request.user, User)
        result, factor = services.check_second_factor(user=request.user, code=form.cleaned_data["otp_token"])
        if result is services.CodeResult.OK and factor == "totp":
            mark_reauthenticated(request)
            record(action=Action.LOGIN, actor=request.user, details={"factor": "totp", "step": "reauth"})
            return HttpResponseRedirect(next_url)
        if result is services.CodeResult.LOCKED:
            services.record_lockout(username=request.user.username, factor="totp")
            error = _(LOCKED)
        else:
            record(
                action=Action.LOGIN_FAILED,
                actor=request.user,
                outcome=Outcome.FAILED,
                details={"step": "reauth"},
            )
            error = _("確認コードが正しくありません。")
    return render(request, "accounts/reauth.html", {"form": form, "error": error, "next": next_url})


class PasswordChangeView(auth_views.PasswordChangeView):
    """A password change keeps this session and ends every other one of the user (R-12)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:password_changed")

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        current = self.request.session.session_key or ""
        others = list(
            UserSession.objects.filter(user=user)
            .exclude(session_key=current)
            .values_list("session_key", flat=True)
        )
        for key in others:
            end_session(key)
        record(
            action=Action.SETTINGS_CHANGE,
            actor=user,
            object_type="user",
            object_id=user.pk,
            details={"fields": ["password"], "change": "changed", "sessions_ended": len(others)},
        )
        return response


# --- password reset: Django's views, one hour, never a login (R-09) -------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form: Any) -> HttpResponse:
        # The link names our configured site, never the Host header of the request (T-SEC-06).
        from urllib.parse import urlsplit

        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())


@method_decorator(sensitive_post_parameters("new_password1", "new_password2"), name="dispatch")
class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    post_reset_login = False  # the second factor is still asked at the next login

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        user = form.user
        end_all_sessions([user.pk])
        record(
            action=Action.SETTINGS_CHANGE,
            actor=user,
            object_type="user",
            object_id=user.pk,
            details={"fields": ["password"], "change": "reset"},
        )
        return response


# --- account management ------------------------------------------------------------------------


def _require_account_screens(request: HttpRequest) -> None:
    require(request.user, "accounts")


def _managed_user(request: HttpRequest, pk: int) -> User:
    # Someone outside the actor's reach answers 404, like any other record (T-SEC-01).
    return get_object_or_404(services.managed_users(request.user), pk=pk)


@never_cache
def user_list(request: HttpRequest) -> HttpResponse:
    _require_account_screens(request)
    users = list(services.managed_users(request.user))
    locked = {user.pk for user in users if services.is_locked(user)}
    contractors = services.managed_organisations(request.user).filter(kind=Organisation.Kind.CONTRACTOR)
    context = {
        "users": users,
        "locked": locked,
        "is_manager": request.user.role == Role.WARD_MANAGER,  # type: ignore[union-attr]
        "contractors": contractors,
        "role_choices": Role.choices,
    }
    return render(request, "accounts/user_list.html", context)


@sensitive_post_parameters()
@never_cache
@require_http_methods(["GET", "POST"])
@reauth_required("accounts:user_new", action="manage")
def user_new(request: HttpRequest) -> HttpResponse:
    _require_account_screens(request)
    if request.user.role != Role.WARD_MANAGER:  # type: ignore[union-attr]
        raise PermissionDenied
    form = UserCreateForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.create_user(
                actor=request.user,
                username=data["username"],
                display_name=data["display_name"],
                organisation=data["organisation"],
                role=data["role"],
                programs=list(data["programs"]),
                valid_from=data["valid_from"],
                valid_until=data["valid_until"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "accounts/user_created.html", {"new_user": user, "password": password})
    return render(request, "accounts/user_new.html", {"form": form})


@require_POST
@reauth_required("accounts:users", action="accounts")
def user_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    _require_account_screens(request)
    user = _managed_user(request, pk)
    actor = request.user
    try:
        if action == "unlock":
            services.unlock(actor=actor, user=user)
            messages.success(request, _("ロックを解除しました。"))
        elif action == "disable":
            services.set_active(actor=actor, user=user, active=False)
            messages.success(request, _("利用を停止しました。ログイン中の画面も終了しました。"))
        elif action == "enable":
            services.set_active(actor=actor, user=user, active=True)
            messages.success(request, _("利用を再開しました。"))
        elif action == "reset-2fa":
            services.reset_second_factor(actor=actor, user=user)
            messages.success(request, _("二要素認証を初期化しました。次回ログイン時に再登録が必要です。"))
        elif action == "role":
            form = RoleForm(request.POST)
            if form.is_valid():
                services.change_role(actor=actor, user=user, role=form.cleaned_data["role"])
                messages.success(request, _("役割を変更しました。"))
        else:
            return redirect("accounts:users")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("accounts:users")


@require_POST
@reauth_required("accounts:users", action="manage")
def user_review(request: HttpRequest) -> HttpResponse:
    """The account review list (R-08, T-OP-05): every account the manager oversees, its role,
    organisation, status, roster dates and last login, as CSV (UTF-8 with BOM, for Excel)."""
    from django.utils import timezone

    from madoguchi.core.downloads import csv_attachment

    users = list(services.managed_users(request.user))
    enrolled = set(
        services.TOTPDevice.objects.filter(user__in=users, confirmed=True).values_list("user_id", flat=True)
    )
    header = [
        "ユーザー名",
        "表示名",
        "組織",
        "役割",
        "状態",
        "利用開始日",
        "利用終了日",
        "最終ログイン",
        "二要素認証",
    ]
    rows = []
    for user in users:
        assert user.organisation is not None
        status = (
            "停止中"
            if not user.is_active
            else "組織ごと停止中"
            if user.organisation.access_suspended
            else "利用中"
        )
        last = timezone.localtime(user.last_login).strftime("%Y-%m-%d %H:%M") if user.last_login else ""
        row = [
            user.username,
            user.display_name,
            user.organisation.name,
            str(user.get_role_display()),
            status,
            user.valid_from.isoformat() if user.valid_from else "",
            user.valid_until.isoformat() if user.valid_until else "",
            last,
            "登録済み" if user.pk in enrolled else "未登録",
        ]
        rows.append(row)
    record(action=Action.EXPORT, actor=request.user, object_type="user_review", details={"count": len(users)})
    stamp = timezone.localdate().strftime("%Y%m%d")
    return csv_attachment(f"accounts-review-{stamp}.csv", header, rows)


@require_POST
@reauth_required("accounts:users", action="manage")
def contractor_access(request: HttpRequest) -> HttpResponse:
    """The kill switch: suspend or restore every contractor account of the manager's programs."""
    _require_account_screens(request)
    suspend = request.POST.get("suspend") == "1"
    result = services.set_contractor_access(actor=request.user, suspended=suspend)
    if suspend:
        messages.warning(
            request,
            _("委託先の全アカウントを停止しました（%(sessions)d 件のログインを終了）。")
            % {"sessions": result.sessions_ended},
        )
    else:
        messages.success(request, _("委託先のアカウントの利用を再開しました。"))
    return redirect("accounts:users")


@never_cache
@require_http_methods(["GET", "POST"])
@reauth_required("accounts:allowlist", action="manage")
def allowlist_view(request: HttpRequest) -> HttpResponse:
    require(request.user, "manage")
    form = NetworkForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.add_allowed_network(
                actor=request.user,
                organisation=form.cleaned_data["organisation"],
                network=form.cleaned_data["network"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("network", message)
        else:
            messages.success(request, _("許可アドレスを追加しました。"))
            return redirect("accounts:allowlist")
    organisations = services.managed_organisations(request.user).prefetch_related("allowed_networks")
    return render(
        request,
        "accounts/allowlist.html",
        {"form": form, "organisations": organisations, "current_address": current_client_ip()},
    )


@require_POST
@reauth_required("accounts:allowlist", action="manage")
def allowlist_remove(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "manage")
    entry = get_object_or_404(
        AllowedNetwork.objects.filter(organisation__in=services.managed_organisations(request.user)), pk=pk
    )
    try:
        services.remove_allowed_network(actor=request.user, entry=entry, current_address=current_client_ip())
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("許可アドレスを削除しました。"))
    return redirect("accounts:allowlist")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF refusals get the same Japanese 403 page as any other (CSRF_FAILURE_VIEW)."""
    return render(request, "403.html", {"request_id": getattr(request, "request_id", "")}, status=403)
