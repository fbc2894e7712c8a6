"""The audit screens in words an inspector reads: Japanese sentences, objects by their numbers."""

from __future__ import annotations

import importlib

from django.apps import apps
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.audit.describe import details_sentence
from madoguchi.audit.models import Action, ObjectAlias
from madoguchi.audit.services import record
from madoguchi.cases.testing import make_case
from madoguchi.identify.tests.helpers import add_household

GUARDIAN = ("試験 花子", "シケン ハナコ", "1990-01-01")

map_household_keys = importlib.import_module(
    "madoguchi.audit.migrations.0004_map_household_keys_to_public_ids"
).map_household_keys


class DetailSentenceTests:
    def test_field_names_and_flags_read_as_japanese(self, db):
        sentence = details_sentence({"fields": ["status"], "text_search": False, "count": 1200})
        assert sentence == "対象の項目：状態。本文検索：なし。件数：1,200件。"

    def test_approved_items_are_named_by_their_labels(self, db):
        sentence = details_sentence({"fields": ["guardian.name", "guardian.phone"], "via": "identify"})
        assert sentence == "対象の項目：保護者氏名、電話番号。経路：本人特定画面。"

    def test_the_item_the_identify_panel_asked_for_is_named_by_its_label(self, db):
        details = {"fields": ["guardian_name", "phone"], "abstained": True, "follow_up": "child_dob"}
        assert details_sentence(details) == (
            "対象の項目：保護者氏名、電話番号。候補を示さなかった：あり。追加で確認を求めた項目：児童生年月日。"
        )

    def test_an_unknown_key_is_said_to_be_other(self, db):
        assert details_sentence({"frobnicate": 3}) == "その他（frobnicate）：3。"


class EventScreenTests:
    def test_objects_are_named_by_receipt_and_household_number_with_the_public_id_beside(self, client, world):
        case = make_case(world.program, world.operator)
        household = add_household(world.program, "H-0042", guardian=GUARDIAN, children=[])
        record(
            action=Action.VIEW,
            actor=world.operator,
            program_id=world.program.pk,
            object_type="household",
            object_id=str(household.public_id),
            details={"fields": ["guardian.name"], "via": "identify"},
        )
        login(client, world.ward_manager)
        html = client.get(reverse("audit:events")).content.decode()
        assert f"受付番号 {case.receipt_number}" in html
        assert "世帯番号 H-0042" in html
        assert str(household.public_id) in html
        # PostgreSQL (jsonb) keeps the keys in its own order: each part is checked on its own.
        assert "対象の項目：保護者氏名。" in html and "経路：本人特定画面。" in html
        assert "case:" not in html
        assert "fields=" not in html and "via=" not in html


class OneIdentifierPerHouseholdTests:
    def test_a_filter_by_public_id_finds_events_recorded_under_the_database_key(self, client, world):
        household = add_household(world.program, "H-0043", guardian=GUARDIAN, children=[])
        for object_id in (str(household.pk), str(household.public_id)):
            record(
                action=Action.VIEW,
                actor=world.operator,
                program_id=world.program.pk,
                object_type="household",
                object_id=object_id,
            )
        map_household_keys(apps, None)
        assert ObjectAlias.objects.filter(
            alias_id=str(household.pk), object_id=str(household.public_id)
        ).exists()
        login(client, world.ward_manager)
        for given in (str(household.public_id), str(household.pk)):
            response = client.get(reverse("audit:events"), {"object_type": "household", "object_id": given})
            html = response.content.decode()
            assert html.count("世帯番号 H-0043") == 2, given
