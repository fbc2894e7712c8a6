"""What one search costs the database, and what a process keeps between searches: the list's
readings, read again whenever the index changed (issue 13's latency targets)."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from madoguchi.identify import engine, indexer
from madoguchi.identify.engine import KeyCounts, Query, identify, load_candidate_profiles
from madoguchi.identify.models import IdentKeyStat, IdentReading
from madoguchi.identify.tests import test_failure_classes as failure_classes
from madoguchi.identify.tests.helpers import add_household, standard_list
from madoguchi.identify.tests.test_failure_classes import filler
from madoguchi.lib.env import PREPARE_THRESHOLD

pytestmark = pytest.mark.django_db

# Every item a caller can give: the search that asks the most of the index.
EVERYTHING = {
    "guardian_name": "田中 花子",
    "guardian_kana": "たなか はなこ",
    "child_name": "陽翔",
    "child_dob": "2020-05-03",
    "guardian_dob": "1990-01-02",
    "address": "太子堂4-1-1",
    "phone": "09012345678",
    "email": "hanako@example.jp",
}


def readings_read(queries: CaptureQueriesContext) -> int:
    return sum(IdentReading._meta.db_table in q["sql"] for q in queries.captured_queries)


class QueriesPerSearchTests:
    def test_a_search_runs_at_most_six_queries(self, world, django_assert_max_num_queries):
        households = standard_list(world.program)
        identify(world.program.pk, Query())  # the index built, the list's readings read
        with django_assert_max_num_queries(6):
            result = identify(world.program.pk, Query(**EVERYTHING))
        assert result.candidates[0].number == households["tanaka"].number

    def test_the_lists_readings_are_read_once_and_not_per_search(self, world):
        standard_list(world.program)
        with CaptureQueriesContext(connection) as queries:
            for said in ({"guardian_name": "田中 花子"}, {"guardian_name": "髙橋 健太"}, EVERYTHING):
                identify(world.program.pk, Query(**said))
        assert readings_read(queries) == 1

    def test_a_key_count_is_read_once_per_search_and_an_absent_key_is_remembered(
        self, world, django_assert_num_queries
    ):
        IdentKeyStat.objects.create(program=world.program, key="f:田中", count=3)
        counts = KeyCounts(world.program.pk)
        with django_assert_num_queries(1):
            assert counts.get(["f:田中", "f:不在"]) == {"f:田中": 3}
        with django_assert_num_queries(0):
            assert counts.get(["f:不在", "f:田中"]) == {"f:田中": 3}
        with django_assert_num_queries(1):
            assert counts.get(["g:花子", "f:田中"]) == {"f:田中": 3}

    def test_keys_with_the_characters_of_an_array_literal_are_read_as_they_are(self, world):
        # PostgreSQL receives the keys as one array: quoting must keep each key whole.
        odd = ['a:町,1"2', "a:{3}", "a:NULL", "a:\\4", "a: 5 ", "a:o'k"]
        for count, key in enumerate(odd, start=1):
            IdentKeyStat.objects.create(program=world.program, key=key, count=count)
        counts = KeyCounts(world.program.pk).get([*odd, "a:町"])
        assert counts == {key: count for count, key in enumerate(odd, start=1)}

    def test_a_candidate_of_another_program_is_never_loaded(self, world):
        standard_list(world.program)
        stranger = add_household(
            world.other_program,
            "X01",
            guardian=("別事業　太郎", "ベツジギョウ　タロウ", "1980-01-01"),
            children=[("別事業　花", "ベツジギョウ　ハナ", "2020-01-01")],
        )
        indexer.reindex_program(world.other_program.pk)
        assert load_candidate_profiles(world.program.pk, [stranger.pk]) == {}
        assert list(load_candidate_profiles(world.other_program.pk, [stranger.pk])) == [stranger.pk]


def homophone_named(program: Any) -> bool:
    """Is the caller's 可奈子 taken as the listed 加奈子 read the same (カナコ)? Only a list that
    gives the reading of 可奈子 can say so."""
    result = identify(program.pk, Query(guardian_name="斎藤 可奈子", child_dob="2021-03-03"))
    return any(
        e.field == "guardian_name" and e.how == "homophone" for c in result.candidates for e in c.evidence
    )


def teacher(program: Any, number: str = "K2") -> Any:
    """A household that teaches the list that 可奈子 reads カナコ."""
    return add_household(
        program,
        number,
        guardian=("山田　可奈子", "ヤマダ　カナコ", "1984-04-04"),
        children=[("山田　蓮", "ヤマダ　レン", "2019-09-09")],
    )


class KeptReadingsTests:
    """The readings a process keeps follow every change of the index: a search after the
    change compares through the new list's readings, as a fresh process would."""

    @pytest.fixture
    def listed(self, world: Any) -> Any:
        filler(world.program, 12)
        add_household(
            world.program,
            "K1",
            guardian=("斎藤　加奈子", "サイトウ　カナコ", "1987-07-07"),
            children=[("斎藤　結衣", "サイトウ　ユイ", "2021-03-03")],
        )
        assert not homophone_named(world.program)  # the readings of this list are now kept
        return world.program

    def update(self, program: Any, household: Any) -> None:
        state = indexer.ensure_index(program.pk)
        indexer.update_households(program.pk, [household.pk], source_import_id=state.source_import_id)

    def test_an_update_of_the_index_is_seen_by_the_next_search(self, listed):
        self.update(listed, teacher(listed))
        assert homophone_named(listed)

    def test_a_rebuild_of_the_index_is_seen_by_the_next_search(self, listed):
        teacher(listed)
        indexer.reindex_program(listed.pk)
        assert homophone_named(listed)

    def test_a_removal_from_the_index_is_seen_by_the_next_search(self, listed):
        household = teacher(listed)
        self.update(listed, household)
        assert homophone_named(listed)
        household.removed_by_import = household.last_import  # as a later version removes it
        household.save()
        self.update(listed, household)
        assert not homophone_named(listed)

    def test_a_rolled_back_change_is_not_taken_for_a_later_one_of_the_same_version(self, listed):
        version = indexer.ensure_index(listed.pk).version
        with pytest.raises(RuntimeError), transaction.atomic():
            self.update(listed, teacher(listed))
            assert homophone_named(listed)  # kept: the rolled-back list's readings
            raise RuntimeError("the import failed")
        # Another change reaches the same version number with other rows.
        self.update(
            listed,
            add_household(listed, "K9", guardian=("林　一", "ハヤシ　ハジメ", "1980-02-02"), children=[]),
        )
        assert indexer.ensure_index(listed.pk).version == version + 1
        assert not homophone_named(listed)

    def test_each_program_keeps_its_own(self, listed, world):
        other = world.other_program
        filler(other, 12)
        add_household(
            other,
            "K1",
            guardian=("斎藤　加奈子", "サイトウ　カナコ", "1987-07-07"),
            children=[("斎藤　結衣", "サイトウ　ユイ", "2021-03-03")],
        )
        teacher(other)
        assert homophone_named(other)
        assert not homophone_named(listed)
        assert homophone_named(other)


class TieBreakPathTests:
    """The tie-break reads the common keys' index or the candidates' rows, whichever is
    cheaper (PostgreSQL); both find the same households."""

    @pytest.mark.parametrize("household_rows", [0, 10**9])
    def test_either_path_scores_the_household_the_other_keys_single_out(
        self, world, monkeypatch, household_rows
    ):
        monkeypatch.setattr(engine, "HOUSEHOLD_ROWS", household_rows)
        failure_classes.CandidatesCutBeforeScoringTests().test_the_right_household_is_scored_when_more_than_the_limit_share_its_family_name(
            world, monkeypatch
        )

    @pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only (CI runs it)")
    def test_on_the_key_index_the_ids_are_never_a_parameter_of_a_prepared_statement(self, world, monkeypatch):
        """There the ids filter every row of the common keys. As a parameter, the prepared
        statement's generic plan compared each row with every id in turn (p95 55 ms at
        1,000,000 households); as constants in the statement they are hashed (p95 8 ms)."""
        monkeypatch.setattr(engine, "HOUSEHOLD_ROWS", 10**9)  # always the key index's path
        failure_classes.CandidatesCutBeforeScoringTests().test_the_right_household_is_scored_when_more_than_the_limit_share_its_family_name(
            world, monkeypatch
        )
        for _ in range(PREPARE_THRESHOLD):
            assert failure_classes.run(world.program, guardian_name="佐藤 はなこ").candidates
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%household_id + 0%"],
            )
            prepared = [types for (types,) in cursor.fetchall()]
        assert prepared, "the tie-break on the key index was not run, or not prepared"
        # The program and the keys are parameters; no list of ids is (psycopg sends one as
        # smallint[], integer[] or bigint[] by its largest id).
        assert all(types[1:] == ["text[]"] for types in prepared), prepared

    def test_postgresql_reads_the_key_index_unless_the_common_keys_outnumber_the_candidates_rows(self):
        expected = "household_id + 0" if connection.vendor == "postgresql" else "household_id"
        assert engine._tie_break_household(1000, 10) == expected
        assert engine._tie_break_household(engine.HOUSEHOLD_ROWS * 10 + 1, 10) == "household_id"
