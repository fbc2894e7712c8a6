"""Test helpers for cases (used by other apps' tests too)."""

from __future__ import annotations

from typing import Any

from madoguchi.cases.models import Case, Category, Channel
from madoguchi.cases.services import CallerDetails, create_case, ensure_default_categories
from madoguchi.programs.models import Program


def seed_categories(program: Program) -> dict[str, Category]:
    return {category.name: category for category in ensure_default_categories(program=program)}


def make_case(program: Program, actor: Any, inquiry: str = "カタログが届きません。", **kwargs: Any) -> Case:
    kwargs.setdefault("channel", Channel.PHONE)
    kwargs.setdefault("caller", CallerDetails(name="試験 花子"))
    return create_case(program=program, actor=actor, inquiry=inquiry, **kwargs)
