"""A program with a life: a target list, web and phone cases, notes, an escalation and its
answer, an edit with before/after values in the audit trail, a notification and a saved search."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from madoguchi.cases import services as cases
from madoguchi.cases.models import Case, Channel, SavedSearch
from madoguchi.conftest import World
from madoguchi.programs.models import Program
from madoguchi.registry.models import Guardian, Household
from madoguchi.registry.services import import_target_list

# Fictional people (never real ones); 髙 and 𠮷 must survive every file and PDF.
TARGETS = (
    "\ufeff世帯番号,児童氏名,児童氏名カナ,児童生年月日,保護者氏名,保護者氏名カナ,保護者生年月日,"
    "郵便番号,住所,電話番号,メールアドレス\r\n"
    "H900001,髙橋　陽葵,タカハシ　ヒマリ,2020-05-03,髙橋　一郎,タカハシ　イチロウ,1988-01-17,"
    "154-0004,東京都世田谷区太子堂四丁目1番1号,090-1111-2222,ichiro.takahashi@example.jp\r\n"
    "H900002,𠮷田　蒼,ヨシダ　アオイ,2021-02-14,𠮷田　花子,ヨシダ　ハナコ,1990-07-08,"
    ",東京都世田谷区弦巻二丁目19番6号　弦巻ハイツ201号室,03-5555-6666,\r\n"
    "H900002,𠮷田　凛,ヨシダ　リン,2019-11-30,𠮷田　花子,ヨシダ　ハナコ,1990-07-08,"
    ",東京都世田谷区弦巻二丁目19番6号　弦巻ハイツ201号室,03-5555-6666,\r\n"
    'H900003,=HYPERLINK("x"),,2020-09-09,桐島　透,キリシマ　トオル,1985-03-21,'
    ",東京都世田谷区池尻二丁目16番19号,080-7777-8888,toru.kirishima@example.jp\r\n"
)

ENDED_FROM = datetime.date(2023, 2, 3)
ENDED_TO = datetime.date(2023, 5, 10)

# Personal values written in free text and caller fields: the scan must not find them after.
CALLER_NAME = "鷹野　澄子"
CALLER_PHONE = "070-3141-5926"
CALLER_EMAIL = "sumiko.takano@example.jp"
NOTE = "髙橋一郎様より電話。住所変更の予定あり"


@dataclass
class Life:
    world: World
    program: Program
    cases: list[Case]
    targets: Path


def write_targets(path: Path) -> Path:
    path.write_text(TARGETS, encoding="utf-8", newline="")
    return path


def live_program(world: World, tmp_path: Path) -> Life:
    program = world.program
    targets = write_targets(tmp_path / "targets-in.csv")
    report = import_target_list(
        program=program, path=targets, file_name="targets.csv", user=world.ward_manager
    )
    assert report.status == "applied", report.problems
    household = Household.objects.get(program=program, number="H900001")
    guardian = Guardian.objects.get(household=household)
    phone_case = cases.create_case(
        program=program,
        channel=Channel.PHONE,
        actor=world.operator,
        inquiry="申請書が届かないとのこと（髙橋様）",
        household=household,
        caller_person=guardian,
        caller_relation="guardian",
    )
    web_case = cases.create_case(
        program=program,
        channel=Channel.FORM,
        actor=None,
        inquiry="カタログの届け先を変えたい。連絡先 " + CALLER_PHONE,
        caller=cases.CallerDetails(name=CALLER_NAME, kana="タカノ　スミコ"),
        contact_phone=CALLER_PHONE,
        contact_email=CALLER_EMAIL,
    )
    cases.add_note(case=phone_case, actor=world.operator, body=NOTE)
    phone_case.refresh_from_db()
    cases.escalate(
        case=phone_case,
        actor=world.operator,
        question="住所変更の扱いを確認したい",
        expected_version=phone_case.version,
    )
    phone_case.refresh_from_db()
    cases.answer(
        case=phone_case,
        actor=world.ward_staff,
        body="新住所へ送付してください",
        expected_version=phone_case.version,
    )
    web_case.refresh_from_db()
    cases.update_case(
        case=web_case,
        actor=world.operator,
        expected_version=web_case.version,
        changes={"response": "担当より折り返し " + CALLER_NAME + " 様"},
    )
    SavedSearch.objects.create(user=world.operator, params={"q": CALLER_NAME})
    return Life(world=world, program=program, cases=[phone_case, web_case], targets=targets)


def end_recording(program: Program) -> None:
    Program.objects.filter(pk=program.pk).update(
        recording_start=ENDED_FROM, recording_end=ENDED_TO, correction_allowed_until=None
    )
    program.refresh_from_db()


def approved(life: Life, *, waive_return: bool = False) -> Any:
    from madoguchi.lifecycle import services

    services.request_purge(
        program=life.program,
        actor=life.world.ward_manager,
        reason="事業終了のため",
        waive_return=waive_return,
    )
    return services.approve_purge(program=life.program, actor=life.world.auditor)


@pytest.fixture
def life(world: World, tmp_path: Path) -> Life:
    return live_program(world, tmp_path)
