"""The case list, its search, and the queues."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import rows_html, selectors
from madoguchi.cases.forms import (
    FilterForm,
    SearchForm,
)
from madoguchi.cases.models import (
    SavedSearch,
    Status,
)
from madoguchi.cases.views._common import (
    _uid,
)
from madoguchi.programs.scoping import program_ids, require

# --- lists, search and queues ---------------------------------------------------------------------


def _filters_from(data: dict[str, Any]) -> selectors.CaseFilter:
    return selectors.CaseFilter(
        status=data.get("status") or "",
        category=data.get("category"),
        channel=data.get("channel") or "",
        date_from=data.get("date_from"),
        date_to=data.get("date_to"),
        assignee=data.get("assignee"),
        escalated=bool(data.get("escalated")),
        overdue=bool(data.get("overdue")),
        mine=bool(data.get("mine")),
        open=bool(data.get("open")),
        answered_from=data.get("answered_from"),
        callback=data.get("callback") or "",
        text=data.get("text") or "",
    )


@login_required
@require_http_methods(["GET", "POST"])
def case_list(request: HttpRequest) -> HttpResponse:
    """Filters travel in the URL; free text never does: a POST stores it as a saved search and
    the list is then addressed by the saved search's opaque id."""
    require(request.user, "view")
    if request.method == "POST":
        form: FilterForm = SearchForm(request.POST)
        if form.is_valid():
            params = {
                key: value for key, value in form.cleaned_data.items() if value not in (None, "", False)
            }
            for key in ("date_from", "date_to"):
                if key in params:
                    params[key] = params[key].isoformat()
            saved = SavedSearch.objects.create(user_id=_uid(request), params=params)
            return redirect(f"{request.path}?search={saved.public_id}")
        filters = selectors.CaseFilter()
    else:
        saved_params: dict[str, Any] = {}
        search_id = request.GET.get("search", "")
        if search_id:
            try:
                saved_row = SavedSearch.objects.filter(
                    user_id=_uid(request), public_id=UUID(search_id)
                ).first()
            except ValueError:
                saved_row = None
            if saved_row is None:
                raise Http404
            saved_params = saved_row.params
        form = SearchForm({**request.GET.dict(), **saved_params})
        filters = _filters_from(form.cleaned_data) if form.is_valid() else selectors.CaseFilter()
    page = selectors.case_page(request.user, filters, request.GET.get("after", ""))
    # A form whose field failed has no cleaned value for it: no option is then selected.
    chosen: dict[str, Any] = getattr(form, "cleaned_data", {})
    record(
        action=Action.SEARCH if filters.text else Action.VIEW,
        actor=request.user,
        object_type="case_list",
        details={"count": len(page.cases), "text_search": bool(filters.text)},
    )
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "page": page,
            "rows": rows_html.list_rows(page.cases),
            "category_options": rows_html.category_options(
                selectors.categories_for(program_ids(request.user)), chosen.get("category")
            ),
            "assignee_options": rows_html.assignee_options(
                selectors.assignee_choices(request.user), chosen.get("assignee")
            ),
            "search_id": request.GET.get("search", ""),
            "query_without_cursor": _query_without_cursor(request),
        },
    )


def _query_without_cursor(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("after", None)
    return query.urlencode()


@login_required
@require_GET
def case_queue(request: HttpRequest, status: str) -> HttpResponse:
    require(request.user, "view")
    if status not in (
        Status.ESCALATED,
        Status.CALLBACK,
        Status.WARD_ANSWERED,
        Status.NEW,
        Status.IN_PROGRESS,
    ):
        raise Http404
    rows = selectors.queue(request.user, status)
    counts = selectors.waiting_counts(request.user)
    record(
        action=Action.VIEW,
        actor=request.user,
        object_type="case_queue",
        details={"status": status, "count": len(rows)},
    )
    return render(
        request,
        "cases/queue.html",
        {
            "rows": rows,
            "rows_html": "" if status == Status.CALLBACK else rows_html.queue_rows(rows, status),
            "status": Status(status),
            "counts": {name: counts.label(name) for name in ("escalated", "overdue", "callback", "new")},
        },
    )


@login_required
@require_GET
def web_queue(request: HttpRequest) -> HttpResponse:
    """未対応のフォーム受付: web inquiries nobody has started on, oldest first."""
    require(request.user, "edit")
    rows = selectors.web_queue(request.user)
    record(
        action=Action.VIEW,
        actor=request.user,
        object_type="case_queue",
        details={"status": "web", "count": len(rows)},
    )
    return render(request, "cases/web_queue.html", {"rows": rows})
