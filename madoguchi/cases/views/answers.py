"""Standard answers (回答例): the operator's search, the list, the ward's editor."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.cases import selectors, services
from madoguchi.cases.forms import (
    AnswerSearchForm,
    StandardAnswerForm,
)
from madoguchi.cases.models import (
    StandardAnswer,
)
from madoguchi.programs.scoping import can, programs_for, require, restrict

# --- standard answers -----------------------------------------------------------------------------


@login_required
@require_POST
def answer_search(request: HttpRequest, code: str) -> HttpResponse:
    """Fragment: the program's standard answers (POST, so the typed text stays out of URLs)."""
    require(request.user, "view")
    program = get_object_or_404(programs_for(request.user, "view"), code=code)
    form = AnswerSearchForm(request.POST)
    form.is_valid()
    answers = selectors.standard_answers(
        request.user,
        program_id=program.pk,
        category_id=form.cleaned_data.get("category"),
        text=form.cleaned_data.get("q") or "",
    )
    return render(request, "cases/_answers.html", {"answers": answers})


@login_required
@require_GET
def standard_answer_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "view")
    rows = (
        restrict(StandardAnswer.objects.filter(is_current=True), request.user)
        .select_related("category", "program", "approved_by")
        .order_by("program", "category__order", "title")
    )
    return render(
        request,
        "cases/standard_answers.html",
        {
            "rows": list(rows[:500]),
            "can_manage": can(request.user, "answer"),
            "programs": programs_for(request.user, "answer"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def standard_answer_edit(request: HttpRequest, code: str, key: UUID | None = None) -> HttpResponse:
    require(request.user, "answer")
    program = get_object_or_404(programs_for(request.user, "answer"), code=code)
    previous = None
    versions: list[StandardAnswer] = []
    if key is not None:
        previous = get_object_or_404(StandardAnswer, program=program, key=key, is_current=True)
        versions = list(
            StandardAnswer.objects.filter(key=key).select_related("approved_by").order_by("-version")
        )
    form = StandardAnswerForm(
        request.POST or None, instance=None, program=program, initial=_answer_initial(previous)
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.save_standard_answer(
                program=program,
                actor=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                category=form.cleaned_data["category"],
                is_active=form.cleaned_data["is_active"],
                previous=previous,
            )
        except services.CaseError as error:
            form.add_error(None, error.message)
        except ValidationError as error:
            form.add_error(None, list(error.messages))
        else:
            messages.success(request, _("回答例を保存しました。"))
            return redirect("cases:standard_answers")
    return render(
        request,
        "cases/standard_answer_edit.html",
        {"form": form, "program": program, "previous": previous, "versions": versions},
    )


def _answer_initial(previous: StandardAnswer | None) -> dict[str, Any]:
    if previous is None:
        return {"is_active": True}
    return {
        "category": previous.category_id,
        "title": previous.title,
        "body": previous.body,
        "is_active": previous.is_active,
    }
