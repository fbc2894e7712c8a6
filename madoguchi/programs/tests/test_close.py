"""Ending recording early: the ward manager's screen and `madoguchi lifecycle close`."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.cases import services as case_services
from madoguchi.cases.testing import make_case
from madoguchi.conftest import make_user
from madoguchi.programs.models import Program
from madoguchi.programs.recording import RecordingClosed, require_recording_open
from madoguchi.programs.services import ProgramRefused, close_recording

pytestmark = pytest.mark.django_db


def lifecycle(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("lifecycle", *args, stdout=out, stderr=err)
    except SystemExit as exit_:
        return int(exit_.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


class CloseServiceTests:
    def test_it_ends_recording_now_with_a_reason_and_is_audited(self, world):
        close_recording(program=world.program, actor=world.ward_manager, reason="事業の前倒し終了")
        program = Program.objects.get(pk=world.program.pk)
        assert program.recording_closed_at is not None
        assert program.recording_closed_by == world.ward_manager
        assert not program.is_recording_open()
        with pytest.raises(RecordingClosed):
            require_recording_open(program)
        event = AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE).latest("seq")
        assert event.object_type == "program" and "recording_closed_at" in event.details["fields"]
        assert "事業の前倒し終了" not in str(event.details)

    def test_every_case_write_is_then_refused(self, world):
        case = make_case(world.program, world.operator)
        close_recording(program=world.program, actor=world.ward_manager, reason="終了")
        case.program.refresh_from_db()
        with pytest.raises(case_services.RecordingClosed):
            case_services.add_note(case=case, actor=world.operator, body="x")

    def test_a_correction_window_opened_after_the_close_still_works(self, world):
        from madoguchi.cases.program_settings import allow_correction

        close_recording(program=world.program, actor=world.ward_manager, reason="終了")
        allow_correction(
            program=world.program,
            actor=world.ward_manager,
            until=timezone.now() + datetime.timedelta(days=2),
            reason="訂正",
        )
        require_recording_open(Program.objects.get(pk=world.program.pk))

    def test_a_window_open_before_the_close_is_closed_with_it(self, world):
        world.program.correction_allowed_until = timezone.now() + datetime.timedelta(days=2)
        world.program.save()
        close_recording(program=world.program, actor=world.ward_manager, reason="終了")
        assert not Program.objects.get(pk=world.program.pk).is_recording_open()

    @pytest.mark.parametrize("persona", ["operator", "supervisor", "ward_staff", "auditor", "sysadmin"])
    def test_other_roles_are_refused(self, world, persona):
        with pytest.raises(ProgramRefused):
            close_recording(program=world.program, actor=getattr(world, persona), reason="x")
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_a_blank_reason_is_refused(self, world):
        from django.core.exceptions import ValidationError

        with pytest.raises(ValidationError):
            close_recording(program=world.program, actor=world.ward_manager, reason="  ")
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None


class CloseCommandTests:
    def test_it_closes_and_says_so_in_japanese(self, world):
        code, out, _err = lifecycle(
            "close",
            "--program",
            world.program.code,
            "--reason",
            "予算の終了",
            "--as",
            world.ward_manager.username,
        )
        assert code == 0
        assert "記録を" in out and "終了しました" in out
        assert not Program.objects.get(pk=world.program.pk).is_recording_open()
        assert AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, details__via="command").exists()

    def test_an_operator_is_refused_with_a_non_zero_exit(self, world):
        code, _out, err = lifecycle(
            "close", "--program", world.program.code, "--reason", "x", "--as", world.operator.username
        )
        assert code != 0 and "区管理者" in err
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_another_wards_manager_is_refused(self, world):
        other = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        code, _out, err = lifecycle(
            "close", "--program", world.program.code, "--reason", "x", "--as", other.username
        )
        assert code != 0 and err
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_closing_twice_is_refused(self, world):
        args = (
            "close",
            "--program",
            world.program.code,
            "--reason",
            "x",
            "--as",
            world.ward_manager.username,
        )
        assert lifecycle(*args)[0] == 0
        code, _out, err = lifecycle(*args)
        assert code != 0 and "すでに終了" in err

    def test_an_unknown_program_is_refused(self, world):
        code, _out, err = lifecycle("close", "--program", "nope", "--reason", "x", "--as", "manager")
        assert code != 0 and "nope" in err


class CloseScreenTests:
    def url(self, world):
        return reverse("programs:close", args=[world.program.code])

    def test_the_ward_manager_closes_and_every_screen_then_says_so(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.ward_manager)
        assert client.get(self.url(world)).status_code == 200
        response = client.post(self.url(world), {"reason": "事業の終了", "confirm": "on"})
        assert response.status_code == 302
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is not None
        page = client.get(self.url(world)).content.decode()
        assert "繰上げ終了" in page
        detail = client.get(reverse("cases:detail", args=[case.public_id])).content.decode()
        assert "data-recording-ended" in detail and "繰上げ終了" in detail

    def test_without_a_reason_nothing_changes(self, client, world):
        login(client, world.ward_manager)
        response = client.post(self.url(world), {"reason": "", "confirm": "on"})
        assert response.status_code == 400
        assert "理由を入力" in response.content.decode()
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_an_operator_gets_403(self, client, world):
        login(client, world.operator)
        assert client.post(self.url(world), {"reason": "x", "confirm": "on"}).status_code == 403
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_another_wards_manager_gets_404(self, client, world):
        other = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        login(client, other)
        assert client.post(self.url(world), {"reason": "x", "confirm": "on"}).status_code == 404
        assert Program.objects.get(pk=world.program.pk).recording_closed_at is None

    def test_the_nav_offers_it_to_the_ward_manager_only(self, client, world):
        login(client, world.ward_manager)
        assert reverse("programs:index") in client.get(reverse("cases:list")).content.decode()
        assert client.get(reverse("programs:index"))["Location"] == self.url(world)
        login(client, world.operator)
        assert reverse("programs:index") not in client.get(reverse("cases:list")).content.decode()
        assert client.get(reverse("programs:index")).status_code == 403

    def test_a_manager_of_several_programs_chooses_one(self, client, world):
        from madoguchi.programs.models import Program as ProgramModel

        second = ProgramModel.objects.create(
            code="second",
            name="第二事業",
            ward=world.ward,
            recording_start=world.program.recording_start,
            recording_end=world.program.recording_end,
        )
        second.members.add(world.ward_manager)
        login(client, world.ward_manager)
        page = client.get(reverse("programs:index")).content.decode()
        assert self.url(world) in page and reverse("programs:close", args=["second"]) in page
