"""The ward manager's (and the auditor's) screens of a program's end: return, erasure, certificate.

Every POST needs a recent second factor (R-14): when the login is older than five minutes the
user confirms a code again and comes back to the program's page to submit once more.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from madoguchi.accounts.sessions import recently_authenticated
from madoguchi.audit.services import Action, record
from madoguchi.lifecycle import services
from madoguchi.lifecycle.forms import RequestPurgeForm
from madoguchi.lifecycle.models import ErasureState, ProgramErasure, ReturnExport
from madoguchi.lifecycle.returning import return_export
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import require, ward_program_or_404, ward_programs


def _program(request: HttpRequest, code: str) -> Program:
    return ward_program_or_404(request.user, "audit", code)


def _reauth(request: HttpRequest, program: Program) -> HttpResponse | None:
    if recently_authenticated(request):
        return None
    messages.info(request, _("重要な操作のため、確認コードをもう一度入力してください。"))
    target = reverse("lifecycle:program", args=[program.code])
    return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': target})}")


@login_required
@never_cache
def program_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    programs = ward_programs(request.user, "audit").order_by("code")
    erasures = {e.program_id: e for e in ProgramErasure.objects.filter(program__in=programs)}
    rows = [{"program": program, "erasure": erasures.get(program.pk)} for program in programs]
    return render(request, "lifecycle/program_list.html", {"rows": rows})


@login_required
@never_cache
@require_http_methods(["GET"])
def program_page(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    return _page(request, program, RequestPurgeForm())


def _page(request: HttpRequest, program: Program, form: RequestPurgeForm, status: int = 200) -> HttpResponse:
    erasure = services.erasure_of(program)
    user = request.user
    is_manager = services._is_ward_manager_of(user, program)
    can_purge = (
        is_manager and erasure is not None and erasure.state in (ErasureState.APPROVED, ErasureState.ERASING)
    )
    context = {
        "program": program,
        "erasure": erasure,
        "returns": ReturnExport.objects.filter(program=program).select_related("actor")[:20],
        "form": form,
        "is_manager": is_manager,
        "recording_open": program.is_recording_open(),
        "can_request": is_manager and (erasure is None or erasure.state == ErasureState.REQUESTED),
        "can_approve": erasure is not None
        and erasure.state == ErasureState.REQUESTED
        and erasure.requested_by_id != user.pk
        and services._may_approve(user, program),
        "can_purge": can_purge,
        "purge_by_command": services.purge_by_command_notice(program) if can_purge else "",
        "can_return": is_manager and (erasure is None or not erasure.is_under_way),
        "states": ErasureState,
    }
    return render(request, "lifecycle/program.html", context, status=status)


def _refused(request: HttpRequest, program: Program, refused: services.LifecycleRefused) -> HttpResponse:
    messages.error(request, refused.message)
    return redirect("lifecycle:program", code=program.code)


@login_required
@require_POST
def return_download(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    detour = _reauth(request, program)
    if detour:
        return detour
    with tempfile.TemporaryDirectory(prefix="madoguchi-return-") as folder:
        try:
            result = return_export(program=program, actor=request.user, out_dir=Path(folder), via="screen")
        except services.LifecycleRefused as refused:
            return _refused(request, program, refused)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(Path(folder).iterdir()):
                archive.write(path, f"return-{program.code}/{path.name}")
    response = HttpResponse(buffer.getvalue(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="return-{program.code}.zip"'
    response["X-Manifest-SHA256"] = result.manifest_sha256
    return response


def _two_person_step(
    request: HttpRequest,
    code: str,
    act: Callable[[Program], object],
    done: str,
    form: RequestPurgeForm | None = None,
) -> HttpResponse:
    """Request, approval and run of an erasure share one shape: re-authenticate, check the
    form if there is one, act, say so."""
    program = _program(request, code)
    detour = _reauth(request, program)
    if detour:
        return detour
    if form is not None and not form.is_valid():
        return _page(request, program, form, status=400)
    try:
        act(program)
    except services.LifecycleRefused as refused:
        return _refused(request, program, refused)
    messages.success(request, done)
    return redirect("lifecycle:program", code=program.code)


@login_required
@require_POST
def request_purge(request: HttpRequest, code: str) -> HttpResponse:
    form = RequestPurgeForm(request.POST)
    return _two_person_step(
        request,
        code,
        lambda program: services.request_purge(
            program=program,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            waive_return=form.cleaned_data["waive_return"],
            via="screen",
        ),
        _("消去を依頼しました。別の区管理者または監査担当者の承認を待っています。"),
        form,
    )


@login_required
@require_POST
def approve_purge(request: HttpRequest, code: str) -> HttpResponse:
    return _two_person_step(
        request,
        code,
        lambda program: services.approve_purge(program=program, actor=request.user, via="screen"),
        _("消去を承認しました。"),
    )


@login_required
@require_POST
def run_purge(request: HttpRequest, code: str) -> HttpResponse:
    return _two_person_step(
        request,
        code,
        lambda program: services.purge_from_screen(program=program, actor=request.user),
        _("消去を実行し、消去証明書を発行しました。"),
    )


@login_required
@never_cache
def certificate(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    erasure = services.erasure_of(program)
    if erasure is None or erasure.state != ErasureState.ERASED or not erasure.certificate_pdf:
        raise Http404
    record(
        action=Action.EXPORT,
        actor=request.user,
        program_id=program.pk,
        object_type="erasure_certificate",
        object_id=program.code,
        details={"via": "screen", "certificate_sha256": erasure.certificate_sha256},
    )
    response = HttpResponse(bytes(erasure.certificate_pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="erasure-certificate-{program.code}.pdf"'
    return response
