"""Identification screens: the operator's panel (htmx), its standalone page, the screen pop,
and the screen where a supervisor or ward manager manages their organisation's API tokens."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.context_processors import csrf
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts import allowlist
from madoguchi.accounts.views import reauth_required
from madoguchi.core.navigation import NavItem
from madoguchi.core.navigation import url as nav_url
from madoguchi.identify import services
from madoguchi.identify.forms import ApiTokenForm, ConfirmForm, SearchForm
from madoguchi.identify.indexer import IndexNotReady
from madoguchi.identify.models import ApiToken
from madoguchi.identify.selectors import api_tokens_for, candidate_views, town_of
from madoguchi.identify.verification import ITEMS, STATUS_LABELS, verification_status
from madoguchi.programs.recording import RecordingClosed
from madoguchi.programs.scoping import can, member_program, member_programs, require
from madoguchi.registry.models import Household


def nav_items(request: HttpRequest) -> list[NavItem]:
    items = []
    if can(request.user, "identify"):
        items.append(NavItem(label=_("本人特定"), url=nav_url("identify:page"), order=20))
    if can(request.user, "api_tokens"):
        items.append(NavItem(label=_("APIトークン"), url=nav_url("identify:tokens"), order=920))
    return items


@login_required
@require_GET
def page(request: HttpRequest) -> HttpResponse:
    """本人特定: the panel on its own page, for one of the user's programs."""
    require(request.user, "identify")
    programs = member_programs(request.user, "identify")
    code = request.GET.get("program", "")
    program = None
    if code:
        program = member_program(request.user, "identify", code, programs)  # or 404
    elif len(programs) == 1:
        program = programs[0]
    return render(request, "identify/page.html", {"program": program, "programs": programs})


@login_required
@require_POST
def search(request: HttpRequest) -> HttpResponse:
    program = services.program_for(request.user, request.POST.get("program", ""))
    form = SearchForm(request.POST)
    if not form.is_valid():
        return _results(request, {"invalid": True, "program": program}, status=400)
    try:
        searched = services.search(user=request.user, program=program, query=form.query())
    except IndexNotReady as not_ready:
        return _results(request, {"not_ready": not_ready.message, "program": program})
    result = searched.result
    return _results(
        request,
        {
            "program": program,
            "index_stale": result.index_stale,
            "searched": bool(result.fields_used),
            "abstained": result.abstained,
            # Not named, but judged one of the listed households (a tie, a close second), or
            # not even that: the panel says which (docs/identification.md, "Two questions").
            "in_list": result.in_list,
            "follow_up": searched.follow_up,
            "candidates": candidate_views(user=request.user, program=program, result=result),
        },
    )


def _results(request: HttpRequest, context: dict[str, Any], *, status: int = 200) -> HttpResponse:
    """The candidates' fragment, rendered with what it uses (its forms' CSRF token) and without
    the context processors: a search is typed letter by letter, and every render through the
    request computed the navigation with its badges and the erasure banner (two queries and
    about a tenth of a search's CPU), which a fragment never shows. The token as the request's
    context gives it: lazily, read only when a candidate's form is shown."""
    context = {**context, **csrf(request)}
    return HttpResponse(render_to_string("identify/_results.html", context), status=status)


@login_required
@require_POST
def open_candidate(request: HttpRequest) -> HttpResponse:
    program = services.program_for(request.user, request.POST.get("program", ""))
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    details = services.open_household(
        user=request.user, program=program, public_id=form.cleaned_data["household"]
    )
    return render(
        request,
        "identify/_household.html",
        {
            "program": program,
            "details": details,
            "shown": set(details.shown),
            "items": ITEMS.items(),
        },
    )


@login_required
@require_POST
def confirm(request: HttpRequest) -> HttpResponse:
    """Bind the opened household and the confirmed items to the case form (hidden inputs)."""
    program = services.program_for(request.user, request.POST.get("program", ""))
    form = ConfirmForm(request.POST)
    if not form.is_valid():
        return HttpResponse(status=400)
    try:
        household: Household = services.confirm_household(
            user=request.user, program=program, public_id=form.cleaned_data["household"]
        )
    except (RecordingClosed, services.HouseholdSuspended) as refused:
        # 200 so that htmx swaps the message in place of the hidden inputs.
        return render(request, "identify/_refused.html", {"message": refused.message})
    items = [item for item in ITEMS if item in form.cleaned_data["items"]]
    status = verification_status(program.verification_rule, items)
    response = render(
        request,
        "identify/_confirmed.html",
        {
            "household": household,
            "status": status,
            "status_label": STATUS_LABELS[status],
            "items": items,
            "all_items": ITEMS.items(),
        },
    )
    response["HX-Trigger"] = "identify:confirmed"
    return response


@csrf_exempt  # a machine client with a bearer token, no cookies: CSRF cannot apply
@require_POST
def screen_pop(request: HttpRequest) -> JsonResponse:
    """POST {"program": CODE, "caller_number": "..."} → candidate households for a phone system."""
    try:
        token = services.authenticate_token(request.headers.get("Authorization", ""))
        if not allowlist.is_allowed(getattr(request, "client_ip", ""), token.organisation_id):
            raise services.TokenError(403)
        try:
            body = json.loads(request.body or b"{}")
        except (json.JSONDecodeError, UnicodeDecodeError):
            return JsonResponse({"error": "invalid_json"}, status=400)
        if not isinstance(body, dict) or not body.get("program") or not body.get("caller_number"):
            return JsonResponse({"error": "program_and_caller_number_required"}, status=400)
        result = services.screen_pop(
            token=token, program_code=str(body["program"]), caller_number=str(body["caller_number"])[:40]
        )
    except RecordingClosed as refused:
        return JsonResponse({"error": "recording_closed", "message": refused.message}, status=409)
    except IndexNotReady as not_ready:
        response = JsonResponse({"error": "index_not_ready", "message": not_ready.message}, status=503)
        response["Retry-After"] = "60"
        return response
    except services.TokenError as error:
        names = {401: "unauthorized", 403: "forbidden", 404: "not_found"}
        response = JsonResponse({"error": names[error.status]}, status=error.status)
        if error.status == 401:
            response["WWW-Authenticate"] = "Bearer"
        return response
    households = {
        h.pk: h
        for h in Household.objects.filter(
            pk__in=[c.household_id for c in result.candidates]
        ).prefetch_related("children")
    }
    candidates = []
    for candidate in result.candidates:
        household = households.get(candidate.household_id)
        if household is None:
            continue
        candidates.append(
            {
                "household": str(household.public_id),
                "score": candidate.score,
                "summary": {
                    "town": town_of(household.address),
                    "children": household.children.count(),
                    "child_birth_years": sorted(c.dob.year for c in household.children.all()),
                },
            }
        )
    return JsonResponse({"candidates": candidates, "abstained": result.abstained})


# --- the screen-pop API tokens of the user's organisation ------------------------------------


def _token_for(request: HttpRequest, pk: int) -> ApiToken:
    # Another organisation's token answers 404, like any record outside the user's reach.
    return get_object_or_404(api_tokens_for(request.user).select_related("organisation"), pk=pk)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@reauth_required("identify:tokens", action="api_tokens")
def tokens(request: HttpRequest) -> HttpResponse:
    """The organisation's tokens, and a new one: its secret is in this one response only."""
    organisation = getattr(request.user, "organisation", None)
    if organisation is None:
        raise PermissionDenied
    form = ApiTokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_api_token(
                organisation=organisation, name=form.cleaned_data["name"], created_by=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("name", message)
        else:
            # Rendered, not redirected: the secret must never be in a URL, a session or a later page.
            return render(request, "identify/token_created.html", {"token": token, "secret": secret})
    context = {"form": form, "tokens": api_tokens_for(request.user), "organisation": organisation}
    return render(request, "identify/tokens.html", context)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
@reauth_required("identify:tokens", action="api_tokens")
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks for confirmation; POST revokes."""
    token = _token_for(request, pk)
    if request.method == "POST":
        try:
            services.revoke_api_token(token=token, user=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("トークン「%(name)s」を失効させました。") % {"name": token.name})
        return redirect("identify:tokens")
    return render(request, "identify/token_revoke.html", {"token": token})
