"""The report screen and its downloads (XLSX, PDF, CSV). Thin: the figures are `selectors`."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.views.decorators.http import require_GET, require_POST

from madoguchi.core.replica import use_replica
from madoguchi.programs.models import Program
from madoguchi.reports import formats, services
from madoguchi.reports.forms import DownloadForm, ReportForm
from madoguchi.reports.selectors import Report
from madoguchi.reports.tables import report_tables


def _programs(request: HttpRequest) -> list[Program]:
    if not services.may_read_reports(request.user):
        raise PermissionDenied
    return list(services.report_programs(request.user))


def _program(programs: list[Program], code: str) -> Program:
    """Another program's report answers 404, as any record outside the user's programs."""
    for program in programs:
        if program.code == code:
            return program
    raise Http404


def _page(
    request: HttpRequest,
    form: ReportForm,
    report: Report | None,
    *,
    refusal: formats.Cp932Refused | None = None,
    status: int = 200,
) -> HttpResponse:
    tables = [table for table in report_tables(report) if table.summary] if report else []
    return render(
        request,
        "reports/report.html",
        {
            "form": form,
            "report": report,
            "tables": tables,
            "refusal": refusal,
            "query": request.GET.urlencode() if request.method == "GET" else "",
        },
        status=status,
    )


def _known_program(data: QueryDict, programs: list[Program]) -> None:
    code = data.get("program")
    if code:
        _program(programs, code)


@login_required
@require_GET
@use_replica()  # reports count closed days: a few seconds of lag change nothing
def index(request: HttpRequest) -> HttpResponse:
    programs = _programs(request)
    _known_program(request.GET, programs)
    form = ReportForm(request.GET or None, programs=programs)
    if not form.is_bound or not form.is_valid():
        return _page(request, form, None, status=400 if form.is_bound else 200)
    report = services.report_for(request.user, _program(programs, form.cleaned_data["program"]), *form.period)
    services.record_report_access(actor=request.user, report=report)
    return _page(request, form, report)


@login_required
@require_POST
@use_replica()  # a POST that only reads (and audits): it does not pin the user to the primary
def download(request: HttpRequest) -> HttpResponse:
    programs = _programs(request)
    _known_program(request.POST, programs)
    form = DownloadForm(request.POST, programs=programs)
    if not form.is_valid():
        return _page(request, form, None, status=400)
    report = services.report_for(request.user, _program(programs, form.cleaned_data["program"]), *form.period)
    fmt = form.cleaned_data["format"]
    encoding = form.cleaned_data.get("encoding") or "utf-8"
    try:
        data = formats.render(report, fmt, encoding)
    except formats.Cp932Refused as refused:
        return _page(request, form, report, refusal=refused, status=400)
    services.record_report_access(
        actor=request.user, report=report, fmt=fmt, encoding=encoding if fmt == "csv" else ""
    )
    content_type = formats.CONTENT_TYPES[fmt]
    if fmt == "csv":
        content_type += "; charset=" + ("shift_jis" if encoding == "cp932" else "utf-8")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{formats.file_name(report, fmt)}"'
    response["Cache-Control"] = "no-store"
    return response
