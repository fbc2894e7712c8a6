"""The 情報管理台帳 screen and its CSV: the ward manager and the auditor of the program's ward.

Another role answers 403 (it never reads a register); a program of another ward answers 404
(its existence is not revealed). Reading the register and downloading it are audited.
"""

from __future__ import annotations

from urllib.parse import urlencode
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.accounts.sessions import recently_authenticated
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.core.downloads import csv_attachment
from madoguchi.core.navigation import NavItem
from madoguchi.core.navigation import url as nav_url
from madoguchi.ledger import disclosure as disclosure_service
from madoguchi.ledger.models import LedgerEntry
from madoguchi.ledger.selectors import ledger_for
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, require, ward_program_or_404, ward_programs
from madoguchi.registry.models import Household

PAGE_SIZE = 100

CSV_HEADER = [
    "日時",
    "種別",
    "事業コード",
    "対象",
    "目的",
    "件数",
    "ファイル名",
    "SHA-256",
    "実施者（ID）",
    "実施者",
    "所属",
    "監査ログ番号",
]


def readable_programs(user: object) -> list[Program]:
    """The programs whose register `user` may read: the own ward's, as ward manager or auditor."""
    return list(ward_programs(user, "audit").order_by("code"))


def nav_items(request: HttpRequest) -> list[NavItem]:
    user = getattr(request, "user", None)
    # Most users may not read a register: no query built for them on every page.
    if not can(user, "audit") or not readable_programs(user):
        return []
    return [NavItem(_("情報管理台帳"), nav_url("ledger:index"), order=88)]


def _program(request: HttpRequest, code: str) -> Program:
    """403 for a role that never reads a register; 404 for another ward's program."""
    return ward_program_or_404(request.user, "audit", code)


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    programs = readable_programs(request.user)
    if len(programs) == 1:
        return redirect("ledger:program", code=programs[0].code)
    return render(request, "ledger/index.html", {"programs": programs})


@login_required
@require_GET
def program_ledger(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    page_obj = Paginator(ledger_for(program), PAGE_SIZE).get_page(request.GET.get("page"))
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=program.pk,
        object_type="ledger",
        object_id=program.pk,
        details={"count": len(page_obj.object_list), "page": page_obj.number},
    )
    return render(
        request,
        "ledger/program.html",
        {
            "program": program,
            "page_obj": page_obj,
            "page_range": page_obj.paginator.get_elided_page_range(page_obj.number),
        },
    )


def csv_row(entry: LedgerEntry) -> list[object]:
    return [
        timezone.localtime(entry.at).isoformat(timespec="seconds"),
        entry.get_kind_display(),
        entry.program.code,
        entry.what,
        entry.purpose,
        entry.row_count,
        entry.file_name,
        entry.sha256,
        entry.actor_username,
        entry.actor_name,
        entry.actor_organisation,
        entry.audit_seq,
    ]


@login_required
@require_http_methods(["GET", "POST"])
def program_csv(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    entries = list(ledger_for(program).select_related("program"))
    # Recorded (and committed) before the file leaves.
    with transaction.atomic():
        record(
            action=Action.EXPORT,
            actor=request.user,
            program_id=program.pk,
            object_type="ledger",
            object_id=program.pk,
            details={"count": len(entries), "format": "csv"},
        )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return csv_attachment(f"ledger-{program.code}-{stamp}.csv", CSV_HEADER, (csv_row(e) for e in entries))


# --- disclosure (開示) of one household -----------------------------------------------------------


def _disclosed_household(request: HttpRequest, public_id: UUID) -> Household:
    """The ward manager of the program's own ward only: 403 for other roles, 404 otherwise."""
    require(request.user, "manage")
    programs = ward_programs(request.user, "manage")
    return get_object_or_404(
        Household.objects.select_related("program").filter(program__in=programs), public_id=public_id
    )


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def disclosure(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """GET shows what a disclosure holds; POST (fmt=pdf|csv) makes it, after a fresh code."""
    household = _disclosed_household(request, public_id)
    here = reverse("ledger:disclosure", args=[household.public_id])
    if request.method == "POST":
        if not recently_authenticated(request):
            messages.info(request, _("重要な操作のため、確認コードをもう一度入力してください。"))
            return redirect(f"{reverse('accounts:reauth')}?{urlencode({'next': here})}")
        fmt = request.POST.get("format", "")
        if fmt not in disclosure_service.FORMATS:
            return HttpResponseBadRequest(_("形式を選んでください。"))
        made = disclosure_service.disclose(household=household, actor=request.user, fmt=fmt)
        response = HttpResponse(made.content, content_type=made.content_type)
        response["Content-Disposition"] = f'attachment; filename="{made.file_name}"'
        return response
    holding = disclosure_service.collect(household)
    return render(
        request,
        "ledger/disclosure.html",
        {
            "household": household,
            "program": household.program,
            "case_count": len(holding.cases),
            "entry_count": sum(len(record_.timeline) for record_ in holding.cases),
            "event_count": len(holding.events),
        },
    )
