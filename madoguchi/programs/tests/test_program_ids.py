"""The user's program ids: looked up once per request, never kept beyond it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from madoguchi.accounts.testing import login
from madoguchi.cases.testing import make_case
from madoguchi.core.request_context import request_memo_var
from madoguchi.programs.scoping import program_ids


@pytest.mark.django_db
class ProgramIdsTests:
    def test_outside_a_request_a_membership_change_is_seen_at_once(self, world):
        assert program_ids(world.operator) == [world.program.pk]
        world.program.members.remove(world.operator)
        assert program_ids(world.operator) == []

    def test_within_a_request_they_are_looked_up_once_and_dropped_at_its_end(self, world):
        token = request_memo_var.set({})
        try:
            with CaptureQueriesContext(connection) as captured:
                assert program_ids(world.operator) == [world.program.pk]
                assert program_ids(world.operator) == [world.program.pk]
                assert program_ids(world.operator, "edit") == [world.program.pk]
                assert program_ids(world.operator, "identify") == [world.program.pk]
                # The kept ids never reach an action the role may not do.
                assert program_ids(world.operator, "answer") == []
            assert len(captured) == 1  # once for every action
        finally:
            request_memo_var.reset(token)
        assert request_memo_var.get() is None

    def test_the_case_list_reads_the_users_programs_once(self, client, world):
        make_case(world.program, world.operator)
        login(client, world.operator)
        client.get(reverse("cases:list"))
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("cases:list")).status_code == 200
        lookups = [q["sql"] for q in captured.captured_queries if 'FROM "programs_program"' in q["sql"]]
        assert len(lookups) == 1, lookups
