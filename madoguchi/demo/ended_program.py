"""The demo's second program, already ended, for the end of a program's life cycle.

`seed-demo` adds it with one line: a program whose recording period (2022-06-01 .. 2022-09-30)
is long over, with a few hundred households, web and phone cases, notes, escalations and
answers, and audit events (views), so that a ward manager can try the return (返還) and the
erasure (消去) on it. Idempotent like the rest of seed-demo: its data is made once, when the
program has no target list yet and was never erased.

The data is written through the real services (import, cases, audit), which refuse writes
outside the recording period. The seed therefore holds a correction window open for the
length of its own transaction and closes it again before it commits: nobody else can see the
window, and the program ends as it should, closed.
"""

from __future__ import annotations

import datetime
import random
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from madoguchi.accounts.models import Organisation, User
from madoguchi.audit.models import Action
from madoguchi.audit.services import record
from madoguchi.cases import services
from madoguchi.cases.models import Case, Category, Channel, Status, TimelineEntry, Verification
from madoguchi.ledger.models import LedgerEntry, LedgerKind
from madoguchi.programs.models import Program
from madoguchi.registry.demo_data import Window, write_csv
from madoguchi.registry.models import Household, TargetListImport
from madoguchi.registry.services import import_target_list

ENDED_PROGRAM_CODE = "setagaya-kaji-2022"
RECORDING_START = datetime.date(2022, 6, 1)
RECORDING_END = datetime.date(2022, 9, 30)
HOUSEHOLDS = 300
CASES = 240
SEED = 2022

INQUIRIES = [
    "申請書が届いていません。いつ頃届きますか。",
    "カタログの商品はいつ届きますか。",
    "対象になるか確認したいです。",
    "住所が変わったのですが、どうすればよいですか。",
    "申請の締め切りを教えてください。",
    "届いた商品が破損していました。",
]
RESPONSES = [
    "発送予定日をご案内しました。",
    "対象要件をご説明しました。",
    "区に確認のうえ折り返すとご案内しました。",
    "手続きの方法をご案内しました。",
]


@dataclass
class EndedProgram:
    program: Program
    created: bool
    households: int
    cases: int

    def summary(self) -> str:
        state = "作成しました" if self.created else "作成済みです"
        return (
            f"終了済みの事業: {self.program.code} {self.program.name}"
            f"（記録期間 {self.program.recording_start} .. {self.program.recording_end}、"
            f"{self.households:,}世帯・問い合わせ{self.cases:,}件を{state}。返還・消去の操作を試せます）"
        )


def _at(rng: random.Random) -> datetime.datetime:
    day = RECORDING_START + datetime.timedelta(days=rng.randrange((RECORDING_END - RECORDING_START).days + 1))
    moment = datetime.datetime.combine(day, datetime.time(9 + rng.randrange(8), rng.randrange(60)))
    return timezone.make_aware(moment)


def _users() -> dict[str, User | None]:
    return {
        name: User.objects.filter(username=name).first()
        for name in ("operator", "supervisor", "ward", "manager", "auditor")
    }


@transaction.atomic
def seed_ended_program(
    *, households: int | None = None, cases: int | None = None, seed: int = SEED
) -> EndedProgram:
    """Create (once) the ended demo program. Needs seed-demo's organisations and users."""
    households = households or HOUSEHOLDS
    cases = cases or CASES
    ward = Organisation.objects.get(code="setagaya-kodomo")
    contractor = Organisation.objects.get(code="demo-callcenter")
    program, _ = Program.objects.get_or_create(
        code=ENDED_PROGRAM_CODE,
        defaults={
            "name": "家事支援用品購入支援事業（令和4年度・終了）",
            "description": (
                "終了済みの事業（デモ）。記録期間は 2022-06-01 から 2022-09-30 で終了しています。"
                "区への返還と消去（消去証明書）を試すための事業です。"
            ),
            "ward": ward,
            "contractor": contractor,
            "recording_start": RECORDING_START,
            "recording_end": RECORDING_END,
            "child_dob_from": datetime.date(2018, 4, 2),
            "child_dob_to": datetime.date(2021, 4, 1),
            "receipt_prefix": "KZ",
        },
    )
    users = _users()
    for user in users.values():
        if user is not None:
            program.members.add(user)
    erased = LedgerEntry.objects.filter(program=program, kind=LedgerKind.ERASURE).exists()
    if erased or TargetListImport.objects.filter(program=program).exists():
        return EndedProgram(
            program=program,
            created=False,
            households=Household.objects.filter(program=program).count(),
            cases=Case.objects.filter(program=program).count(),
        )
    # Open for this transaction only (see the module's docstring).
    Program.objects.filter(pk=program.pk).update(
        correction_allowed_until=timezone.now() + datetime.timedelta(hours=1)
    )
    program.refresh_from_db()
    services.ensure_default_categories(program=program)
    _import(program, households, seed, users["ward"])
    made = _cases(program, cases, random.Random(seed), users)
    Program.objects.filter(pk=program.pk).update(correction_allowed_until=None)
    program.refresh_from_db()
    return EndedProgram(
        program=program,
        created=True,
        households=Household.objects.filter(program=program).count(),
        cases=made,
    )


def _import(program: Program, households: int, seed: int, user: User | None) -> None:
    window = Window(start=program.child_dob_from or Window.start, end=program.child_dob_to or Window.end)
    with tempfile.TemporaryDirectory(prefix="mdg-demo-ended-") as directory:
        path = Path(directory) / f"ended-targets-{households}-{seed}.csv"
        write_csv(path, households=households, seed=seed, window=window)
        report = import_target_list(program=program, path=path, file_name=path.name, user=user)
    if report.refused:
        raise RuntimeError("the ended demo program's target list was refused: " + report.problems[0].reason)


def _cases(program: Program, count: int, rng: random.Random, users: dict[str, User | None]) -> int:
    operator, supervisor, ward_staff, manager = (
        users["operator"],
        users["supervisor"],
        users["ward"],
        users["manager"],
    )
    assert operator is not None and ward_staff is not None
    households = list(Household.objects.filter(program=program).prefetch_related("guardians", "children"))
    categories = list(Category.objects.filter(program=program, is_active=True))
    made = 0
    for n in range(count):
        received_at = _at(rng)
        household = rng.choice(households) if households and rng.random() < 0.8 else None
        guardian = household.guardians.all()[0] if household is not None else None
        child = household.children.all()[0] if household is not None and household.children.all() else None
        web = rng.random() < 0.35
        case = services.create_case(
            program=program,
            channel=Channel.FORM if web else Channel.PHONE,
            actor=None if web else operator,
            inquiry=rng.choice(INQUIRIES),
            category=rng.choice(categories) if categories else None,
            household=None if web else household,
            caller=services.CallerDetails(
                name=guardian.name if guardian else "見本 花子",
                kana=guardian.kana if guardian else "みほん はなこ",
                child_name=child.name if child else "",
                child_dob=child.dob if child else None,
            ),
            caller_person=None if web else guardian,
            contact_phone=guardian.phone if guardian and rng.random() < 0.6 else "",
            contact_email=guardian.email if guardian and web else "",
            verification=Verification.VERIFIED
            if household is not None and not web
            else Verification.NOT_VERIFIED,
            received_at=received_at,
            idempotency_key=f"demo-ended-{n}",
        )
        if case.status != Status.NEW:
            continue  # made on an earlier run
        if rng.random() < 0.6:
            services.add_note(case=case, actor=operator, body=rng.choice(RESPONSES))
        case.refresh_from_db()
        if rng.random() < 0.25:
            case = services.escalate(
                case=case,
                actor=operator,
                question="発送状況を確認してください。",
                expected_version=case.version,
            )
            case = services.answer(
                case=case, actor=ward_staff, body="発送済みです。", expected_version=case.version
            )
        closer = supervisor if supervisor is not None and rng.random() < 0.2 else operator
        case = services.transition(case=case, to=Status.CLOSED, actor=closer, expected_version=case.version)
        # Dates as they were during the period (the audit events keep the seeding's own time).
        closed_at = received_at + datetime.timedelta(days=rng.randrange(0, 10), hours=rng.randrange(1, 5))
        Case.objects.filter(pk=case.pk).update(closed_at=closed_at)
        TimelineEntry.objects.filter(case=case).update(created_at=received_at)
        if household is not None and manager is not None and rng.random() < 0.1:
            record(
                action=Action.VIEW,
                actor=manager,
                program_id=program.pk,
                object_type="household",
                object_id=str(household.public_id),
                details={"fields": ["household.address"], "via": "demo"},
            )
        record(
            action=Action.VIEW,
            actor=operator,
            program_id=program.pk,
            object_type="case",
            object_id=str(case.public_id),
            details={"via": "demo"},
        )
        made += 1
    return made
