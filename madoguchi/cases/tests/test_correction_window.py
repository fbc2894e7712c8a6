"""The correction window after the recording period: one service, the screen and the command."""

from __future__ import annotations

import datetime
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.models import Role
from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditChange, AuditEvent
from madoguchi.cases import program_settings, services
from madoguchi.cases.testing import make_case
from madoguchi.cases.tests.test_recording_period import close_period
from madoguchi.conftest import make_user


def window_events():
    return AuditEvent.objects.filter(object_type="program", action="settings_change").order_by("seq")


def run(*args: str) -> str:
    out = StringIO()
    call_command("cases_correction_window", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
class CorrectionWindowScreenTests:
    def test_a_ward_manager_allows_a_correction_with_a_reason_which_is_audited(self, client, world):
        case = make_case(world.program, world.operator)
        close_period(world.program)
        login(client, world.ward_manager)
        until = timezone.localtime() + datetime.timedelta(days=2)
        response = client.post(
            reverse("cases:correction_window", args=[world.program.code]),
            {"until": until.strftime("%Y-%m-%dT%H:%M"), "reason": "区の確認で住所の誤記が判明したため"},
        )
        assert response.status_code == 302
        event = window_events().get()
        assert event.details == {"fields": ["correction_allowed_until"], "via": "screen"}
        change = AuditChange.objects.get(event=event)
        assert change.before == {"correction_allowed_until": None}
        assert (
            change.after["correction_allowed_until"]
            and change.after["reason"] == "区の確認で住所の誤記が判明したため"
        )
        world.program.refresh_from_db()
        services.update_case(
            case=case, actor=world.operator, expected_version=1, changes={"response": "訂正"}
        )
        case.refresh_from_db()
        assert case.response == "訂正"

    def test_the_reason_and_a_future_time_are_required_next_to_their_fields(self, client, world):
        login(client, world.ward_manager)
        url = reverse("cases:correction_window", args=[world.program.code])
        past = timezone.localtime() - datetime.timedelta(hours=1)
        response = client.post(url, {"until": past.strftime("%Y-%m-%dT%H:%M"), "reason": ""})
        assert response.status_code == 400
        assert response.context["form"].errors == {
            "until": ["期限には現在より後の日時を指定してください。"],
            "reason": ["訂正を許可する理由を入力してください。"],
        }
        assert 'id="id_reason_error"' in response.content.decode()
        assert not window_events().exists()

    def test_others_are_refused_and_another_wards_program_is_not_found(self, client, world):
        url = reverse("cases:correction_window", args=[world.program.code])
        for persona in (world.operator, world.supervisor, world.ward_staff, world.auditor):
            login(client, persona)
            assert client.get(url).status_code == 403
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        login(client, other_manager)
        assert client.get(url).status_code == 404
        assert client.post(url, {"until": "", "reason": ""}).status_code == 404
        assert not window_events().exists()

    def test_the_service_refuses_anyone_but_the_wards_manager(self, world):
        until = timezone.now() + datetime.timedelta(days=1)
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        # A manager of another ward, even when made a member of this program by mistake.
        world.program.members.add(other_manager)
        for persona in (world.ward_staff, world.operator, world.auditor, other_manager, None):
            with pytest.raises(program_settings.SettingsRefused):
                program_settings.allow_correction(
                    program=world.program, actor=persona, until=until, reason="x"
                )
        world.program.refresh_from_db()
        assert world.program.correction_allowed_until is None


@pytest.mark.django_db
class CorrectionWindowCommandTests:
    def test_the_command_opens_the_window_through_the_same_service_and_audit(self, world):
        case = make_case(world.program, world.operator)
        close_period(world.program)
        day = timezone.localdate() + datetime.timedelta(days=3)
        out = run(
            "--program", world.program.code, "--until", day.isoformat(),
            "--reason", "区からの依頼で訂正", "--as", world.ward_manager.username,
        )  # fmt: skip
        assert "まで許可しました" in out and day.isoformat() in out
        world.program.refresh_from_db()
        until = timezone.localtime(world.program.correction_allowed_until)
        assert (until.date(), until.hour, until.minute) == (day, 23, 59)
        event = window_events().get()
        assert (event.actor_username, event.actor_role) == (world.ward_manager.username, Role.WARD_MANAGER)
        assert event.details == {"fields": ["correction_allowed_until"], "via": "command"}
        after = AuditChange.objects.get(event=event).after
        assert after["reason"] == "区からの依頼で訂正"
        assert datetime.datetime.fromisoformat(after["correction_allowed_until"]) == until
        services.add_note(case=case, actor=world.operator, body="期間後の訂正")

    def test_the_command_closes_the_window(self, world):
        close_period(world.program)
        code = world.program.code
        run("--program", code, "--until", "2099-06-30T17:00", "--reason", "訂正", "--as", "manager")
        out = run("--program", code, "--close", "--as", "manager")
        assert "取り消しました" in out
        world.program.refresh_from_db()
        assert world.program.correction_allowed_until is None
        assert not world.program.is_recording_open()
        with pytest.raises(services.RecordingClosed):
            make_case(world.program, world.operator)
        last = window_events().last()
        assert AuditChange.objects.get(event=last).after == {"correction_allowed_until": None, "reason": ""}

    def test_the_command_refuses_anyone_but_a_ward_manager_of_the_program(self, world):
        other_manager = make_user("other-manager", Role.WARD_MANAGER, world.other_ward, world.other_program)
        for persona in (world.operator, world.supervisor, world.ward_staff, world.auditor, other_manager):
            with pytest.raises(CommandError, match="区管理者だけです"):
                run("--program", world.program.code, "--until", "2099-01-01", "--reason", "x",
                    "--as", persona.username)  # fmt: skip
        assert not window_events().exists()

    def test_the_command_explains_what_is_wrong_in_japanese(self, world):
        code = world.program.code
        cases = [
            (["--program", "nope", "--close", "--as", "manager"], "事業コード「nope」の事業はありません"),
            (["--program", code, "--close", "--as", "nobody"], "利用者「nobody」はいません"),
            (["--program", code, "--until", "30/06/2099", "--as", "manager"], "--until は"),
            (["--program", code, "--until", "2099-06-31", "--as", "manager"], "--until は"),
            (["--program", code, "--until", "2099-06-30", "--as", "manager"], "理由を入力"),
            (["--program", code, "--until", "2001-06-30", "--reason", "x", "--as", "manager"], "現在より後"),
        ]
        for args, message in cases:
            with pytest.raises(CommandError, match=message):
                run(*args)
        assert not window_events().exists()
