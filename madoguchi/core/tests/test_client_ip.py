"""The client address: parsed once per address text, and an overlong text never kept."""

from __future__ import annotations

from django.test import RequestFactory, override_settings

from madoguchi.core import client_ip as module
from madoguchi.core.client_ip import client_ip


class ClientAddressTests:
    def test_an_address_is_parsed_once_and_normalised(self):
        module._parsed.cache_clear()
        request = RequestFactory().get("/", REMOTE_ADDR=" 2001:DB8::1 ")
        assert client_ip(request) == client_ip(request) == "2001:db8::1"
        info = module._parsed.cache_info()
        assert info.misses == 1 and info.hits == 1

    def test_a_value_that_is_no_address_gives_nothing_and_an_overlong_one_is_not_kept(self):
        module._parsed.cache_clear()
        assert client_ip(RequestFactory().get("/", REMOTE_ADDR="not-an-address")) == ""
        assert client_ip(RequestFactory().get("/", REMOTE_ADDR="1" * 5000)) == ""
        assert module._parsed.cache_info().currsize == 1

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_a_proxy_an_overlong_forwarded_entry_falls_back_to_the_socket(self):
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="x" * 5000)
        assert client_ip(request) == "10.0.0.1"
        request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9")
        assert client_ip(request) == "203.0.113.9"
