"""What the statement reading the session's user reads besides it (accounts.otp `SessionRead`):
the organisation's allowlist and the user's program ids, with no round trip of their own, and
never older than the request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts import allowlist
from madoguchi.accounts.models import AllowedNetwork
from madoguchi.accounts.otp import _device_with_user
from madoguchi.accounts.testing import login, totp_device
from madoguchi.core.request_context import request_memo_var
from madoguchi.programs.models import Program
from madoguchi.programs.scoping import _member_program_ids, _program_ids_key

OFFICE = "198.51.100.7"


def _statement_reads(user):
    """The memo the session's statement leaves for `user` (as the OTP middleware reads it)."""
    token = request_memo_var.set({})
    try:
        device = _device_with_user(totp_device(user).pk, user.pk)
        assert device is not None
        return dict(request_memo_var.get())
    finally:
        request_memo_var.reset(token)


@pytest.mark.django_db
class SessionStatementTests:
    def test_a_signed_in_request_reads_no_allowlist_from_the_cache(self, client, world, monkeypatch):
        login(client, world.operator)
        client.get(reverse("cases:list"))

        def no_cache(*args, **kwargs):
            raise AssertionError("the allowlist was read from the cache")

        monkeypatch.setattr(allowlist, "_lists", no_cache)
        assert client.get(reverse("cases:list")).status_code == 200

    def test_an_address_taken_off_the_list_is_refused_at_once_though_the_cache_still_holds_it(self, world):
        network = AllowedNetwork.objects.create(organisation=world.contractor, network="198.51.100.0/24")
        allowlist.invalidate()
        client = Client(REMOTE_ADDR=OFFICE)
        login(client, world.operator)
        assert client.get(reverse("cases:list")).status_code == 200
        stale = allowlist._lists()  # what the cache holds now
        network.delete()  # taken off without the service (no invalidation): the cache is stale
        cache.set(allowlist.CACHE_KEY, stale, allowlist.CACHE_SECONDS)
        assert client.get(reverse("cases:list")).status_code == 403

    def test_the_lists_read_with_the_user_are_the_cached_lists(self, world):
        AllowedNetwork.objects.create(organisation=world.contractor, network="198.51.100.0/24")
        AllowedNetwork.objects.create(organisation=world.contractor, network="2001:db8::/32")
        AllowedNetwork.objects.create(organisation=world.ward, network="192.0.2.0/24")
        allowlist.invalidate()
        for persona in ("operator", "ward_staff", "sysadmin", "outsider"):
            user = getattr(world, persona)
            memo = _statement_reads(user)
            assert sorted(memo[("allowlist", user.organisation_id)]) == sorted(
                allowlist._lists().get(user.organisation_id, [])
            ), persona

    def test_an_organisation_without_a_list_reads_an_empty_one(self, world):
        AllowedNetwork.objects.filter(organisation=world.contractor).delete()
        assert _statement_reads(world.operator)[("allowlist", world.contractor.pk)] == []

    def test_the_program_ids_read_with_the_user_are_the_program_ids_in_their_order(self, world):
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
        for persona in ("operator", "supervisor", "ward_staff", "auditor", "outsider", "sysadmin"):
            user = getattr(world, persona)
            memo = _statement_reads(user)
            expected = _member_program_ids(user.pk, user.organisation_id)
            assert memo[_program_ids_key(user)] == expected, persona
        assert _statement_reads(world.operator)[_program_ids_key(world.operator)] == [
            third.pk,
            world.program.pk,
        ]

    def test_a_page_reads_the_program_ids_with_the_user_only(self, client, world):
        login(client, world.operator)
        client.get(reverse("cases:list"))
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("cases:list")).status_code == 200
        sql = [query["sql"] for query in queries.captured_queries]
        # `_member_program_ids`' own statement is not run; the session's statement holds it.
        assert not [text for text in sql if text.startswith("SELECT DISTINCT p.id, p.code FROM")]
        (session_read,) = [text for text in sql if "otp_totp_totpdevice" in text]
        assert Program.members.through._meta.db_table in session_read

    def test_a_change_of_the_list_in_the_request_is_seen_by_the_rest_of_it(self, world):
        token = request_memo_var.set({})
        try:
            _device_with_user(totp_device(world.operator).pk, world.operator.pk)
            assert allowlist.is_allowed("127.0.0.1", world.contractor.pk)
            AllowedNetwork.objects.filter(organisation=world.contractor).delete()
            allowlist.invalidate()
            assert not allowlist.is_allowed("127.0.0.1", world.contractor.pk)
        finally:
            request_memo_var.reset(token)
