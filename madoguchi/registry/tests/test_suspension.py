"""Suspension of use (APPI): not offered by identification, not attachable to a new case."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases.models import Case
from madoguchi.cases.testing import make_case
from madoguchi.conftest import make_user
from madoguchi.identify.engine import Query, identify
from madoguchi.identify.services import create_api_token
from madoguchi.identify.tests.helpers import standard_list
from madoguchi.registry.models import Household
from madoguchi.registry.suspension import SuspensionRefused, lift_suspension, suspend_household

pytestmark = pytest.mark.django_db

TANAKA = Query(guardian_name="田中 花子", child_dob="R2.5.3", phone="090-1234-5678")


@pytest.fixture
def tanaka(world):
    return standard_list(world.program)["tanaka"]


def offered(world, household) -> bool:
    return household.pk in [c.household_id for c in identify(world.program.pk, TANAKA).candidates]


class SuspensionServiceTests:
    def test_a_suspended_household_is_not_offered_until_lifted_and_both_are_audited(self, world, tanaka):
        assert offered(world, tanaka)
        suspend_household(household=tanaka, actor=world.ward_manager, reason="本人からの利用停止請求")
        assert not offered(world, tanaka)
        event = AuditEvent.objects.filter(action=Action.UPDATE, object_type="household").latest("seq")
        assert event.details["suspension"] == "suspended"
        assert "利用停止請求" not in json.dumps(event.details, ensure_ascii=False)
        lift_suspension(
            household=Household.objects.get(pk=tanaka.pk), actor=world.ward_manager, reason="撤回"
        )
        assert offered(world, tanaka)
        lifted = AuditEvent.objects.filter(action=Action.UPDATE, object_type="household").latest("seq")
        assert lifted.details["suspension"] == "lifted" and lifted.seq > event.seq

    def test_it_cannot_be_attached_to_a_new_case(self, world, tanaka):
        suspend_household(household=tanaka, actor=world.ward_manager, reason="請求")
        tanaka.refresh_from_db()
        with pytest.raises(ValidationError):
            make_case(world.program, world.operator, household=tanaka)
        assert not Case.objects.exists()

    def test_a_case_cannot_be_moved_to_it_but_its_old_cases_stay_editable(self, world, tanaka):
        from madoguchi.cases import services
        from madoguchi.cases.identification import link_household

        old = make_case(world.program, world.operator, household=tanaka)
        other = make_case(world.program, world.operator)
        suspend_household(household=tanaka, actor=world.ward_manager, reason="請求")
        tanaka.refresh_from_db()
        with pytest.raises(ValidationError):
            # Identify later: linking the unidentified case to the suspended household.
            link_household(
                case=other,
                actor=world.operator,
                household=tanaka,
                verified_items=["name", "dob"],
                expected_version=other.version,
            )
        old.refresh_from_db()
        services.update_case(
            case=old, actor=world.operator, expected_version=old.version, changes={"response": "済"}
        )

    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "auditor"])
    def test_only_the_ward_manager_may_suspend(self, world, tanaka, persona):
        with pytest.raises(SuspensionRefused):
            suspend_household(household=tanaka, actor=getattr(world, persona), reason="x")
        assert not Household.objects.get(pk=tanaka.pk).is_suspended

    def test_a_reason_is_required(self, world, tanaka):
        with pytest.raises(ValidationError):
            suspend_household(household=tanaka, actor=world.ward_manager, reason=" ")
        assert not Household.objects.get(pk=tanaka.pk).is_suspended


class SuspensionIdentifyTests:
    def test_the_panel_does_not_offer_it_and_confirm_refuses_it(self, client, world, tanaka):
        suspend_household(household=tanaka, actor=world.ward_manager, reason="請求")
        login(client, world.operator)
        results = client.post(
            reverse("identify:search"),
            {"program": world.program.code, "guardian_name": "田中 花子", "child_dob": "R2.5.3"},
            HTTP_HX_REQUEST="true",
        )
        assert str(tanaka.public_id) not in results.content.decode()
        confirm = client.post(
            reverse("identify:confirm"),
            {"program": world.program.code, "household": str(tanaka.public_id), "items": ["name"]},
        )
        assert "利用停止中" in confirm.content.decode()
        assert 'name="household"' not in confirm.content.decode()

    def test_the_screen_pop_api_does_not_offer_it(self, client, world, tanaka):
        _token, secret = create_api_token(
            organisation=world.contractor, name="PBX", created_by=world.supervisor
        )
        suspend_household(household=tanaka, actor=world.ward_manager, reason="請求")
        response = client.post(
            "/identify/api/screen-pop",
            json.dumps({"program": world.program.code, "caller_number": "090-1234-5678"}),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )
        assert response.status_code == 200
        assert str(tanaka.public_id) not in response.content.decode()


class HouseholdPageTests:
    def test_the_ward_manager_finds_it_by_number_suspends_and_lifts(self, client, world, tanaka):
        login(client, world.ward_manager)
        found = client.post(
            reverse("registry:households"), {"program": world.program.code, "number": tanaka.number}
        )
        url = reverse("registry:household", args=[tanaka.public_id])
        assert found["Location"] == url
        page = client.get(url)
        assert page.status_code == 200 and tanaka.number in page.content.decode()
        assert reverse("ledger:disclosure", args=[tanaka.public_id]) in page.content.decode()
        assert AuditEvent.objects.filter(action=Action.VIEW, object_id=str(tanaka.public_id)).exists()
        refused = client.post(reverse("registry:household_suspend", args=[tanaka.public_id]), {"reason": ""})
        assert refused.status_code == 400 and not Household.objects.get(pk=tanaka.pk).is_suspended
        client.post(reverse("registry:household_suspend", args=[tanaka.public_id]), {"reason": "請求"})
        assert Household.objects.get(pk=tanaka.pk).is_suspended
        assert "data-suspended" in client.get(url).content.decode()
        client.post(reverse("registry:household_lift", args=[tanaka.public_id]), {"reason": ""})
        assert not Household.objects.get(pk=tanaka.pk).is_suspended

    def test_an_unknown_number_says_so(self, client, world, tanaka):
        login(client, world.ward_manager)
        response = client.post(
            reverse("registry:households"), {"program": world.program.code, "number": "NOPE"}
        )
        assert response.status_code == 404 and "ありません" in response.content.decode()

    def test_an_operator_gets_403_and_another_wards_manager_404(self, client, world, tanaka):
        url = reverse("registry:household_suspend", args=[tanaka.public_id])
        login(client, world.operator)
        assert client.post(url, {"reason": "x"}).status_code == 403
        other = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        login(client, other)
        assert client.post(url, {"reason": "x"}).status_code == 404
        assert client.get(reverse("registry:household", args=[tanaka.public_id])).status_code == 404
        assert not Household.objects.get(pk=tanaka.pk).is_suspended
