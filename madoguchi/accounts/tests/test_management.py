"""The ward manager's and supervisor's account screens (R-08, R-11, R-17, R-40; T-SEC-01..03)."""

from __future__ import annotations

import pytest
from django.test import Client

from madoguchi.accounts.models import AllowedNetwork, Role, User
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent


def client_for(user):
    client = Client()
    login(client, user)
    return client


@pytest.mark.django_db
class UserScreenTests:
    def test_the_manager_sees_the_ward_and_its_contractors_users_only(self, world):
        response = client_for(world.ward_manager).get("/accounts/users/")
        assert response.status_code == 200
        shown = {user.username for user in response.context["users"]}
        assert {"operator", "supervisor", "ward", "auditor", "sysadmin"} <= shown
        assert "outsider" not in shown and "other-op" not in shown

    def test_a_supervisor_sees_only_their_operators(self, world):
        response = client_for(world.supervisor).get("/accounts/users/")
        assert {user.username for user in response.context["users"]} == {"operator"}

    @pytest.mark.parametrize("persona", ["operator", "ward_staff", "auditor", "sysadmin"])
    def test_other_roles_are_refused_and_it_is_audited(self, world, persona):
        client = client_for(getattr(world, persona))
        for method, path in [
            ("get", "/accounts/users/"),
            ("get", "/accounts/users/new/"),
            ("post", f"/accounts/users/{world.operator.pk}/disable/"),
            ("post", "/accounts/contractor-access/"),
            ("get", "/accounts/allowlist/"),
        ]:
            assert (
                getattr(client, method)(path, {"suspend": "1"} if method == "post" else None).status_code
                == 403
            )
        assert AuditEvent.objects.filter(
            action=Action.PERMISSION_DENIED, actor_id=getattr(world, persona).pk
        ).exists()
        world.operator.refresh_from_db()
        assert world.operator.is_active
        world.contractor.refresh_from_db()
        assert not world.contractor.access_suspended

    def test_another_organisations_user_answers_404(self, world):
        client = client_for(world.ward_manager)
        for action in ["disable", "unlock", "reset-2fa", "role"]:
            assert (
                client.post(
                    f"/accounts/users/{world.outsider.pk}/{action}/", {"role": "supervisor"}
                ).status_code
                == 404
            )
        world.outsider.refresh_from_db()
        assert world.outsider.is_active and world.outsider.role == Role.OPERATOR

    def test_a_role_change_is_audited_and_ends_the_users_sessions(self, world):
        operator = client_for(world.operator)
        response = client_for(world.ward_manager).post(
            f"/accounts/users/{world.operator.pk}/role/", {"role": "supervisor"}
        )
        assert response.status_code == 302
        world.operator.refresh_from_db()
        assert world.operator.role == Role.SUPERVISOR
        event = AuditEvent.objects.get(action=Action.ROLE_CHANGE)
        assert event.actor_id == world.ward_manager.pk
        assert event.object_id == str(world.operator.pk)
        assert event.details["from"] == "operator" and event.details["to"] == "supervisor"
        assert operator.get("/").status_code == 302

    def test_a_ward_role_cannot_be_given_to_a_contractor_user(self, world):
        client_for(world.ward_manager).post(
            f"/accounts/users/{world.operator.pk}/role/", {"role": "ward_manager"}
        )
        world.operator.refresh_from_db()
        assert world.operator.role == Role.OPERATOR

    def test_the_manager_cannot_change_their_own_account(self, world):
        client = client_for(world.ward_manager)
        assert client.post(f"/accounts/users/{world.ward_manager.pk}/disable/").status_code == 403
        world.ward_manager.refresh_from_db()
        assert world.ward_manager.is_active

    def test_creating_a_user_binds_only_the_listed_fields(self, world):
        response = client_for(world.ward_manager).post(
            "/accounts/users/new/",
            {
                "username": "new-operator",
                "display_name": "新しい オペレーター",
                "organisation": world.contractor.pk,
                "role": "operator",
                "programs": [world.program.pk],
                "is_staff": "on",
                "is_superuser": "on",
                "password": "chosen-by-attacker-123",
            },
        )
        assert response.status_code == 200
        user = User.objects.get(username="new-operator")
        assert not user.is_staff and not user.is_superuser
        assert not user.check_password("chosen-by-attacker-123")
        assert user.check_password(response.context["password"])
        assert list(user.programs.all()) == [world.program]
        assert AuditEvent.objects.filter(action=Action.ROLE_CHANGE, object_id=str(user.pk)).exists()

    def test_a_user_cannot_be_created_in_another_organisation_or_program(self, world):
        client = client_for(world.ward_manager)
        response = client.post(
            "/accounts/users/new/",
            {
                "username": "x1",
                "display_name": "x",
                "organisation": world.other_contractor.pk,
                "role": "operator",
            },
        )
        assert response.status_code == 200 and "organisation" in response.context["form"].errors
        response = client.post(
            "/accounts/users/new/",
            {
                "username": "x2",
                "display_name": "x",
                "organisation": world.contractor.pk,
                "role": "operator",
                "programs": [world.other_program.pk],
            },
        )
        assert "programs" in response.context["form"].errors
        assert not User.objects.filter(username__in=["x1", "x2"]).exists()

    def test_the_kill_switch_screen_suspends_and_restores_contractor_access(self, world):
        operator = client_for(world.operator)
        manager = client_for(world.ward_manager)
        assert manager.post("/accounts/contractor-access/", {"suspend": "1"}).status_code == 302
        assert operator.get("/").status_code == 302
        assert manager.get("/").status_code == 200
        world.contractor.refresh_from_db()
        assert world.contractor.access_suspended
        world.other_contractor.refresh_from_db()
        assert not world.other_contractor.access_suspended
        manager.post("/accounts/contractor-access/", {"suspend": "0"})
        world.contractor.refresh_from_db()
        assert not world.contractor.access_suspended
        assert (
            AuditEvent.objects.filter(action=Action.SETTINGS_CHANGE, object_type="organisation").count() == 2
        )

    def test_resetting_the_second_factor_makes_the_user_enrol_again(self, world):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client_for(world.operator)
        assert TOTPDevice.objects.filter(user=world.operator).exists()
        client_for(world.ward_manager).post(f"/accounts/users/{world.operator.pk}/reset-2fa/")
        assert not TOTPDevice.objects.filter(user=world.operator).exists()
        from madoguchi.accounts.testing import PERSONA_PASSWORD

        response = Client().post("/accounts/login/", {"username": "operator", "password": PERSONA_PASSWORD})
        assert response["Location"] == "/accounts/login/enrol/"


@pytest.mark.django_db
class AllowlistScreenTests:
    def test_the_manager_adds_an_entry_for_the_contractor_and_it_is_audited(self, world):
        client = client_for(world.ward_manager)
        response = client.post(
            "/accounts/allowlist/",
            {"organisation": world.contractor.pk, "network": "192.0.2.0/24", "note": "本社"},
        )
        assert response.status_code == 302
        entry = AllowedNetwork.objects.get(network="192.0.2.0/24")
        assert entry.organisation == world.contractor and entry.created_by == world.ward_manager
        event = AuditEvent.objects.get(action=Action.ALLOWLIST_CHANGE)
        assert event.details["change"] == "added"
        assert Client(REMOTE_ADDR="192.0.2.44").get("/accounts/login/").status_code == 200

    def test_a_bad_entry_is_a_field_error(self, world):
        response = client_for(world.ward_manager).post(
            "/accounts/allowlist/", {"organisation": world.ward.pk, "network": "0.0.0.0/33"}
        )
        assert response.status_code == 200
        assert response.context["form"].errors["network"]

    def test_another_wards_list_is_out_of_reach(self, world):
        client = client_for(world.ward_manager)
        client.post("/accounts/allowlist/", {"organisation": world.other_ward.pk, "network": "192.0.2.0/24"})
        assert not AllowedNetwork.objects.filter(network="192.0.2.0/24").exists()
        foreign = AllowedNetwork.objects.filter(organisation=world.other_ward).first()
        assert client.post(f"/accounts/allowlist/{foreign.pk}/remove/").status_code == 404
        assert AllowedNetwork.objects.filter(pk=foreign.pk).exists()

    def test_the_manager_cannot_remove_the_entry_they_are_using(self, world):
        client = client_for(world.ward_manager)
        entry = AllowedNetwork.objects.get(organisation=world.ward, network="127.0.0.1/32")
        client.post(f"/accounts/allowlist/{entry.pk}/remove/")
        assert AllowedNetwork.objects.filter(pk=entry.pk).exists()
        assert client.get("/").status_code == 200

    def test_removing_the_contractors_entry_is_audited(self, world):
        client = client_for(world.ward_manager)
        entry = AllowedNetwork.objects.get(organisation=world.contractor, network="::1/128")
        assert client.post(f"/accounts/allowlist/{entry.pk}/remove/").status_code == 302
        assert not AllowedNetwork.objects.filter(pk=entry.pk).exists()
        assert AuditEvent.objects.get(action=Action.ALLOWLIST_CHANGE).details["change"] == "removed"


@pytest.mark.django_db
class EscapingTests:
    def test_markup_in_a_display_name_is_shown_as_text(self, world):
        world.operator.display_name = "＜script＞alert(1)＜/script＞<img src=x onerror=alert(1)>"
        world.operator.save()
        body = client_for(world.ward_manager).get("/accounts/users/").content.decode()
        assert "<img src=x" not in body
        assert "&lt;img src=x onerror=alert(1)&gt;" in body
        assert "＜script＞alert(1)＜/script＞" in body  # full-width: text, never normalised into markup


@pytest.mark.django_db
class ReauthenticationTests:
    """Sensitive actions ask for the code again when the login is older than 5 minutes (R-14)."""

    def age_login(self, client):
        import time

        from madoguchi.accounts.sessions import AUTH_AT

        session = client.session
        session[AUTH_AT] = time.time() - 6 * 60
        session.save()

    def test_an_old_login_must_confirm_a_code_before_disabling_someone(self, world):
        from madoguchi.accounts.testing import totp_code

        client = client_for(world.ward_manager)
        self.age_login(client)
        response = client.post(f"/accounts/users/{world.operator.pk}/disable/")
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/reauth/")
        world.operator.refresh_from_db()
        assert world.operator.is_active
        back = client.post(
            "/accounts/reauth/", {"otp_token": totp_code(world.ward_manager), "next": "/accounts/users/"}
        )
        assert back["Location"] == "/accounts/users/"
        assert client.post(f"/accounts/users/{world.operator.pk}/disable/").status_code == 302
        world.operator.refresh_from_db()
        assert not world.operator.is_active

    def test_a_wrong_code_does_not_count(self, world):
        client = client_for(world.ward_manager)
        self.age_login(client)
        client.post("/accounts/reauth/", {"otp_token": "abc", "next": "/accounts/users/"})
        response = client.post(
            "/accounts/allowlist/", {"organisation": world.ward.pk, "network": "192.0.2.0/24"}
        )
        assert response["Location"].startswith("/accounts/reauth/")
        assert not AllowedNetwork.objects.filter(network="192.0.2.0/24").exists()

    def test_a_role_that_may_never_do_it_is_refused_before_the_detour(self, world):
        client = client_for(world.operator)
        self.age_login(client)
        assert client.post("/accounts/contractor-access/", {"suspend": "1"}).status_code == 403


@pytest.mark.django_db
class ReviewListTests:
    def test_the_manager_downloads_the_account_review_list(self, world):
        world.operator.display_name = "=HYPERLINK(1)"
        world.operator.save()
        client = client_for(world.ward_manager)
        assert client.get("/accounts/users/review.csv").status_code == 405
        response = client.post("/accounts/users/review.csv")
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert "no-store" in response["Cache-Control"]
        text = response.content.decode("utf-8-sig")
        lines = text.splitlines()
        assert lines[0].startswith("ユーザー名,表示名,組織,役割,状態")
        assert any(line.startswith("operator,'=HYPERLINK(1),") for line in lines)
        assert "outsider" not in text
        assert AuditEvent.objects.get(action=Action.EXPORT).details == {"count": len(lines) - 1}

    def test_a_supervisor_may_not_download_it(self, world):
        assert client_for(world.supervisor).post("/accounts/users/review.csv").status_code == 403
