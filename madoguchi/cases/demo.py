"""Demo content for cases: a few ward-approved standard answers (回答例), synthetic text only."""

from __future__ import annotations

from typing import Any

from madoguchi.cases.models import Category, StandardAnswer
from madoguchi.cases.services import save_standard_answer
from madoguchi.programs.models import Program

DEMO_ANSWERS: list[tuple[str, str, str]] = [
    (
        "対象要件",
        "対象となる方",
        "令和元年4月2日から令和4年4月1日までに生まれたお子さんの保護者の方が対象です。"
        "対象の方には区からご案内をお送りしています。",
    ),
    (
        "申請方法",
        "申請の方法",
        "同封の申請書に記入して返信用封筒でお送りいただくか、案内に記載のウェブサイトから申請できます。",
    ),
    ("商品・カタログ", "カタログの内容", "カタログに掲載の商品から、ポイントの範囲内でお選びいただけます。"),
    (
        "配送・到着",
        "配送の目安",
        "お申し込みから2週間ほどでお届けします。配送状況は確認のうえ折り返しご連絡します。",
    ),
    ("不具合・返品", "不具合があった場合", "商品到着後7日以内にご連絡ください。交換の手配をいたします。"),
    (
        "書類が届かない",
        "案内が届かない場合",
        "住所を確認のうえ、案内を再送します。転居された場合は区へ住所の確認をお願いしています。",
    ),
]


def seed_standard_answers(*, program: Program, actor: Any) -> int:
    """Add the demo answers once (nothing when the program already has answers)."""
    if actor is None or StandardAnswer.objects.filter(program=program).exists():
        return 0
    categories = {category.name: category for category in Category.objects.filter(program=program)}
    for category_name, title, body in DEMO_ANSWERS:
        save_standard_answer(
            program=program, actor=actor, title=title, body=body, category=categories.get(category_name)
        )
    return len(DEMO_ANSWERS)
