from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache

from madoguchi.cases.models import Category

VALID: dict[str, str] = {
    "guardian_name": "試験 花子",
    "guardian_kana": "しけん はなこ",
    "child_name": "試験 太郎",
    "child_dob": "令和2年5月3日",
    "phone": "０９０－１２３４－５６７８",
    "email": "hanako@example.jp",
    "category": "",
    "message": "申請書が届いていません。",
    "consent": "on",
    "website": "",
}


def form_data(**changes: Any) -> dict[str, str]:
    data = dict(VALID)
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The rate limit counts in the cache; each test starts with a clean slate.
    cache.clear()


@pytest.fixture
def categories(world: Any) -> list[Category]:
    return [
        Category.objects.create(program=world.program, name="申請について", order=1),
        Category.objects.create(program=world.program, name="支給日について", order=2),
        Category.objects.create(program=world.program, name="廃止した分類", order=3, is_active=False),
    ]
