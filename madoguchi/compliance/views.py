"""Compliance records for the ward manager (who edits) and the auditor (who reads and exports)."""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from madoguchi.accounts.models import User
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.compliance import selectors, services
from madoguchi.compliance.forms import IncidentForm, PolicyForm, ResponsibleForm, StaffRecordForm
from madoguchi.compliance.models import Incident, ResponsiblePerson, TrainingPolicy
from madoguchi.compliance.rendering import places_by_item
from madoguchi.core.downloads import csv_download
from madoguchi.programs.models import PersonalItem, Program
from madoguchi.programs.scoping import can, require


def _uid(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _stamp() -> str:
    return timezone.localtime().strftime("%Y%m%d-%H%M%S")


# --- overview ---------------------------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    users = list(selectors.staff(request.user))
    rows = _staff_rows(users)
    record(action=Action.VIEW, actor=request.user, object_type="compliance", details={"count": len(rows)})
    context = {
        "missing_pledge": sum(1 for row in rows if not row["pledge"]),
        "training_due": sum(1 for row in rows if row["refusal"]),
        "open_incidents": selectors.incidents(request.user).filter(status=Incident.Status.OPEN).count(),
        "can_manage": can(request.user, "manage"),
    }
    return render(request, "compliance/index.html", context)


# --- staff: pledge and training --------------------------------------------------------------


def _staff_rows(users: list[User]) -> list[dict[str, Any]]:
    records = selectors.staff_records(users)
    rows = []
    for user in users:
        staff = records.get(user.pk)
        valid_days = services.valid_days_for(user)
        refusal = services.login_refusal(user)
        rows.append(
            {
                "user": user,
                "pledge": staff.pledge_signed_on if staff else None,
                "training": staff.training_completed_on if staff else None,
                "expires": services.training_expires_on(staff, valid_days),
                "valid_days": valid_days,
                "refusal": refusal,
                "note": staff.note if staff else "",
            }
        )
    return rows


@login_required
@require_GET
def staff_list(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    rows = _staff_rows(list(selectors.staff(request.user)))
    record(
        action=Action.VIEW, actor=request.user, object_type="staff_compliance", details={"count": len(rows)}
    )
    return render(
        request, "compliance/staff_list.html", {"rows": rows, "can_manage": can(request.user, "manage")}
    )


STAFF_HEADER = [
    "ユーザー名",
    "表示名",
    "組織",
    "役割",
    "秘密保持誓約の日",
    "研修受講日",
    "研修の有効期限",
    "ログイン可否",
    "備考",
]


@login_required
@require_POST
def staff_export(request: HttpRequest) -> StreamingHttpResponse:
    require(request.user, "audit")
    rows = _staff_rows(list(selectors.staff(request.user)))
    record(
        action=Action.EXPORT,
        actor=request.user,
        object_type="staff_compliance",
        details={"count": len(rows), "format": "csv"},
    )
    lines = (
        [
            row["user"].username,
            row["user"].display_name,
            row["user"].organisation.name if row["user"].organisation else "",
            row["user"].get_role_display(),
            row["pledge"] or "",
            row["training"] or "",
            row["expires"] or "",
            row["refusal"].message if row["refusal"] else "可",
            row["note"],
        ]
        for row in rows
    )
    return csv_download(f"staff-compliance-{_stamp()}.csv", STAFF_HEADER, lines)


@login_required
@require_http_methods(["GET", "POST"])
def staff_edit(request: HttpRequest, user_id: int) -> HttpResponse:
    require(request.user, "manage")
    target = get_object_or_404(selectors.staff(request.user), pk=user_id)
    staff = selectors.staff_records([target]).get(target.pk)
    initial = (
        {
            "pledge_signed_on": staff.pledge_signed_on,
            "training_completed_on": staff.training_completed_on,
            "note": staff.note,
        }
        if staff
        else {}
    )
    form = StaffRecordForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        services.save_staff_record(actor=_uid(request), user=target, **form.cleaned_data)
        messages.success(
            request,
            _("%(name)s さんの記録を保存しました。") % {"name": target.display_name or target.username},
        )
        return redirect("compliance:staff")
    return render(
        request,
        "compliance/staff_edit.html",
        {"form": form, "target": target},
        status=400 if form.errors else 200,
    )


# --- training validity ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def policies(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    organisations = list(selectors.organisations(request.user))
    programs = list(selectors.programs(request.user))
    if request.method == "POST":
        require(request.user, "manage")
        form = PolicyForm(request.POST)
        if form.is_valid():
            kind, _sep, raw_id = form.cleaned_data["scope"].partition(":")
            allowed = {o.pk for o in organisations} if kind == "organisation" else {p.pk for p in programs}
            if kind not in {"organisation", "program"} or not raw_id.isdigit() or int(raw_id) not in allowed:
                raise Http404
            services.save_policy(
                actor=_uid(request),
                organisation_id=int(raw_id) if kind == "organisation" else None,
                program_id=int(raw_id) if kind == "program" else None,
                valid_days=form.cleaned_data["valid_days"],
            )
            messages.success(request, _("研修の有効期間を保存しました。"))
            return redirect("compliance:policies")
        messages.error(request, _("有効日数は1から3650の整数で入力してください。"))
    current = {
        ("organisation", row.organisation_id)
        if row.organisation_id
        else ("program", row.program_id): row.valid_days
        for row in TrainingPolicy.objects.all()
    }
    scopes = [
        {
            "key": f"organisation:{o.pk}",
            "label": o.name,
            "kind": _("組織"),
            "days": current.get(("organisation", o.pk)),
        }
        for o in organisations
    ] + [
        {"key": f"program:{p.pk}", "label": p.name, "kind": _("事業"), "days": current.get(("program", p.pk))}
        for p in programs
    ]
    record(
        action=Action.VIEW, actor=request.user, object_type="training_policy", details={"count": len(scopes)}
    )
    return render(
        request, "compliance/policies.html", {"scopes": scopes, "can_manage": can(request.user, "manage")}
    )


# --- responsible persons ----------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def responsible(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    programs = list(selectors.programs(request.user))
    organisations = list(selectors.organisations(request.user))
    users = list(selectors.staff(request.user).filter(is_active=True))
    form = ResponsibleForm(request.POST or None, programs=programs, organisations=organisations, users=users)
    if request.method == "POST":
        require(request.user, "manage")
        if form.is_valid():
            data = form.cleaned_data
            program = next(p for p in programs if p.pk == data["program"])
            person = next(u for u in users if u.pk == data["user"])
            if person.organisation_id != data["organisation"]:
                form.add_error("user", _("責任者はその組織の職員から選んでください。"))
            else:
                services.save_responsible(
                    actor=_uid(request),
                    program=program,
                    organisation_id=data["organisation"],
                    user=person,
                    title=data["title"],
                    since=data["since"],
                )
                messages.success(request, _("責任者を保存しました。"))
                return redirect("compliance:responsible")
    rows = list(
        ResponsiblePerson.objects.filter(program__in=programs)
        .select_related("program", "organisation", "user")
        .order_by("program__code", "organisation__code")
    )
    record(
        action=Action.VIEW, actor=request.user, object_type="responsible_person", details={"count": len(rows)}
    )
    return render(
        request,
        "compliance/responsible.html",
        {"rows": rows, "form": form, "can_manage": can(request.user, "manage")},
        status=400 if form.errors else 200,
    )


# --- incidents --------------------------------------------------------------------------------


@login_required
@require_GET
def incidents(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    rows = list(selectors.incidents(request.user)[:500])
    record(action=Action.VIEW, actor=request.user, object_type="incident", details={"count": len(rows)})
    return render(
        request, "compliance/incidents.html", {"rows": rows, "can_manage": can(request.user, "manage")}
    )


def _incident_form(request: HttpRequest, instance: Incident | None) -> IncidentForm:
    return IncidentForm(request.POST or None, instance=instance, programs=selectors.programs(request.user))


@login_required
@require_http_methods(["GET", "POST"])
def incident_new(request: HttpRequest) -> HttpResponse:
    require(request.user, "manage")
    form = _incident_form(request, None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        incident = Incident(program=data.pop("program"))
        services.save_incident(actor=_uid(request), incident=incident, data=data)
        messages.success(request, _("事故報告 %(number)s を登録しました。") % {"number": incident})
        return redirect("compliance:incident", pk=incident.pk)
    return render(
        request,
        "compliance/incident_form.html",
        {"form": form, "incident": None},
        status=400 if form.errors else 200,
    )


def drill_links(incident: Incident) -> list[dict[str, str]]:
    """Links to the audit screens, filtered to the incident's records and time window."""
    start = incident.occurred_from or incident.found_at - datetime.timedelta(days=30)
    end = max(timezone.now(), incident.found_at + datetime.timedelta(days=1))
    window = {
        "at_from": timezone.localtime(start).strftime("%Y-%m-%dT%H:%M"),
        "at_to": timezone.localtime(end).strftime("%Y-%m-%dT%H:%M"),
        "program": str(incident.program_id),
    }
    events = reverse("audit:events")
    links = [
        {
            "label": _("対象 %(id)s への操作") % {"id": record_id},
            "url": f"{events}?{urlencode({**window, 'object_id': record_id})}",
        }
        for record_id in incident.record_ids()
    ]
    links.append(
        {
            "label": _("期間中の出力（エクスポート）"),
            "url": f"{events}?{urlencode({**window, 'action': Action.EXPORT})}",
        }
    )
    links.append(
        {
            "label": _("期間中の権限なし・接続元拒否"),
            "url": f"{events}?{urlencode({**window, 'action': Action.PERMISSION_DENIED})}",
        }
    )
    links.append(
        {
            "label": _("期間中のログイン失敗"),
            "url": f"{events}?{urlencode({**window, 'action': Action.LOGIN_FAILED})}",
        }
    )
    review = {
        "at_from": timezone.localtime(start).date().isoformat(),
        "at_to": timezone.localtime(end).date().isoformat(),
    }
    links.append(
        {"label": _("期間のアクセスレビュー"), "url": f"{reverse('audit:review')}?{urlencode(review)}"}
    )
    return links


@login_required
@require_http_methods(["GET", "POST"])
def incident_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require(request.user, "audit")
    incident = get_object_or_404(selectors.incidents(request.user), pk=pk)
    form = None
    if can(request.user, "manage"):
        form = _incident_form(request, incident)
        if request.method == "POST" and form.is_valid():
            data = dict(form.cleaned_data)
            data.pop("program", None)  # an incident stays with its program
            services.save_incident(actor=_uid(request), incident=incident, data=data)
            messages.success(request, _("事故報告 %(number)s を更新しました。") % {"number": incident})
            return redirect("compliance:incident", pk=incident.pk)
    elif request.method == "POST":
        require(request.user, "manage")
    record(
        action=Action.VIEW,
        actor=request.user,
        program_id=incident.program_id,
        object_type="incident",
        object_id=incident.pk,
    )
    return render(
        request,
        "compliance/incident_detail.html",
        {"incident": incident, "form": form, "links": drill_links(incident)},
        status=400 if form is not None and form.errors else 200,
    )


INCIDENT_HEADER = [
    "番号",
    "事業",
    "状態",
    "発見日時",
    "発生（から）",
    "事案の内容",
    "対象の記録",
    "対象人数",
    "報告・連絡した相手",
    "区へ報告",
    "個人情報保護委員会へ報告",
    "対応・再発防止策",
    "登録者",
]


def _when(value: datetime.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


@login_required
@require_POST
def incidents_export(request: HttpRequest) -> StreamingHttpResponse:
    require(request.user, "audit")
    rows = list(selectors.incidents(request.user))
    record(
        action=Action.EXPORT,
        actor=request.user,
        object_type="incident",
        details={"count": len(rows), "format": "csv"},
    )
    lines = (
        [
            str(row),
            row.program.name,
            row.get_status_display(),
            _when(row.found_at),
            _when(row.occurred_from),
            row.summary,
            " ".join(row.record_ids()),
            row.people_count if row.people_count is not None else "",
            row.told_whom,
            _when(row.ward_told_at),
            _when(row.ppc_told_at),
            row.actions,
            row.created_by.username,
        ]
        for row in rows
    )
    return csv_download(f"incidents-{_stamp()}.csv", INCIDENT_HEADER, lines)


# --- the data inventory (個人情報ファイル簿の記録項目) ---------------------------------------------


@login_required
@require_GET
def inventory(request: HttpRequest) -> HttpResponse:
    require(request.user, "audit")
    places = places_by_item()
    programs: list[Program] = list(selectors.programs(request.user))
    approved = [
        {
            "item": item,
            "places": places.get(item.value, []),
            "programs": [p.name for p in programs if p.approves(item.value)],
        }
        for item in PersonalItem
    ]
    from madoguchi.compliance.inventory import AdditionalItem

    additional = [
        {"item": item, "places": places.get(item.value, [])}
        for item in AdditionalItem
        if places.get(item.value)
    ]
    record(
        action=Action.VIEW, actor=request.user, object_type="data_inventory", details={"count": len(approved)}
    )
    return render(request, "compliance/inventory.html", {"approved": approved, "additional": additional})
