"""The target-list import screen for ward staff: upload → preview → confirm → result.

Only roles that may import reach these views (403 otherwise); a program the user does not work
on answers 404. The preview shows counts, row numbers, column names and reasons, never a value
from the file. Confirm re-reads the server-side upload named by a session token and checks it
again from scratch: nothing the browser sends back is trusted.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from madoguchi.accounts.views import reauth_required
from madoguchi.programs.models import Program
from madoguchi.programs.recording import RecordingClosed
from madoguchi.programs.scoping import require
from madoguchi.registry import selectors, uploads
from madoguchi.registry.forms import TokenForm, UploadForm
from madoguchi.registry.importing.fields import COLUMN_BY_NAME
from madoguchi.registry.services import ImportReport, StaleListError, import_target_list, record_refused


def _program(request: HttpRequest, code: str) -> Program:
    require(request.user, "import")
    return get_object_or_404(selectors.import_programs(request.user), code=code)


@login_required
@require_GET
def imports(request: HttpRequest) -> HttpResponse:
    require(request.user, "import")
    programs = list(selectors.import_programs(request.user))
    if len(programs) == 1:
        return redirect("registry:program_imports", code=programs[0].code)
    return render(request, "registry/imports.html", {"programs": programs})


@login_required
@require_GET
def program_imports(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    return render(
        request,
        "registry/program_imports.html",
        {"program": program, "form": UploadForm(), "imports": selectors.imports_of(program)[:100]},
    )


def _droppable(report: ImportReport) -> list[str]:
    """Columns refused in the header that may be left out (not the required ones)."""
    names = []
    for problem in report.problems:
        column = COLUMN_BY_NAME.get(problem.column)
        if problem.row == 1 and problem.column and not (column and column.required):
            names.append(problem.column)
    return names


def _preview(request: HttpRequest, program: Program, stored: uploads.StoredUpload) -> HttpResponse:
    report = import_target_list(
        program=program,
        path=stored.path,
        file_name=stored.file_name,
        user=request.user,
        drop_columns=stored.drop_columns,
        dry_run=True,
    )
    droppable = _droppable(report)
    if report.refused:
        # A refused file is logged like any import attempt; it stays available for a re-check
        # with columns dropped, and is swept with the other uploads otherwise.
        record_refused(report=report, program=program, user=request.user)
        if not droppable:
            uploads.discard(request.session, stored.token)
    form = TokenForm(initial={"token": stored.token}, droppable=droppable)
    return render(
        request,
        "registry/preview.html",
        {"program": program, "report": report, "token": stored.token, "form": form, "droppable": droppable},
    )


@login_required
@require_POST
@reauth_required("registry:program_imports", action="import", return_kwargs=("code",))
def upload(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return render(
            request,
            "registry/program_imports.html",
            {"program": program, "form": form, "imports": selectors.imports_of(program)[:100]},
            status=400,
        )
    stored = uploads.store(request.session, form.cleaned_data["file"], program.pk)
    return _preview(request, program, stored)


def _stored(request: HttpRequest, program: Program) -> uploads.StoredUpload | None:
    token = request.POST.get("token", "")
    stored = uploads.find(request.session, token) if token else None
    if stored is None or stored.program_id != program.pk:
        messages.error(request, _("確認したファイルが見つかりません。もう一度アップロードしてください。"))
        return None
    return stored


@login_required
@require_POST
def recheck(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    stored = _stored(request, program)
    if stored is None:
        return redirect("registry:program_imports", code=program.code)
    stored.drop_columns = sorted(set(request.POST.getlist("drop_columns")) - {""})
    uploads.save(request.session, stored)
    return _preview(request, program, stored)


@login_required
@require_POST
@reauth_required("registry:program_imports", action="import", return_kwargs=("code",))
def confirm(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    stored = _stored(request, program)
    if stored is None:
        return redirect("registry:program_imports", code=program.code)
    try:
        report = import_target_list(
            program=program,
            path=stored.path,
            file_name=stored.file_name,
            user=request.user,
            drop_columns=stored.drop_columns,
        )
    except (StaleListError, RecordingClosed) as error:
        messages.error(request, str(error))
        return redirect("registry:program_imports", code=program.code)
    finally:
        uploads.discard(request.session, stored.token)
    target_import = report.target_import
    if report.refused:
        messages.error(request, _("問題があるため取り込みませんでした。"))
    elif target_import is not None and target_import.version:
        messages.success(
            request, _("第%(version)d版として取り込みました。") % {"version": target_import.version}
        )
    else:
        messages.info(request, _("現在の一覧と同じ内容でした。何も変更していません。"))
    if target_import is None:
        return redirect("registry:program_imports", code=program.code)
    return redirect("registry:import_detail", code=program.code, pk=target_import.pk)


@login_required
@require_POST
def cancel(request: HttpRequest, code: str) -> HttpResponse:
    program = _program(request, code)
    token = request.POST.get("token", "")
    if token:
        uploads.discard(request.session, token)
    messages.info(request, _("取込を取り消しました。何も変更していません。"))
    return redirect("registry:program_imports", code=program.code)


@login_required
@require_GET
def import_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    program = _program(request, code)
    target_import = get_object_or_404(selectors.imports_of(program), pk=pk)
    changes = target_import.changes.values_list("kind", "fields")
    columns: dict[str, int] = {}
    for kind, fields in changes:
        if kind == "changed":
            for name in fields:
                columns[name] = columns.get(name, 0) + 1
    return render(
        request,
        "registry/import_detail.html",
        {
            "program": program,
            "target_import": target_import,
            "changed_columns": sorted(columns.items(), key=lambda item: -item[1]),
        },
    )
