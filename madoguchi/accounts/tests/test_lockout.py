from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.accounts.services import is_locked, unlock
from madoguchi.accounts.testing import PERSONA_PASSWORD, totp_device
from madoguchi.audit.models import Action, AuditEvent

LOGIN = "/accounts/login/"
SAME_MESSAGE = "ユーザー名またはパスワードが正しくありません。"


def attempt(username, password="wrong-password-123", address="127.0.0.1"):  # noqa: S107
    return Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password})


@pytest.mark.django_db
class LockoutTests:
    def test_an_unknown_user_and_a_wrong_password_get_the_same_answer(self, world):
        unknown = attempt("no-such-person")
        wrong = attempt("operator")
        assert unknown.status_code == wrong.status_code == 200
        assert SAME_MESSAGE in unknown.content.decode()
        assert SAME_MESSAGE in wrong.content.decode()

    def test_five_failures_lock_the_user_name_even_from_rotating_addresses(self, world):
        for address in ["127.0.0.1", "::1", "127.0.0.1", "::1", "127.0.0.1"]:
            attempt("operator", address=address)
        response = attempt("operator", password=PERSONA_PASSWORD, address="::1")
        assert response.status_code == 429
        assert "試行回数の上限" in response.content.decode()
        assert is_locked(world.operator)
        assert AuditEvent.objects.filter(action=Action.LOCKOUT, actor_id=world.operator.pk).exists()

    def test_four_failures_do_not_lock(self, world):
        totp_device(world.operator)
        for _ in range(4):
            attempt("operator")
        assert attempt("operator", password=PERSONA_PASSWORD).status_code == 302

    def test_failures_are_audited_without_the_typed_name_of_a_non_user(self, world):
        attempt("operator")
        attempt("tanaka-typo-name")
        events = list(AuditEvent.objects.filter(action=Action.LOGIN_FAILED))
        assert len(events) == 2
        assert events[0].actor_id == world.operator.pk
        assert events[1].actor_id is None
        assert all("tanaka-typo-name" not in str(vars(event)) for event in events)
        assert all("wrong-password" not in str(vars(event)) for event in events)

    def test_a_supervisor_unlocks_their_operator_and_it_is_audited(self, world):
        for _ in range(5):
            attempt("operator")
        assert is_locked(world.operator)
        unlock(actor=world.supervisor, user=world.operator)
        assert not is_locked(world.operator)
        assert AuditEvent.objects.filter(
            action=Action.UNLOCK, actor_id=world.supervisor.pk, object_id=str(world.operator.pk)
        ).exists()
        totp_device(world.operator)
        assert attempt("operator", password=PERSONA_PASSWORD).status_code == 302

    def test_a_supervisor_cannot_unlock_someone_of_another_contractor(self, world):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            unlock(actor=world.supervisor, user=world.outsider)
        with pytest.raises(PermissionDenied):
            unlock(actor=world.operator, user=world.supervisor)

    def test_an_address_with_many_failures_is_slowed_down(self, world):
        for index in range(30):
            attempt(f"guess-{index}", address="::1")
        assert attempt("operator", password=PERSONA_PASSWORD, address="::1").status_code == 429
        # Another address of the same office is unaffected.
        totp_device(world.operator)
        assert attempt("operator", password=PERSONA_PASSWORD, address="127.0.0.1").status_code == 302

    def test_the_lockout_records_the_socket_address_not_a_spoofed_header(self, world):
        from axes.models import AccessAttempt

        Client(REMOTE_ADDR="127.0.0.1").post(
            LOGIN, {"username": "operator", "password": "nope-nope-nope"}, HTTP_X_FORWARDED_FOR="192.0.2.77"
        )
        assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["127.0.0.1"]
        assert AuditEvent.objects.get(action=Action.LOGIN_FAILED).client_ip == "127.0.0.1"

    def test_a_nul_byte_in_the_user_name_is_a_form_error_not_a_crash(self, world):
        response = attempt("oper\x00ator")
        assert response.status_code == 200
        assert not AuditEvent.objects.filter(action=Action.LOGIN_FAILED).exists()

    def test_a_forged_log_line_in_the_user_name_stays_on_one_line(self, world, canary_logs):
        attempt("x\r\nFAKE LOG ENTRY user=admin")
        assert not any(
            line.startswith("FAKE LOG ENTRY") for entry in canary_logs.lines for line in entry.splitlines()
        )
        assert not any("FAKE LOG ENTRY" in line for line in canary_logs.lines)
