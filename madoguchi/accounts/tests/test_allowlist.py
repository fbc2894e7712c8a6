from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.test import Client, override_settings

from madoguchi.accounts import allowlist
from madoguchi.accounts.models import AllowedNetwork
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent

REFUSED = "203.0.113.9"


@pytest.mark.django_db
class AllowlistTests:
    def test_a_staff_page_is_refused_from_an_address_not_on_the_list(self, world):
        client = Client(REMOTE_ADDR=REFUSED)
        response = client.get("/accounts/login/")
        assert response.status_code == 403
        body = response.content.decode()
        assert "この接続元からは利用できません" in body
        assert response.wsgi_request.request_id in body
        assert AuditEvent.objects.filter(action=Action.ADDRESS_REFUSED, client_ip=REFUSED).count() == 1

    def test_127_0_0_2_is_refused_although_it_is_loopback(self, world):
        assert Client(REMOTE_ADDR="127.0.0.2").get("/accounts/login/").status_code == 403

    def test_the_login_page_answers_from_an_allowed_address(self, world):
        assert Client().get("/accounts/login/").status_code == 200
        assert Client(REMOTE_ADDR="::1").get("/accounts/login/").status_code == 200

    @pytest.mark.parametrize(
        "headers",
        [
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1"},
            {"HTTP_X_FORWARDED_FOR": "127.0.0.1, 127.0.0.1"},
            {"HTTP_X_REAL_IP": "127.0.0.1"},
            {"HTTP_FORWARDED": "for=127.0.0.1"},
            {"HTTP_CLIENT_IP": "127.0.0.1", "HTTP_TRUE_CLIENT_IP": "127.0.0.1"},
        ],
    )
    def test_forwarding_headers_never_widen_access(self, world, headers):
        client = Client(REMOTE_ADDR=REFUSED)
        assert client.get("/accounts/login/", **headers).status_code == 403

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_one_proxy_only_the_address_it_appended_counts(self, world):
        # The proxy (loopback) appended the real client; the leftmost entry is the client's lie.
        client = Client(REMOTE_ADDR="127.0.0.1")
        response = client.get("/accounts/login/", HTTP_X_FORWARDED_FOR=f"127.0.0.1, {REFUSED}")
        assert response.status_code == 403
        assert AuditEvent.objects.get(action=Action.ADDRESS_REFUSED).client_ip == REFUSED
        assert client.get("/accounts/login/", HTTP_X_FORWARDED_FOR=f"{REFUSED}, 127.0.0.1").status_code == 200

    def test_after_login_only_the_users_organisation_list_counts(self, world):
        AllowedNetwork.objects.create(organisation=world.ward, network="198.51.100.0/24")
        allowlist.invalidate()
        client = Client(REMOTE_ADDR="198.51.100.7")
        assert client.get("/accounts/login/").status_code == 200  # on the ward's list: the login page
        login(client, world.operator)  # a contractor user
        assert client.get("/").status_code == 403
        ward_client = Client(REMOTE_ADDR="198.51.100.7")
        login(ward_client, world.ward_staff)
        assert ward_client.get("/").status_code == 200

    def test_a_removed_entry_takes_effect_at_once(self, world):
        client = Client()
        login(client, world.operator)
        assert client.get("/").status_code == 200
        from madoguchi.accounts.services import remove_allowed_network

        for entry in AllowedNetwork.objects.filter(organisation=world.contractor):
            remove_allowed_network(actor=world.ward_manager, entry=entry, current_address="127.0.0.1")
        assert client.get("/").status_code == 403

    def test_the_health_check_is_outside_the_list(self, world):
        assert Client(REMOTE_ADDR=REFUSED).get("/healthz").status_code == 200

    def test_static_and_the_public_form_are_outside_the_list(self, world):
        client = Client(REMOTE_ADDR=REFUSED)
        assert client.get("/inquiry/").status_code != 403
        assert client.get("/static/nothing.css").status_code == 404

    def test_an_entry_is_validated_and_normalised(self, world):
        entry = AllowedNetwork(organisation=world.ward, network="192.0.2.1")
        entry.full_clean()
        assert entry.network == "192.0.2.1/32"
        for bad in ["192.0.2.1/24", "not-an-address", "192.0.2.0/33", "*"]:
            with pytest.raises(ValidationError):
                AllowedNetwork(organisation=world.ward, network=bad).full_clean()

    def test_refusals_from_one_address_are_audited_at_most_once_a_minute(self, world):
        client = Client(REMOTE_ADDR="203.0.113.10")
        for _ in range(5):
            client.get("/accounts/login/")
        assert AuditEvent.objects.filter(action=Action.ADDRESS_REFUSED, client_ip="203.0.113.10").count() == 1
