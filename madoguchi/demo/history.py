"""A synthetic history for the demo program, so that `make demo` shows a living program.

A few thousand cases spread over the recording period up to now: more calls in the first
weeks and on weekday mornings, web forms and e-mails at any hour, about one in eight asked of
the ward (most answered within the target, some late, a few still waiting, some overdue),
callbacks, closed and open cases. Everything is drawn from `random.Random(seed)`, so the same
seed on the same day gives the same history, and it is bulk-inserted (a few seconds).

Idempotent: the cases carry an idempotency key `demo-history-<seed>-<n>`; when the program
already has them, nothing is added. The callers are obviously fictional (見本 …) and no
case is linked to a household of the target list. The history has no audit events: it was
not done by anyone; the audit trail starts with what the demo's users do.
"""

from __future__ import annotations

import datetime
import random
import zoneinfo
from typing import Any

from django.db import transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from madoguchi.accounts.models import Role, User
from madoguchi.cases import receipts
from madoguchi.cases.business_days import add_business_days, is_business_day
from madoguchi.cases.models import (
    CallerRelation,
    Case,
    Category,
    Channel,
    Status,
    TimelineEntry,
)
from madoguchi.cases.services import search_key
from madoguchi.programs.models import Program

JST = zoneinfo.ZoneInfo("Asia/Tokyo")
DEFAULT_CASES = 3000
KEY_PREFIX = "demo-history"

INQUIRIES = [
    "カタログが届かない",
    "配送の予定日を知りたい",
    "申請書の書き方がわからない",
    "対象になるか確認したい",
    "住所が変わったので届け先を変更したい",
    "商品の不具合で返品したい",
    "申請期限はいつまでか",
    "上の子は対象外か知りたい",
    "ポイントの使い方を教えてほしい",
    "書類を紛失したので再発行してほしい",
    "代理人でも申請できるか",
    "転入したばかりで対象になるか",
]
RESPONSES = [
    "制度概要を案内した",
    "申請方法を説明した",
    "配送業者に確認すると伝えた",
    "区に確認のうえ折り返すと伝えた",
    "再発行の手続きを案内した",
    "対象要件を説明した",
]
QUESTIONS = ["対象になるかご確認ください", "発送状況をご確認ください", "住所変更の扱いをご確認ください"]
ANSWERS = ["対象です。通知を再送します。", "発送済みです。", "変更を受け付けました。"]
SURNAMES = ["見本", "試験", "架空", "例示"]
GIVEN = ["花子", "太郎", "陽子", "一郎", "さくら", "大輔"]
# Channel weights: phone most, then the web form, e-mail, the counter.
CHANNELS = [(Channel.PHONE, 60), (Channel.FORM, 25), (Channel.EMAIL, 10), (Channel.COUNTER, 5)]


def history_key(seed: int, number: int) -> str:
    return f"{KEY_PREFIX}-{seed}-{number:05d}"


def _day_weights(start: datetime.date, end: datetime.date) -> list[tuple[datetime.date, float]]:
    days = []
    total = (end - start).days + 1
    for offset in range(total):
        day = start + datetime.timedelta(days=offset)
        # A wave after the launch letters, then a steady flow.
        wave = 1.0 + 2.5 * max(0.0, 1.0 - offset / 21)
        weight = wave * (1.0 if is_business_day(day) else 0.25)
        days.append((day, weight))
    return days


def _received(
    rng: random.Random, day: datetime.date, channel: str, now: datetime.datetime
) -> datetime.datetime:
    if channel in (Channel.FORM, Channel.EMAIL):
        hour = rng.choice([7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 18, 20, 21, 22, 23])
    else:
        hour = rng.choice([9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 14, 15, 16, 17, 18, 19])
    moment = datetime.datetime.combine(day, datetime.time(hour, rng.randrange(60), rng.randrange(60)), JST)
    return min(moment, now - datetime.timedelta(minutes=rng.randrange(5, 90)))


def _business_hours_later(moment: datetime.datetime, days: int, rng: random.Random) -> datetime.datetime:
    day = add_business_days(timezone.localtime(moment, JST).date(), days)
    return datetime.datetime.combine(day, datetime.time(rng.randrange(9, 18), rng.randrange(60)), JST)


@transaction.atomic
def seed_history(
    *, program: Program, cases: int = DEFAULT_CASES, seed: int = 2023, now: datetime.datetime | None = None
) -> int:
    """Add the synthetic history to `program`; returns how many cases were added (0 when the
    history is already there or the recording period has not started)."""
    if Case.objects.filter(program=program, idempotency_key=history_key(seed, 1)).exists():
        return 0
    # Whole minutes: the same seed within the same minute gives the very same history.
    now = (now or timezone.now()).replace(second=0, microsecond=0)
    today = timezone.localdate(now)
    start, end = program.recording_start, min(program.recording_end, today)
    if start > end:
        return 0
    rng = random.Random(f"{seed}-{program.code}")
    categories = list(Category.objects.filter(program=program, is_active=True).order_by("order", "id"))
    members = User.objects.filter(programs=program, is_active=True).select_related("organisation")
    staff = {role: [user for user in members.order_by("username") if user.role == role] for role in Role}
    operators = staff[Role.OPERATOR] + staff[Role.SUPERVISOR]
    ward_people = staff[Role.WARD_STAFF] + staff[Role.WARD_MANAGER]
    days = _day_weights(start, end)
    picks = sorted(
        (day for day in rng.choices([d for d, _ in days], weights=[w for _, w in days], k=cases)),
    )
    channels = rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS], k=cases)
    drafts = []
    for index, (day, channel) in enumerate(zip(picks, channels, strict=True)):
        drafts.append(_draft(rng, program, day, channel, now, today, categories, operators, index + 1, seed))
    drafts.sort(key=lambda item: item["case"].received_at)
    first = receipts.take_numbers(program, len(drafts)) if drafts else 1
    for offset, item in enumerate(drafts):
        item["case"].receipt_number = receipts.format_number(program, first + offset)
    Case.objects.bulk_create([item["case"] for item in drafts], batch_size=500)
    keys = [item["case"].idempotency_key for item in drafts]
    saved = dict(Case.objects.filter(idempotency_key__in=keys).values_list("idempotency_key", "pk"))
    entries = []
    for item in drafts:
        case = item["case"]
        case.pk = saved[case.idempotency_key]
        entries.extend(_entries(rng, case, item, operators, ward_people))
    TimelineEntry.objects.bulk_create(entries, batch_size=1000)
    # auto_now fields took the time of this run: put them where the history says they were.
    history = Case.objects.filter(program=program, idempotency_key__startswith=f"{KEY_PREFIX}-{seed}-")
    history.update(
        created_at=F("received_at"),
        updated_at=Coalesce(F("closed_at"), F("ward_answered_at"), F("escalated_at"), F("received_at")),
    )
    # The entries' created_at too (auto_now_add): each from the case field it stands for.
    entries_of = TimelineEntry.objects.filter(case__in=history.values("pk"))
    for kind, source in (
        (TimelineEntry.Kind.CREATED, "received_at"),
        (TimelineEntry.Kind.RESPONSE, "received_at"),
        (TimelineEntry.Kind.ESCALATION, "escalated_at"),
        (TimelineEntry.Kind.WARD_ANSWER, "ward_answered_at"),
        (TimelineEntry.Kind.STATUS_CHANGE, "closed_at"),
    ):
        when = Subquery(Case.objects.filter(pk=OuterRef("case_id")).values(source)[:1])
        entries_of.filter(kind=kind).update(created_at=when)
    return len(drafts)


def _draft(
    rng: random.Random,
    program: Program,
    day: datetime.date,
    channel: str,
    now: datetime.datetime,
    today: datetime.date,
    categories: list[Category],
    operators: list[Any],
    number: int,
    seed: int,
) -> dict[str, Any]:
    received = _received(rng, day, channel, now)
    age = (today - day).days
    inquiry = rng.choice(INQUIRIES) + "。"
    response = rng.choice(RESPONSES) if channel != Channel.FORM or age > 0 else ""
    assignee = rng.choice(operators) if operators and (channel != Channel.FORM or age > 0) else None
    case = Case(
        program=program,
        channel=channel,
        received_at=received,
        caller_relation=CallerRelation.GUARDIAN,
        caller_name=f"{rng.choice(SURNAMES)} {rng.choice(GIVEN)}",
        category=rng.choice(categories) if categories and rng.random() < 0.92 else None,
        inquiry=inquiry,
        response=response,
        assignee=assignee,
        created_by=assignee if channel != Channel.FORM else None,
        idempotency_key=history_key(seed, number),
        search_text=search_key(f"{inquiry}\n{response}"),
        status=Status.CLOSED,
    )
    plan: dict[str, Any] = {"case": case, "question": "", "answer": ""}
    escalated = rng.random() < (0.05 if channel == Channel.FORM else 0.12)
    roll = rng.random()
    if escalated:
        case.escalated_at = received + datetime.timedelta(minutes=rng.randrange(10, 180))
        case.escalated_at = min(case.escalated_at, now - datetime.timedelta(minutes=1))
        case.ward_due_on = add_business_days(
            timezone.localtime(case.escalated_at, JST).date(), program.answer_target_business_days
        )
        plan["question"] = rng.choice(QUESTIONS)
        answer_days = rng.choices([0, 1, 2, 3, 5], weights=[20, 35, 25, 12, 8])[0]
        answered_at = _business_hours_later(case.escalated_at, answer_days, rng)
        if answered_at >= now or roll < 0.04:
            case.status = Status.ESCALATED
        else:
            case.ward_answered_at = answered_at
            plan["answer"] = rng.choice(ANSWERS)
            closed_at = answered_at + datetime.timedelta(hours=rng.randrange(1, 30))
            if closed_at >= now or roll < 0.08:
                case.status = Status.CALLBACK
            else:
                case.closed_at = closed_at
    else:
        # Young cases are more often still open.
        open_share = 0.6 if age <= 1 else 0.15 if age <= 7 else 0.03
        if roll < open_share:
            if channel == Channel.FORM and age <= 1:
                case.status = Status.NEW
            else:
                case.status = rng.choice(
                    [Status.IN_PROGRESS, Status.IN_PROGRESS, Status.CALLBACK, Status.NEW]
                )
        else:
            case.closed_at = min(received + datetime.timedelta(minutes=rng.randrange(5, 600)), now)
    if case.status == Status.CALLBACK:
        # The callback the caller asked for: a day or two after the case came back, some with
        # an afternoon window; older ones are overdue. From the case's number, not `rng`, so
        # the rest of the history stays what it was.
        since = timezone.localtime(case.ward_answered_at or received, JST).date()
        case.callback_due_on = since + datetime.timedelta(days=number % 3)
        if number % 4 == 0:
            case.callback_from, case.callback_until = datetime.time(13), datetime.time(17)
    return plan


def _entries(
    rng: random.Random, case: Case, plan: dict[str, Any], operators: list[Any], ward_people: list[Any]
) -> list[TimelineEntry]:
    # created_at is set afterwards from the case's own times (auto_now_add overrides it here).
    def entry(kind: str, author: Any, body: str = "", to: str = "") -> TimelineEntry:
        return TimelineEntry(
            case_id=case.pk,
            kind=kind,
            body=body,
            to_status=to,
            author=author,
            author_name=str(author) if author else "",
            author_organisation=author.organisation.name if author and author.organisation_id else "",
        )

    operator = case.assignee or (rng.choice(operators) if operators else None)
    rows = [entry(TimelineEntry.Kind.CREATED, case.created_by, to=Status.NEW)]
    if case.response:
        rows.append(entry(TimelineEntry.Kind.RESPONSE, operator, case.response))
    if plan["question"] and case.escalated_at:
        rows.append(entry(TimelineEntry.Kind.ESCALATION, operator, plan["question"]))
    if plan["answer"] and case.ward_answered_at:
        ward = rng.choice(ward_people) if ward_people else None
        rows.append(entry(TimelineEntry.Kind.WARD_ANSWER, ward, plan["answer"]))
    if case.closed_at:
        rows.append(entry(TimelineEntry.Kind.STATUS_CHANGE, operator, to=Status.CLOSED))
    return rows
