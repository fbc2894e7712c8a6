"""Synthetic households for identification tests (no real person's data)."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import reverse

from madoguchi.identify.indexer import reindex_program
from madoguchi.lib.text import name_key
from madoguchi.programs.models import Program
from madoguchi.registry.models import Child, Guardian, Household, TargetListImport


def target_import(program: Program) -> TargetListImport:
    existing = TargetListImport.objects.filter(program=program).order_by("-id").first()
    if existing is not None:
        return existing
    return TargetListImport.objects.create(
        program=program, version=1, file_name="test.csv", sha256="0" * 64, status="applied"
    )


def add_household(
    program: Program,
    number: str,
    *,
    guardian: tuple[str, str, str],
    children: list[tuple[str, str, str]],
    address: str = "東京都世田谷区太子堂四丁目1番1号",
    phone: str = "",
    email: str = "",
) -> Household:
    """guardian and children as (name, kana, ISO date of birth), written as a list would."""
    imp = target_import(program)
    household = Household.objects.create(
        program=program,
        number=number,
        address=address,
        address_key=name_key(address),
        content_hash="",
        first_import=imp,
        last_import=imp,
    )
    name, kana, dob = guardian
    Guardian.objects.create(
        household=household,
        name=name,
        name_key=name_key(name),
        kana=kana,
        dob=datetime.date.fromisoformat(dob),
        phone=phone,
        email=email,
    )
    for child_name, child_kana, child_dob in children:
        Child.objects.create(
            household=household,
            name=child_name,
            name_key=name_key(child_name),
            kana=child_kana,
            dob=datetime.date.fromisoformat(child_dob),
        )
    return household


def standard_list(program: Program) -> dict[str, Any]:
    """A small list with the households that must never be confused."""
    households = {
        "tanaka": add_household(
            program,
            "100001",
            guardian=("田中　花子", "タナカ　ハナコ", "1990-01-02"),
            children=[("田中　陽翔", "タナカ　ハルト", "2020-05-03")],
            address="東京都世田谷区太子堂四丁目1番1号　太子堂ハイツ101号室",
            phone="090-1234-5678",
            email="hanako@example.jp",
        ),
        # Same guardian name, another family.
        "tanaka2": add_household(
            program,
            "100002",
            guardian=("田中　花子", "タナカ　ハナコ", "1985-07-30"),
            children=[("田中　結衣", "タナカ　ユイ", "2021-02-14")],
            address="東京都世田谷区弦巻二丁目19番6号",
            phone="03-3412-0001",
        ),
        # Twins: one household, two children born the same day.
        "twins": add_household(
            program,
            "100003",
            guardian=("髙橋　健太", "タカハシ　ケンタ", "1988-03-15"),
            children=[
                ("髙橋　蒼", "タカハシ　アオイ", "2020-08-29"),
                ("髙橋　凪", "タカハシ　ナギ", "2020-08-29"),
            ],
            address="東京都世田谷区桜丘五丁目21番10号",
            phone="080-5555-0101",
        ),
        # The guardian's family name differs from the child's.
        "differs": add_household(
            program,
            "100004",
            guardian=("長塚　静香", "ナガツカ　シズカ", "1997-08-10"),
            children=[("北島　和奏", "キタジマ　ワカナ", "2020-08-30")],
            address="東京都世田谷区深沢五丁目19番27号　ルネ深沢901号室",
            phone="03-3581-6153",
        ),
        "yuuki": add_household(
            program,
            "100005",
            guardian=("岡本　勇気", "オカモト　ユウキ", "1994-10-06"),
            children=[("岡本　岳", "オカモト　ガク", "2019-04-21")],
            address="東京都世田谷区喜多見六丁目8番15号",
            phone="080-6422-1961",
        ),
        "yuki": add_household(
            program,
            "100006",
            guardian=("岡本　由紀", "オカモト　ユキ", "1991-04-23"),
            children=[("岡本　悠斗", "オカモト　ユウト", "2019-10-01")],
            address="東京都世田谷区等々力八丁目32番3号",
            phone="090-3413-5095",
        ),
        "brown": add_household(
            program,
            "100007",
            guardian=("ブラウン　ソフィア", "ブラウン　ソフィア", "1984-11-15"),
            children=[("ブラウン　エマ", "ブラウン　エマ", "2019-09-10")],
            address="東京都世田谷区祖師谷三丁目13番24号　サンクレスト祖師谷B棟1106号室",
            phone="03-6791-1395",
        ),
        "olivia": add_household(
            program,
            "100008",
            guardian=("ワン　オリヴィア", "ワン　オリヴィア", "1980-06-21"),
            children=[("ワン　ヴィオラ", "ワン　ヴィオラ", "2021-03-08")],
            address="東京都世田谷区奥沢五丁目7番22号",
            phone="070-4642-9698",
        ),
        "saito": add_household(
            program,
            "100009",
            guardian=("齊藤　麻美", "サイトウ　アサミ", "1984-01-19"),
            children=[("齊藤　結月", "サイトウ　ユヅキ", "2019-07-22")],
            address="東京都世田谷区桜上水三丁目26番20号",
            phone="070-8526-1741",
        ),
    }
    # Other households, so that frequencies look like a list's and not like a handful.
    for index in range(40):
        add_household(
            program,
            f"2{index:05d}",
            guardian=(
                f"山田　太郎{index}",
                "ヤマダ　タロウ",
                f"19{70 + index % 20}-0{1 + index % 9}-1{index % 9}",
            ),
            children=[(f"山田　花{index}", "ヤマダ　ハナ", f"2020-0{1 + index % 9}-2{index % 9}")],
            address=f"東京都世田谷区北沢{1 + index % 5}丁目{index + 1}番{index % 7 + 1}号",
            phone=f"090-9000-{index:04d}",
        )
    reindex_program(program.pk)
    return households


def post_search(client: Any, world: Any, **fields: str) -> Any:
    """The panel's search as htmx posts it, in the test world's program."""
    return client.post(
        reverse("identify:search"), {"program": world.program.code, **fields}, HTTP_HX_REQUEST="true"
    )
