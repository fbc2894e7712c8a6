from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.test import Client

from madoguchi.cases.models import Category
from madoguchi.public.selectors import forget_programs
from madoguchi.public.sessions import store_class

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


def public_session(client: Client) -> SessionBase:
    """The resident's session of this test client (its own cookie and store, not `client.session`)."""
    cookie = client.cookies.get(settings.PUBLIC_SESSION_COOKIE_NAME)
    return store_class()(cookie.value if cookie else None)


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> None:
    # The rate limit counts in the cache; each test starts with a clean slate.
    cache.clear()
    # Programs are kept per process for a few seconds; each test sees its own.
    forget_programs()


@pytest.fixture
def categories(world: Any) -> list[Category]:
    return [
        Category.objects.create(program=world.program, name="申請について", order=1),
        Category.objects.create(program=world.program, name="支給日について", order=2),
        Category.objects.create(program=world.program, name="廃止した分類", order=3, is_active=False),
    ]
