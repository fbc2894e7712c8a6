from __future__ import annotations

import json
import logging
import urllib.parse

import pytest
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY

from madoguchi.accounts.models import AllowedNetwork, UserSession
from madoguchi.accounts.testing import CANARY, capture_logs, find_canary, login


@pytest.mark.django_db
class LoginHelperTests:
    def test_it_logs_the_client_in_with_the_second_factor_satisfied(self, client, world):
        login(client, world.operator)
        response = client.get(reverse("core:home"))
        assert response.status_code == 200
        assert response.wsgi_request.user == world.operator
        assert response.wsgi_request.user.is_verified()
        assert client.session[DEVICE_ID_SESSION_KEY]
        assert UserSession.objects.filter(user=world.operator).count() == 1

    def test_the_world_organisations_allow_loopback(self, world):
        networks = set(
            AllowedNetwork.objects.filter(organisation=world.contractor).values_list("network", flat=True)
        )
        assert networks == {"127.0.0.1/32", "::1/128"}


class CanaryTests:
    def test_it_finds_a_canary_value_in_an_encoded_form(self):
        assert find_canary("q=" + urllib.parse.quote(CANARY["name"]))
        assert find_canary(json.dumps({"n": CANARY["name"]}))  # \\u escapes
        assert find_canary("tel 09000001234")
        assert not find_canary("受付番号 KJ-000123")

    def test_it_fails_when_a_canary_value_is_logged(self):
        with pytest.raises(AssertionError, match="canary"), capture_logs():
            logging.getLogger("madoguchi.test").warning("caller %s", CANARY["name"])

    def test_it_passes_a_clean_log(self):
        with capture_logs() as handler:
            logging.getLogger("madoguchi.test").warning("caller household %s", 42)
        assert any("household 42" in line for line in handler.lines)
