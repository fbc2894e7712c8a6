"""The ward manager's program settings: the correction window and the categories."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.cases import program_settings, selectors, services
from madoguchi.cases.forms import (
    CategoryNameForm,
    CorrectionWindowForm,
)
from madoguchi.cases.models import (
    Category,
)
from madoguchi.core.forms import add_service_errors
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import require, ward_program_or_404, ward_programs

# --- the ward manager's program settings: correction window and categories ----------------------------


def _managed_program(request: HttpRequest, code: str) -> Program:
    """403 for a role that never manages; 404 for a program the manager does not run."""
    return ward_program_or_404(request.user, "manage", code)


@login_required
@require_http_methods(["GET", "POST"])
def correction_window(request: HttpRequest, code: str) -> HttpResponse:
    program = _managed_program(request, code)
    form = CorrectionWindowForm(request.POST or None, initial={"until": program.correction_allowed_until})
    if request.method == "POST" and form.is_valid():
        try:
            program_settings.allow_correction(
                program=program,
                actor=request.user,
                until=form.cleaned_data["until"],
                reason=form.cleaned_data["reason"],
                via="screen",
            )
        except services.CaseError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("訂正期間を更新しました。"))
            return redirect("cases:correction_window", program.code)
    return render(
        request,
        "cases/correction_window.html",
        {"form": form, "program": program},
        status=400 if form.errors else 200,
    )


@login_required
@require_GET
def category_index(request: HttpRequest) -> HttpResponse:
    """The navigation's entry: the one managed program's list, or a choice of programs."""
    require(request.user, "manage")
    programs = list(ward_programs(request.user, "manage"))
    if len(programs) == 1:
        return redirect("cases:categories", programs[0].code)
    return render(request, "cases/category_programs.html", {"programs": programs})


def _category_page(
    request: HttpRequest, program: Program, form: CategoryNameForm | None = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "cases/categories.html",
        {
            "program": program,
            "categories": selectors.categories_for_settings(program),
            "form": form or CategoryNameForm(),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest, code: str) -> HttpResponse:
    """The program's categories; a POST adds one."""
    program = _managed_program(request, code)
    if request.method == "GET":
        return _category_page(request, program)
    form = CategoryNameForm(request.POST)
    if form.is_valid():
        try:
            category = program_settings.add_category(
                program=program, actor=request.user, name=form.cleaned_data["name"]
            )
        except services.CaseError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("分類「%(name)s」を追加しました。") % {"name": category.name})
            return redirect("cases:categories", program.code)
    return _category_page(request, program, form, status=400)


def _managed_category(request: HttpRequest, code: str, pk: int) -> Category:
    program = _managed_program(request, code)
    return get_object_or_404(Category.objects.select_related("program"), program=program, pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def category_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """Rename a category."""
    category = _managed_category(request, code, pk)
    form = CategoryNameForm(request.POST or None, initial={"name": category.name})
    if request.method == "POST" and form.is_valid():
        try:
            program_settings.rename_category(
                category=category, actor=request.user, name=form.cleaned_data["name"]
            )
        except services.CaseError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("分類名を「%(name)s」に変更しました。") % {"name": category.name})
            return redirect("cases:categories", code)
    return render(
        request,
        "cases/category_edit.html",
        {"form": form, "category": category, "program": category.program},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def category_move(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    category = _managed_category(request, code, pk)
    offset = {"up": -1, "down": 1}.get(request.POST.get("direction", ""))
    if offset is None:
        raise PermissionDenied
    try:
        program_settings.move_category(category=category, actor=request.user, offset=offset)
    except services.CaseError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("分類「%(name)s」の表示順を変更しました。") % {"name": category.name})
    return redirect("cases:categories", code)


@login_required
@require_POST
def category_active(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    category = _managed_category(request, code, pk)
    active = request.POST.get("active")
    if active not in ("0", "1"):
        raise PermissionDenied
    try:
        program_settings.set_category_active(category=category, actor=request.user, active=active == "1")
    except services.CaseError as error:
        messages.error(request, error.message)
    else:
        done = (
            _("分類「%(name)s」を有効にしました。")
            if active == "1"
            else _("分類「%(name)s」を無効にしました。")
        )
        messages.success(request, done % {"name": category.name})
    return redirect("cases:categories", code)
