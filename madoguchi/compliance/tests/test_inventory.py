"""The data inventory (R-01): every field classified, the check failing on an undeclared one,
the docs current, the API the end-of-program erasure is checked against."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from madoguchi.compliance import inventory
from madoguchi.compliance.inventory import AdditionalItem, Extra, Item, NotPersonal
from madoguchi.compliance.rendering import markdown
from madoguchi.programs.models import PersonalItem
from madoguchi.registry.models import Guardian

DOC = Path(__file__).resolve().parents[3] / "docs" / "data-inventory.md"


def without(label: str, field: str) -> dict[str, dict[str, inventory.Declaration]]:
    declared = {key: dict(value) for key, value in inventory.declarations().items()}
    del declared[label][field]
    return declared


def test_every_field_of_every_model_is_declared():
    assert inventory.problems() == []
    call_command("check")


def test_the_check_fails_on_an_undeclared_field(monkeypatch):
    declared = without("registry.Guardian", "phone")
    monkeypatch.setattr(inventory, "declarations", lambda: declared)
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    assert "compliance.E001" in str(caught.value)
    assert "registry.Guardian.phone" in str(caught.value)


def test_the_check_fails_on_a_declaration_of_no_field_and_an_extra_without_reason(monkeypatch):
    declared = {key: dict(value) for key, value in inventory.declarations().items()}
    declared["registry.Guardian"]["nickname"] = Item(PersonalItem.GUARDIAN_NAME)
    declared["registry.Guardian"]["phone"] = Extra(AdditionalItem.OTHER, reason=" ")
    monkeypatch.setattr(inventory, "declarations", lambda: declared)
    codes = {(problem.code, problem.label) for problem in inventory.problems()}
    assert ("E002", "registry.Guardian.nickname") in codes
    assert ("E003", "registry.Guardian.phone") in codes


def test_a_new_text_field_on_a_model_is_caught(monkeypatch):
    from django.db import models

    field = models.CharField(max_length=10, blank=True)
    field.set_attributes_from_name("nickname")
    original = inventory.classified_fields

    def with_new_field(model):
        names = original(model)
        return [*names, "nickname"] if model is Guardian else names

    monkeypatch.setattr(inventory, "classified_fields", with_new_field)
    assert [p.label for p in inventory.problems() if p.code == "E001"] == ["registry.Guardian.nickname"]


def test_personal_fields_name_model_field_and_item():
    fields = {(entry.model, entry.field, entry.item) for entry in inventory.personal_fields()}
    assert (Guardian, "phone", PersonalItem.PHONE.value) in fields
    assert (Guardian, "phone_digits", PersonalItem.PHONE.value) in fields
    from madoguchi.cases.models import Case

    assert (Case, "caller_relation", AdditionalItem.CALLER_RELATION.value) in fields
    assert (Case, "verification", AdditionalItem.IDENTITY_CHECK.value) in fields
    assert not any(entry.field == "status" for entry in inventory.personal_fields())
    # Every approved item is stored somewhere the erasure must reach.
    assert {item.value for item in PersonalItem} <= {entry.item for entry in inventory.personal_fields()}


def test_not_personal_is_not_listed():
    assert isinstance(inventory.declarations()["cases.Case"]["status"], NotPersonal)


def test_the_docs_are_current():
    assert DOC.read_text(encoding="utf-8") == markdown(), "run: madoguchi data-inventory --write"


def test_the_command_refuses_while_a_field_is_undeclared(monkeypatch):
    declared = without("cases.Case", "caller_name")
    monkeypatch.setattr(inventory, "declarations", lambda: declared)
    with pytest.raises(CommandError, match="申告のないデータ項目"):
        call_command("data_inventory")
