"""The case page's later work: identify later (link, unlink, correct 本人確認), callbacks
(schedule, attempts), related cases (link, merge). Each view parses, calls its service in
`cases.identification`, `cases.callbacks` or `cases.relations`, and on any error renders the
case page again with what was typed (`case_page.refuse`)."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from madoguchi.cases import callbacks, identification, relations, selectors, services
from madoguchi.cases.forms import AttemptForm, CallbackForm, MergeForm, UnlinkForm, VerificationForm
from madoguchi.cases.verification import item_label, program_items
from madoguchi.cases.views._common import _expected_version
from madoguchi.cases.views._identification import kept_context, read_identification
from madoguchi.cases.views.case_page import refuse, render_detail
from madoguchi.programs.scoping import require

Errors = (services.CaseError, ValidationError)


def _done(request: HttpRequest, public_id: UUID, message: str) -> HttpResponse:
    messages.success(request, message)
    return redirect("cases:detail", public_id)


# --- identify later -----------------------------------------------------------------------------


@login_required
@require_POST
def identify(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Link the household confirmed in the case page's identify panel."""
    require(request.user, "identify")
    case = selectors.get_case(request.user, public_id, "edit")
    found = read_identification(request, case.program)
    kept = kept_context(found, case.program)
    if found.errors or found.household is None:
        errors = found.errors or [_("世帯を検索して「この世帯で確定」を押してから保存してください。")]
        return render_detail(request, case, kept=kept, identify_errors=errors)
    try:
        identification.link_household(
            case=case,
            actor=request.user,
            household=found.household,
            verified_items=found.decision.items,
            expected_version=_expected_version(request),
        )
    except Errors as error:
        return refuse(request, case, error, kept=kept)
    return _done(request, case.public_id, _("世帯に紐付けました。"))


@login_required
@require_POST
def unlink(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = UnlinkForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, unlink_form=form)
    try:
        identification.unlink_household(
            case=case,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            expected_version=_expected_version(request),
        )
    except Errors as error:
        return refuse(request, case, error, form, unlink_form=form)
    return _done(request, case.public_id, _("世帯の紐付けを解除しました。"))


@login_required
@require_POST
def verify(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """A later correction of 本人確認 (the program's items only; the rule decides the status)."""
    case = selectors.get_case(request.user, public_id, "edit")
    choices = [(code, item_label(code)) for code in program_items(case.program.verification_rule)]
    form = VerificationForm(request.POST, choices=choices)
    if not form.is_valid():
        return render_detail(request, case, verification_form=form)
    try:
        identification.correct_verification(
            case=case,
            actor=request.user,
            verified_items=form.cleaned_data["items"],
            expected_version=_expected_version(request),
        )
    except Errors as error:
        return refuse(request, case, error, form, verification_form=form)
    return _done(request, case.public_id, _("本人確認を訂正しました。"))


# --- callbacks -----------------------------------------------------------------------------------


@login_required
@require_POST
def schedule_callback(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = CallbackForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, callback_form=form)
    data = form.cleaned_data
    try:
        callbacks.schedule_callback(
            case=case,
            actor=request.user,
            due_on=data["due_on"],
            start=data["start"],
            until=data["until"],
            note=data["note"],
            expected_version=_expected_version(request),
        )
    except Errors as error:
        return refuse(request, case, error, form, callback_form=form)
    return _done(request, case.public_id, _("折り返しの予定を記録しました。"))


@login_required
@require_POST
def callback_attempt(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    form = AttemptForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, attempt_form=form)
    data = form.cleaned_data
    try:
        callbacks.record_attempt(
            case=case,
            actor=request.user,
            outcome=data["outcome"],
            note=data["note"],
            next_due_on=data["next_due_on"],
            next_from=data["next_from"],
            next_until=data["next_until"],
            expected_version=_expected_version(request),
        )
    except Errors as error:
        return refuse(request, case, error, form, attempt_form=form)
    return _done(request, case.public_id, _("折り返しの結果を記録しました。"))


# --- related cases ---------------------------------------------------------------------------------


@login_required
@require_POST
def link(request: HttpRequest, public_id: UUID, other_id: UUID) -> HttpResponse:
    case = selectors.get_case(request.user, public_id, "edit")
    other = selectors.get_case(request.user, other_id, "edit")
    try:
        relations.link_cases(case=case, other=other, actor=request.user)
    except Errors as error:
        return refuse(request, case, error)
    return _done(
        request, case.public_id, _("%(number)s と関連付けました。") % {"number": other.receipt_number}
    )


@login_required
@require_POST
def merge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Merge this duplicate web inquiry into the case with the receipt number typed."""
    case = selectors.get_case(request.user, public_id, "edit")
    form = MergeForm(request.POST)
    if not form.is_valid():
        return render_detail(request, case, merge_form=form)
    receipt = form.cleaned_data["receipt_number"]
    target = selectors.find_case_by_receipt(request.user, case.program_id, receipt)
    if target is None:
        form.add_error("receipt_number", _("この事業にその受付番号の問い合わせはありません。"))
        return render_detail(request, case, merge_form=form)
    try:
        relations.merge_duplicate(
            duplicate=case, into=target, actor=request.user, expected_version=_expected_version(request)
        )
    except Errors as error:
        return refuse(request, case, error, form, merge_form=form)
    messages.success(request, _("%(number)s に統合しました。") % {"number": target.receipt_number})
    return redirect("cases:detail", target.public_id)
