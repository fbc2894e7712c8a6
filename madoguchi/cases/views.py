"""Case screens: thin views that parse, call a service or selector, and render.

Every case is fetched through `selectors.get_case(user, public_id, action)`, which scopes with
`restrict(...)`: another program's case answers 404 for GET and POST alike. Every view of a
case and every change leaves an audit event.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import program_settings, selectors, services
from madoguchi.cases.forms import (
    AnswerForm,
    AnswerSearchForm,
    AssignForm,
    CaseCreateForm,
    CaseEditForm,
    CategoryNameForm,
    CorrectionForm,
    CorrectionWindowForm,
    EscalateForm,
    FilterForm,
    NoteForm,
    SearchForm,
    StandardAnswerForm,
    TransitionForm,
)
from madoguchi.cases.models import (
    Case,
    Category,
    Notification,
    SavedSearch,
    StandardAnswer,
    Status,
    TimelineEntry,
    Verification,
)
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import can, programs_for, require, restrict
from madoguchi.registry.models import Household

# --- helpers ----------------------------------------------------------------------------------


def _audit_view(request: HttpRequest, case: Case, what: str = "case") -> None:
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=case.program_id,
        object_type="case",
        object_id=str(case.public_id),
        details={"screen": what},
    )


def _uid(request: HttpRequest) -> int:
    return int(request.user.pk or 0)


def _identify_panel_available() -> bool:
    try:
        get_template("identify/_panel.html")
    except TemplateDoesNotExist:
        return False
    return True


def _expected_version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError as exc:
        raise PermissionDenied from exc


def _refusal(request: HttpRequest, case: Case, error: services.CaseError | ValidationError) -> HttpResponse:
    if isinstance(error, services.CaseError):
        messages.error(request, error.message)
    else:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    return redirect("cases:detail", case.public_id)


def _program_for_new(request: HttpRequest, code: str | None) -> Program:
    programs = programs_for(request.user, "edit")
    if code is None:
        only = list(programs[:2])
        if len(only) != 1:
            raise Http404
        return only[0]
    return get_object_or_404(programs, code=code)


# --- the call screen ----------------------------------------------------------------------------


def _identified(request: HttpRequest, program: Program) -> tuple[Household | None, str, list[str], str]:
    """Read the identify panel's hidden inputs and check them again on the server."""
    household = None
    error = ""
    public_id = (request.POST.get("household") or "").strip()
    if public_id:
        try:
            household = (
                restrict(Household.objects.all(), request.user, "identify")
                .filter(program=program, public_id=UUID(public_id))
                .first()
            )
        except ValueError:
            household = None
        if household is None:
            error = _("特定した世帯がこの事業に見つかりません。もう一度特定してください。")
    verification = request.POST.get("verification") or Verification.NOT_VERIFIED
    if verification not in Verification.values:
        verification = Verification.NOT_VERIFIED
    items: list[str] = []
    for value in request.POST.getlist("verified_items"):
        items.extend(part.strip() for part in value.split(",") if part.strip())
    return household, verification, items[:20], error


@login_required
@require_http_methods(["GET", "POST"])
def new(request: HttpRequest, code: str | None = None) -> HttpResponse:
    require(request.user, "edit")
    if code is None:
        programs = list(programs_for(request.user, "edit"))
        if len(programs) > 1:
            return render(request, "cases/choose_program.html", {"programs": programs})
    program = _program_for_new(request, code)
    form = CaseCreateForm(request.POST or None, program=program)
    household_error = ""
    household = None
    if request.method == "POST":
        household, verification, verified_items, household_error = _identified(request, program)
        if form.is_valid() and not household_error:
            data = form.cleaned_data
            try:
                case = _create_from_form(request, program, data, household, verification, verified_items)
            except services.CaseError as error:
                form.add_error(None, error.message)
            except ValidationError as error:
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                messages.success(
                    request, _("受付番号 %(number)s で記録しました。") % {"number": case.receipt_number}
                )
                return redirect("cases:detail", case.public_id)
    return render(
        request,
        "cases/new.html",
        {
            "form": form,
            "program": program,
            "identify_panel": _identify_panel_available(),
            "household_error": household_error,
            "earlier": selectors.earlier_cases(household, request.user) if household else [],
            "recording_open": program.is_recording_open(),
        },
        status=400 if request.method == "POST" else 200,
    )


@transaction.atomic
def _create_from_form(
    request: HttpRequest,
    program: Program,
    data: dict[str, Any],
    household: Household | None,
    verification: str,
    verified_items: list[str],
) -> Case:
    case = services.create_case(
        program=program,
        channel=data["channel"],
        actor=request.user,
        inquiry=data["inquiry"],
        category=data["category"],
        household=household,
        caller=services.CallerDetails(
            name=data["caller_name"],
            kana=data["caller_kana"],
            child_name=data["child_name"],
            child_dob=data["child_dob"],
        ),
        contact_phone=data["contact_phone"],
        contact_email=data["contact_email"],
        response=data["response"],
        verification=verification,
        verified_items=verified_items,
        idempotency_key=data["idempotency_key"] or None,
        caller_relation=data["caller_relation"],
        priority=data["priority"],
    )
    if case.status != Status.NEW:
        return case  # a repeated submission: the first one already did the rest
    then = data["then"]
    if then == "escalate":
        services.escalate(
            case=case, actor=request.user, question=data["question"], expected_version=case.version
        )
    elif then == "closed":
        services.transition(case=case, to=Status.CLOSED, actor=request.user, expected_version=case.version)
    elif then == "callback":
        services.transition(case=case, to=Status.CALLBACK, actor=request.user, expected_version=case.version)
    else:
        services.transition(
            case=case, to=Status.IN_PROGRESS, actor=request.user, expected_version=case.version
        )
    return case


@login_required
@require_GET
def household_cases(request: HttpRequest, household_id: UUID) -> HttpResponse:
    """Fragment for the call screen: the identified household's earlier cases."""
    require(request.user, "identify")
    household = get_object_or_404(
        restrict(Household.objects.all(), request.user, "identify"), public_id=household_id
    )
    earlier = selectors.earlier_cases(household, request.user)
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=household.program_id,
        object_type="household",
        object_id=str(household.public_id),
        details={"screen": "earlier_cases", "count": len(earlier)},
    )
    return render(request, "cases/_earlier.html", {"earlier": earlier})


# --- the case page ------------------------------------------------------------------------------


def _detail_context(request: HttpRequest, case: Case, **extra: Any) -> dict[str, Any]:
    entries = selectors.timeline(case)
    corrected = {entry.corrects_id for entry in entries if entry.corrects_id}
    user: Any = request.user
    return {
        "case": case,
        "entries": entries,
        "corrected_ids": corrected,
        "earlier": selectors.earlier_cases(case, user, exclude=case) if case.household_id else [],
        "edit_form": extra.pop("edit_form", None) or CaseEditForm(instance=case),
        "note_form": NoteForm(),
        "escalate_form": EscalateForm(),
        "answer_form": AnswerForm(),
        "targets": [(to, Status(to).label) for to in services.allowed_targets(case, user)],
        "can_edit": can(user, "edit") and not case.is_closed,
        "can_escalate": services.can_transition(case, Status.ESCALATED, user),
        "can_answer": services.can_transition(case, Status.WARD_ANSWERED, user),
        "overdue": selectors.is_overdue(case),
        "assignees": list(selectors.assignees_for(user)) if can(user, "edit") else [],
        "recording_open": case.program.is_recording_open(),
        **extra,
    }


@login_required
@require_GET
def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id)
    _audit_view(request, case)
    Notification.objects.filter(user_id=_uid(request), case=case, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    return render(request, "cases/detail.html", _detail_context(request, case))


@login_required
@require_POST
def edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    expected = _expected_version(request)
    form = CaseEditForm(request.POST, instance=Case.objects.get(pk=case.pk))
    if not form.is_valid():
        return render(
            request, "cases/detail.html", _detail_context(request, case, edit_form=form), status=400
        )
    try:
        services.update_case(case=case, actor=request.user, expected_version=expected, changes=form.changes())
    except services.VersionConflict as conflict:
        return _conflict(request, case, conflict.current, form)
    except ValidationError as error:
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
        return render(
            request, "cases/detail.html", _detail_context(request, case, edit_form=form), status=400
        )
    except services.CaseError as error:
        return _refusal(request, case, error)
    messages.success(request, _("保存しました。"))
    return redirect("cases:detail", case.public_id)


def _conflict(request: HttpRequest, case: Case, current: Case, form: CaseEditForm) -> HttpResponse:
    """Show what they typed beside what is saved now; nothing either person typed is lost."""
    record(
        action=Action.UPDATE,
        actor=request.user,
        program_id=case.program_id,
        object_type="case",
        object_id=str(case.public_id),
        outcome="failed",
        details={"reason": "version_conflict"},
    )
    rows = []
    for name in CaseEditForm.Meta.fields:
        field = form.fields[name]
        theirs = form.cleaned_data.get(name)
        saved = getattr(current, name)
        rows.append(
            {
                "label": field.label,
                "theirs": "" if theirs is None else theirs,
                "saved": "" if saved is None else saved,
                "changed": (theirs or "") != (saved or ""),
            }
        )
    # Their text, re-bound on the current version: one click saves it over the new state.
    retry = CaseEditForm(request.POST, instance=current)
    retry.is_valid()
    return render(
        request,
        "cases/conflict.html",
        {"case": current, "rows": rows, "retry_form": retry, "current_version": current.version},
        status=409,
    )


@login_required
@require_POST
def note(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = NoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("記録の内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.add_note(
            case=case, actor=request.user, body=form.cleaned_data["body"], kind=form.cleaned_data["kind"]
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def correct(request: HttpRequest, public_id: UUID, entry_id: int) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    entry = get_object_or_404(TimelineEntry, case=case, pk=entry_id)
    form = CorrectionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("訂正内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.correct_entry(entry=entry, actor=request.user, body=form.cleaned_data["body"])
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def transition(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = TransitionForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    try:
        services.transition(
            case=case,
            to=form.cleaned_data["to"],
            actor=request.user,
            note=form.cleaned_data["note"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    messages.success(request, _("状態を「%(status)s」にしました。") % {"status": case.get_status_display()})
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def escalate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "escalate")
    case = selectors.get_case(request.user, public_id, "escalate")
    form = EscalateForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("区への確認内容を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.escalate(
            case=case,
            actor=request.user,
            question=form.cleaned_data["question"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    messages.success(request, _("区へ確認を依頼しました。"))
    return redirect("cases:detail", case.public_id)


@login_required
@require_POST
def answer(request: HttpRequest, public_id: UUID) -> HttpResponse:
    require(request.user, "answer")
    case = selectors.get_case(request.user, public_id, "answer")
    form = AnswerForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("回答を入力してください。"))
        return redirect("cases:detail", case.public_id)
    try:
        services.answer(
            case=case,
            actor=request.user,
            body=form.cleaned_data["body"],
            expected_version=_expected_version(request),
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    messages.success(request, _("回答しました。委託先に折り返しを依頼しました。"))
    return redirect("cases:queue", "escalated")


@login_required
@require_POST
def assign(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = AssignForm(request.POST)
    if not form.is_valid():
        raise PermissionDenied
    assignee = None
    if form.cleaned_data["assignee"]:
        assignee = get_object_or_404(selectors.assignees_for(request.user), pk=form.cleaned_data["assignee"])
    try:
        services.assign(
            case=case, actor=request.user, assignee=assignee, expected_version=_expected_version(request)
        )
    except (services.CaseError, ValidationError) as error:
        return _refusal(request, case, error)
    return redirect("cases:detail", case.public_id)


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
    record(
        action=Action.SEARCH if filters.text else Action.VIEW,
        actor=request.user,
        object_type="case_list",
        details={"count": len(page.cases), "text_search": bool(filters.text)},
    )
    program_ids = list(programs_for(request.user).values_list("id", flat=True))
    return render(
        request,
        "cases/list.html",
        {
            "form": form,
            "page": page,
            "categories": selectors.categories_for(program_ids),
            "assignees": list(selectors.assignees_for(request.user)),
            # One reverse() for the page instead of one per row.
            "detail_prefix": reverse("cases:list"),
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
            "status": Status(status),
            "counts": {name: counts.label(name) for name in ("escalated", "overdue", "callback", "new")},
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest) -> HttpResponse:
    rows = Notification.objects.filter(user_id=_uid(request)).select_related("case")
    if request.method == "POST":
        rows.filter(read_at__isnull=True).update(read_at=timezone.now())
        return redirect("cases:notifications")
    return render(request, "cases/notifications.html", {"rows": list(rows[:100])})


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


# --- the ward manager's program settings: correction window and categories ----------------------------


def _org(request: HttpRequest) -> int | None:
    return getattr(request.user, "organisation_id", None)


def _managed_program(request: HttpRequest, code: str) -> Program:
    """403 for a role that never manages; 404 for a program the manager does not run."""
    require(request.user, "manage")
    return get_object_or_404(programs_for(request.user, "manage").filter(ward_id=_org(request)), code=code)


def _add_errors(form: Any, error: ValidationError) -> None:
    """A service's field errors go next to the form's field; the rest above the form."""
    for field, problems in error.message_dict.items():
        form.add_error(field if field in form.fields else None, problems)


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
            _add_errors(form, error)
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
    programs = list(programs_for(request.user, "manage").filter(ward_id=_org(request)))
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
            _add_errors(form, error)
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
            _add_errors(form, error)
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
