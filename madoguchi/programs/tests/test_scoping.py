"""The one scoping function (R-19, R-20; T-SEC-01, T-SEC-02): who reaches which program's records."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.forms.models import model_to_dict
from django.test import Client
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.cases.models import Case
from madoguchi.cases.testing import make_case, seed_categories
from madoguchi.core.request_context import request_memo_var
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import (
    can,
    field_access,
    member_programs,
    program_ids,
    programs_for,
    require,
    restrict,
)
from madoguchi.registry.models import Household, TargetListImport


def household_for(program, number="H-1"):
    imported = TargetListImport.objects.create(
        program=program, file_name="t.csv", sha256=number.ljust(64, "0"), status="applied", version=1
    )
    return Household.objects.create(
        program=program,
        number=number,
        address="東京都世田谷区太子堂1-2-3",
        address_key="x",
        content_hash="0",
        first_import=imported,
        last_import=imported,
    )


@pytest.mark.django_db
class RestrictTests:
    def test_each_user_reaches_only_their_programs_households(self, world):
        ours = household_for(world.program)
        theirs = household_for(world.other_program, "H-2")
        households = Household.objects.all()
        for persona in ["operator", "supervisor", "ward_staff", "ward_manager", "auditor"]:
            assert list(restrict(households, getattr(world, persona))) == [ours], persona
        assert list(restrict(households, world.outsider)) == [theirs]
        assert list(restrict(households, world.sysadmin)) == []

    def test_membership_without_the_organisation_reaches_nothing(self, world):
        household_for(world.program)
        world.program.members.add(world.outsider)  # a slip in the member list
        assert world.program not in programs_for(world.outsider)
        assert not restrict(Household.objects.all(), world.outsider).filter(program=world.program).exists()

    def test_an_action_the_role_may_not_do_reaches_nothing(self, world):
        household_for(world.program)
        assert not restrict(Household.objects.all(), world.operator, "export").exists()
        assert not restrict(Household.objects.all(), world.auditor, "edit").exists()
        assert restrict(Household.objects.all(), world.ward_manager, "export").exists()

    def test_program_ids_are_the_ids_of_programs_for_in_their_order(self, world):
        third = Program.objects.create(
            code="aaa-first",
            name="三つ目",
            ward=world.program.ward,
            contractor=world.program.contractor,
            recording_start=world.program.recording_start,
            recording_end=world.program.recording_end,
        )
        third.members.add(world.operator, world.ward_staff)
        world.other_program.members.add(world.operator)  # a member of another ward's program
        world.program.members.add(world.outsider)  # a member outside the organisation
        for persona in [
            "operator",
            "supervisor",
            "ward_staff",
            "ward_manager",
            "auditor",
            "outsider",
            "sysadmin",
        ]:
            user = getattr(world, persona)
            for action in ("view", "edit", "manage"):
                expected = list(programs_for(user, action).values_list("id", flat=True))
                assert program_ids(user, action) == expected, (persona, action)
        assert program_ids(world.operator) == [third.pk, world.program.pk]

    def test_member_programs_are_programs_for_in_code_order_field_by_field(self, world):
        third = Program.objects.create(
            code="aaa-first",
            name="三つ目",
            ward=world.program.ward,
            contractor=world.program.contractor,
            recording_start=world.program.recording_start,
            recording_end=world.program.recording_end,
        )
        third.members.add(world.operator)
        world.other_program.members.add(world.operator)  # a member of another ward's program
        world.program.members.add(world.outsider)  # a member outside the organisation
        for persona in ["operator", "ward_staff", "auditor", "outsider", "sysadmin"]:
            user = getattr(world, persona)
            for action in ("view", "identify", "manage"):
                expected = list(programs_for(user, action).order_by("code"))
                got = member_programs(user, action)
                assert got == expected, (persona, action)
                assert [model_to_dict(p) for p in got] == [model_to_dict(p) for p in expected]

    def test_member_programs_keep_their_ids_for_the_rest_of_the_request(
        self, world, django_assert_num_queries
    ):
        token = request_memo_var.set({})
        try:
            with django_assert_num_queries(1):
                programs = member_programs(world.operator, "identify")
                assert program_ids(world.operator, "view") == [program.pk for program in programs]
        finally:
            request_memo_var.reset(token)

    def test_today_is_looked_up_once_a_request_for_a_user_with_roster_dates(self, world, monkeypatch):
        world.operator.valid_until = datetime.date.today() + datetime.timedelta(days=1)
        asked = []
        real = timezone.localdate
        monkeypatch.setattr(timezone, "localdate", lambda *a, **k: asked.append(1) or real(*a, **k))
        token = request_memo_var.set({})
        try:
            assert all(can(world.operator, "view") for _ in range(20))
        finally:
            request_memo_var.reset(token)
        assert len(asked) == 1
        world.operator.valid_until = datetime.date.today() - datetime.timedelta(days=1)
        assert not can(world.operator, "view")  # outside a request: asked again, never kept

    def test_a_disabled_or_expired_user_reaches_nothing(self, world):
        household_for(world.program)
        world.operator.valid_until = datetime.date.today() - datetime.timedelta(days=1)
        assert not can(world.operator, "view")
        assert not restrict(Household.objects.all(), world.operator).exists()
        world.ward_staff.is_active = False
        assert not restrict(Household.objects.all(), world.ward_staff).exists()

    def test_require_refuses_a_role_that_may_never_do_it(self, world):
        with pytest.raises(PermissionDenied):
            require(world.operator, "manage")
        with pytest.raises(PermissionDenied):
            require(world.sysadmin, "view")
        require(world.ward_manager, "manage")


@pytest.mark.django_db
class FieldAccessTests:
    def test_operators_see_contact_items_masked_until_the_record_is_opened(self, world):
        assert field_access(world.operator, "guardian.name") == "full"
        assert field_access(world.operator, "child.dob") == "masked"
        assert field_access(world.operator, "household.address") == "masked"
        assert field_access(world.operator, "household.address", opened=True) == "full"

    def test_ward_staff_see_everything_and_the_sysadmin_nothing(self, world):
        assert field_access(world.ward_staff, "guardian.dob") == "full"
        assert field_access(world.sysadmin, "guardian.name") == "none"
        assert field_access(world.sysadmin, "guardian.dob", opened=True) == "none"

    def test_the_auditor_sees_contact_items_masked_even_when_opened(self, world):
        assert field_access(world.auditor, "guardian.phone", opened=True) == "masked"

    def test_every_role_has_a_row(self):
        from madoguchi.programs.scoping import FIELD_ACCESS

        assert set(FIELD_ACCESS) == set(Role)


@pytest.mark.django_db
class CrossOrganisationHttpTests:
    """Another organisation's case answers 404 to GET and POST, and nothing changes (T-SEC-01)."""

    def test_another_organisations_case_answers_404(self, world):
        seed_categories(world.program)
        case = make_case(world.program, world.operator)
        before = Case.objects.filter(pk=case.pk).values().get()
        client = Client()
        login(client, world.outsider)
        for path in [f"/cases/{case.public_id}/"]:
            assert client.get(path).status_code == 404, path
        for path in ["note", "transition", "escalate", "assign", "edit"]:
            response = client.post(f"/cases/{case.public_id}/{path}/", {"text": "x", "status": "closed"})
            assert response.status_code == 404, path
        # An action the role may never do is refused before any lookup: the same answer for a
        # real case of another organisation and for an id that does not exist.
        real = client.post(f"/cases/{case.public_id}/answer/", {"text": "x"}).status_code
        made_up = client.post(
            "/cases/00000000-0000-4000-8000-000000000000/answer/", {"text": "x"}
        ).status_code
        assert real == made_up == 403
        assert Case.objects.filter(pk=case.pk).values().get() == before
