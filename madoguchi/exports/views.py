"""The ward manager's export screen: POST only for the file, after re-authentication (R-14)."""

from __future__ import annotations

import dataclasses
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from madoguchi.accounts.sessions import recently_authenticated
from madoguchi.accounts.views import reauth_required
from madoguchi.cases import selectors as case_selectors
from madoguchi.cases.selectors import CaseFilter
from madoguchi.core.replica import use_replica
from madoguchi.core.request_context import current_client_ip, current_request_id
from madoguchi.exports import services
from madoguchi.exports.forms import ExportForm
from madoguchi.programs.models import Program


def filters_from(data: dict[str, Any]) -> CaseFilter:
    """The case list's filters from the form's cleaned data ("mine" has no meaning here)."""
    values = {f.name: data.get(f.name) for f in dataclasses.fields(CaseFilter) if f.name != "mine"}
    defaults = CaseFilter()
    return CaseFilter(
        **{name: getattr(defaults, name) if value is None else value for name, value in values.items()}
    )


def _page(request: HttpRequest, form: ExportForm, programs: list[Program], status: int = 200) -> HttpResponse:
    program_ids = [program.pk for program in programs]
    return render(
        request,
        "exports/export.html",
        {
            "form": form,
            "categories": case_selectors.categories_for(program_ids),
            "assignees": list(case_selectors.assignees_for(request.user)),
            "reauth_needed": not recently_authenticated(request),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
@reauth_required("exports:index", action="export")  # type: ignore[arg-type]  # a streamed file
# Innermost, so the re-authentication check reads the session where it always does. The rows
# are read on the replica as they stream; the audit events and the ledger entry are written on
# the primary, and the export's POST does not pin the user to it.
@use_replica()
def index(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    programs = list(services.exportable_programs(request.user))
    if request.method == "GET":
        return _page(request, ExportForm(programs=programs), programs)
    code = request.POST.get("program", "")
    program = next((p for p in programs if p.code == code), None)
    if code and program is None:
        raise Http404
    form = ExportForm(request.POST, programs=programs)
    if program is None or not form.is_valid():
        return _page(request, form, programs, status=400)
    export = services.ExportRequest(
        program=program,
        actor=request.user,
        filters=filters_from(form.cleaned_data),
        columns=list(form.cleaned_data["columns"]),
        fmt=form.cleaned_data["format"],
        purpose=form.cleaned_data["purpose"],
        client_ip=current_client_ip(),
        request_id=current_request_id(),
    )
    try:
        services.start_export(export)
    except services.ExportRefused as refused:
        form.add_error(None, refused.message)
        return _page(request, form, programs, status=400)
    content_type = "text/csv; charset=utf-8" if export.fmt == "csv" else services.XLSX_TYPE
    response = StreamingHttpResponse(services.stream(export), content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{export.file_name}"'
    response["Cache-Control"] = "no-store"
    return response
