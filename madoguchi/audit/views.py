"""The ward manager's and the auditor's screens: the events, the before/after of a change,
the access review, and their CSV downloads. Every one of them is itself audited.

Their reads tolerate a few seconds of lag: they go to the read replica when there is one
(`madoguchi.core.replica.use_replica`)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from madoguchi.accounts.views import reauth_required
from madoguchi.audit.describe import field_label, for_display
from madoguchi.audit.forms import EventFilterForm, ReviewWindowForm
from madoguchi.audit.models import Action, AuditChange, AuditEvent
from madoguchi.audit.review import access_review
from madoguchi.audit.selectors import (
    EventFilter,
    auditable_programs,
    event_page,
    events_for_export,
    scope_for,
    users_in_scope,
    visible_events,
)
from madoguchi.audit.services import record
from madoguchi.core.downloads import csv_download
from madoguchi.core.replica import use_replica
from madoguchi.programs.scoping import can, require

EXPORT_LIMIT = 200_000


def _filter_form(request: HttpRequest, data: Any) -> EventFilterForm:
    user = request.user
    return EventFilterForm(
        data,
        users=list(users_in_scope(scope_for(user))),
        programs=list(auditable_programs(user)),
    )


def _cursor(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@require_GET
@use_replica()
def events(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    form = _filter_form(request, request.GET or None)
    valid = not form.is_bound or form.is_valid()
    filters = form.to_filter() if form.is_bound else EventFilter()
    cursor = _cursor(request.GET.get("cursor"))
    page = None
    with transaction.atomic():
        if valid:
            page = event_page(request.user, filters, cursor=cursor)
            for_display(page.events)
        # Reading the trail is itself recorded: who looked for what.
        record(
            action=Action.SEARCH,
            actor=request.user,
            object_type="audit_event",
            details={**filters.as_details(), "count": len(page.events) if page else 0},
        )
    next_query = None
    if page and page.next_cursor is not None:
        query = request.GET.copy()
        query["cursor"] = str(page.next_cursor)
        next_query = query.urlencode()
    return render(
        request,
        "audit/events.html",
        {
            "form": form,
            "page": page,
            "next_query": next_query,
            "first_page": cursor is None,
            "may_see_changes": can(request.user, "manage"),
        },
        status=200 if valid else 400,
    )


# --- CSV -------------------------------------------------------------------------------------


EVENT_HEADER = [
    "seq",
    "日時",
    "利用者ID",
    "ユーザー名",
    "氏名",
    "組織",
    "役割",
    "接続元",
    "リクエストID",
    "操作",
    "事業ID",
    "対象の種類",
    "対象ID",
    "結果",
    "詳細",
    "hash",
]


def _event_row(event: AuditEvent) -> list[Any]:
    return [
        event.seq,
        timezone.localtime(event.at).isoformat(timespec="seconds"),
        event.actor_id,
        event.actor_username,
        event.actor_name,
        event.actor_organisation,
        event.actor_role,
        event.client_ip,
        event.request_id,
        event.action,
        event.program_id,
        event.object_type,
        event.object_id,
        event.outcome,
        json.dumps(event.details, ensure_ascii=False, sort_keys=True),
        event.hash,
    ]


@login_required
@require_POST
@reauth_required("audit:events", action="audit")
@use_replica()
def export_events(request: HttpRequest) -> HttpResponseBase:
    require(request.user, "audit")
    form = _filter_form(request, request.POST)
    if not form.is_valid():
        return render(request, "audit/events.html", {"form": form, "page": None}, status=400)
    filters = form.to_filter()
    # The download is recorded, and committed, before the first byte leaves (fail closed).
    with transaction.atomic():
        record(
            action=Action.EXPORT,
            actor=request.user,
            object_type="audit_event",
            details={**filters.as_details(), "format": "csv", "limit": EXPORT_LIMIT},
        )
    rows = (_event_row(event) for event in events_for_export(request.user, filters, limit=EXPORT_LIMIT))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return csv_download(f"audit-events-{stamp}.csv", EVENT_HEADER, rows)


# --- before/after ---------------------------------------------------------------------------


@login_required
@require_GET
@use_replica()
def change(request: HttpRequest, seq: int) -> HttpResponse:
    """The before/after values of one change: personal data, for the ward manager only."""
    require(request.user, "manage")
    event = get_object_or_404(visible_events(request.user), seq=seq)
    try:
        values = event.change
    except AuditChange.DoesNotExist as exc:
        raise Http404 from exc
    with transaction.atomic():
        record(
            action=Action.VIEW,
            actor=request.user,
            program_id=event.program_id,
            object_type="audit_change",
            object_id=event.seq,
            details={"fields": sorted(set(values.before) | set(values.after))},
        )
    names = sorted(set(values.before) | set(values.after))
    rows = [(field_label(name), values.before.get(name), values.after.get(name)) for name in names]
    for_display([event])
    return render(request, "audit/change.html", {"event": event, "rows": rows})


# --- the access review ----------------------------------------------------------------------


@login_required
@require_GET
@use_replica()
def review(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    form = ReviewWindowForm(request.GET or None)
    at_from, at_to = form.window()
    with transaction.atomic():
        report = access_review(request.user, at_from=at_from, at_to=at_to)
        record(
            action=Action.VIEW,
            actor=request.user,
            object_type="access_review",
            details={"from_epoch": int(at_from.timestamp()), "to_epoch": int(at_to.timestamp())},
        )
    return render(
        request,
        "audit/review.html",
        {
            "form": form,
            "report": report,
            "last_day": timezone.localtime(at_to).date() - datetime.timedelta(days=1),
            "households_per_hour": settings.AUDIT_REVIEW_HOUSEHOLDS_PER_HOUR,
            "hours": settings.AUDIT_REVIEW_HOURS,
            "lockouts_per_hour": settings.AUDIT_REVIEW_LOCKOUTS_PER_HOUR,
        },
    )


REVIEW_HEADER = [
    "区分",
    "利用者ID",
    "ユーザー名",
    "氏名",
    "組織",
    "役割",
    "状態",
    "最終ログイン",
    "事業",
    "時間帯",
    "件数",
    "世帯数",
    "接続元",
    "備考",
]


def _finding_row(kind: Any, *, hours: str, count: int, address: str = "") -> list[Any]:
    """A review finding that belongs to no account: only kind, time band, count and address."""
    row: list[Any] = [""] * len(REVIEW_HEADER)
    row[0], row[9], row[10], row[12] = kind, hours, count, address
    return row


def _review_rows(report: Any) -> Iterator[list[Any]]:
    def when(value: Any) -> str:
        return timezone.localtime(value).isoformat(timespec="seconds") if value else ""

    for row in report.accounts:
        user = row.user
        yield [
            _("アカウント"),
            user.pk,
            user.username,
            user.display_name,
            user.organisation.name if user.organisation else "",
            user.get_role_display(),
            _("有効") if user.is_active else _("無効"),
            when(user.last_login),
            " ".join(row.programs),
            "",
            "",
            "",
            "",
            _("最終ロックアウト %(at)s") % {"at": when(row.last_lockout)} if row.last_lockout else "",
        ]
    for kind, rows in ((_("大量閲覧"), report.bursts), (_("時間外アクセス"), report.out_of_hours)):
        for hour in rows:
            actor = hour.actor
            yield [
                kind,
                hour.actor_id,
                actor.username if actor else "",
                actor.display_name if actor else "",
                actor.organisation.name if actor and actor.organisation else "",
                actor.get_role_display() if actor else "",
                "",
                "",
                hour.program_code,
                when(hour.hour),
                hour.events,
                hour.households,
                "",
                _("基準 %(n)s 世帯/時") % {"n": hour.threshold} if kind == _("大量閲覧") else "",
            ]
    for burst in report.lockout_bursts:
        yield _finding_row(_("ロックアウト集中"), hours=when(burst.hour), count=burst.count)
    for address in report.refused_addresses:
        yield _finding_row(
            _("拒否された接続元"),
            hours=f"{when(address.first)} – {when(address.last)}",
            count=address.count,
            address=address.client_ip,
        )


@login_required
@require_POST
@reauth_required("audit:review", action="audit")
@use_replica()
def export_review(request: HttpRequest) -> HttpResponseBase:
    require(request.user, "audit")
    form = ReviewWindowForm(request.POST)
    at_from, at_to = form.window()
    with transaction.atomic():
        record(
            action=Action.EXPORT,
            actor=request.user,
            object_type="access_review",
            details={
                "from_epoch": int(at_from.timestamp()),
                "to_epoch": int(at_to.timestamp()),
                "format": "csv",
            },
        )
    report = access_review(request.user, at_from=at_from, at_to=at_to)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    return csv_download(f"access-review-{stamp}.csv", REVIEW_HEADER, _review_rows(report))
