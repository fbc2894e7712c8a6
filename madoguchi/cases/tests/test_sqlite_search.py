"""The SQLite bigram index answers exactly what the substring scan answered, without the scan.

The index is SQLite's (PostgreSQL keeps pg_trgm), so these tests skip on PostgreSQL; the
search behaviour both databases share is tested in test_views.SearchTests.
"""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.db.models import F, Q, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from madoguchi.cases import selectors, services, sqlite_search
from madoguchi.cases.models import Case, Channel, Status
from madoguchi.cases.services import search_key
from madoguchi.cases.testing import make_case, seed_categories

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="the FTS5 index is SQLite's")

# Kana in both widths (ｶﾞ becomes ガ under NFKC), 髙/高 and 𠮷/吉 (𠮷 is four UTF-8 bytes),
# full-width and ASCII digits and letters, a combining sound mark, ㍿ (NFKC: 株式会社), spaces,
# punctuation and newlines: everything that could split or merge a bigram token.
ALPHABET = (
    "あいうがかアイウガカｱｲｳｶﾞﾟ髙高𠮷吉配送株式会社０１２012ａｂＡＢabAB\u3099㍿ーｰ-・、。 \u3000\n%_\\\"'*"
)
# Short texts, and texts that cross the chunk boundaries of `grams_sql` (every CHUNK characters).
texts = st.text(alphabet=ALPHABET, max_size=24) | st.text(alphabet=ALPHABET, min_size=60, max_size=140)
short_queries = st.text(alphabet=ALPHABET, min_size=1, max_size=3)


def fts_ids(key: str) -> set[int]:
    ids = RawSQL(sqlite_search.matching_ids_sql(), [sqlite_search.match_expression(key)])  # noqa: S611
    return set(Case.objects.filter(pk__in=ids).values_list("pk", flat=True))


def scan_ids(key: str) -> set[int]:
    return set(Case.objects.filter(search_text__contains=key).values_list("pk", flat=True))


def assert_same_answers(keys: list[str]) -> None:
    stored = dict(Case.objects.values_list("pk", "search_text"))
    for key in keys:
        oracle = {pk for pk, text in stored.items() if key in text}
        assert fts_ids(key) == scan_ids(key) == oracle, key


@pytest.mark.django_db
class BigramIndexTests:
    @settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(documents=st.lists(texts, min_size=1, max_size=6), queries=st.lists(short_queries), data=st.data())
    def test_it_finds_exactly_the_cases_the_substring_scan_finds(self, world, documents, queries, data):
        with transaction.atomic():
            cases = Case.objects.bulk_create(
                Case(
                    program=world.program,
                    receipt_number=f"KJ-{n:06d}",
                    channel=Channel.PHONE,
                    received_at=timezone.now(),
                    inquiry=text or "-",
                    search_text=search_key(text),
                )
                for n, text in enumerate(documents, start=1)
            )
            keys = [search_key(query) for query in queries]
            # Substrings of what is stored, 1 to 6 characters long, so that there are hits.
            for case in cases:
                text = search_key(case.inquiry)
                if text:
                    start = data.draw(st.integers(0, len(text) - 1))
                    keys.append(text[start : start + data.draw(st.integers(1, 6))])
            keys = [key for key in keys if key]
            assert_same_answers(keys)
            # What the services do on each note: append with Concat (the UPDATE trigger).
            Case.objects.filter(pk=cases[0].pk).update(
                search_text=Concat(F("search_text"), Value("\n" + search_key(data.draw(texts))))
            )
            Case.objects.filter(pk=cases[-1].pk).delete()
            assert_same_answers(keys)
            # Through the selector every caller uses, against the PostgreSQL path's expression.
            for query in keys:
                key = search_key(query).strip()
                if key:
                    receipt = key.upper().replace("ー", "-").replace("−", "-")
                    expected = Case.objects.filter(Q(receipt_number=receipt) | Q(search_text__contains=key))
                    assert set(selectors.text_search(Case.objects.all(), query)) == set(expected), query
                    # Both plans of the list (sqlite_search.choose_form), in the list's order.
                    newest = list(expected.order_by("-received_at", "-id")[:3])
                    for form in sqlite_search.FORMS:
                        found = selectors.text_search(Case.objects.all(), query, form=form)
                        assert set(found) == set(expected), (form, query)
                        assert list(found.order_by("-received_at", "-id")[:3]) == newest, (form, query)
            transaction.set_rollback(True)

    def test_the_sql_cuts_a_text_of_every_length_as_python_does(self):
        sample = "配送𠮷ｶﾞabc\n、 ＡＢ１" * 40
        sql = f"SELECT {sqlite_search.grams_sql('t.x')} FROM (SELECT %s AS x) AS t"  # noqa: S608
        with connection.cursor() as cursor:
            for length in range(3 * sqlite_search.CHUNK + 3):
                text = sample[:length]
                cursor.execute(sql, [text])
                assert cursor.fetchone()[0] == " ".join(sqlite_search.piece_tokens(text)), length

    def test_a_phrase_across_a_chunk_boundary_is_found(self, world):
        chunk = sqlite_search.CHUNK
        case = make_case(
            world.program, world.operator, inquiry="あ" * (chunk - 2) + "配送の遅れ" + "い" * chunk
        )
        assert fts_ids("配送の遅れ") == {case.pk}
        assert fts_ids("あ配送") == {case.pk} and fts_ids("遅れい") == {case.pk}
        assert fts_ids("送遅") == set()

    def test_the_index_follows_every_write_the_services_make(self, world):
        case = make_case(world.program, world.operator, inquiry="カタログが届かない")
        assert fts_ids("届か") == {case.pk}
        services.update_case(
            case=case, actor=world.operator, expected_version=case.version, changes={"response": "再送を手配"}
        )
        assert fts_ids("再送") == {case.pk}
        services.add_note(case=case, actor=world.operator, body="ﾚﾝｼﾞの不具合")
        assert fts_ids("レンジの") == {case.pk}
        services.escalate(
            case=case, actor=world.operator, question="区の確認事項", expected_version=case.version
        )
        assert fts_ids("確認事項") == {case.pk}
        # A full save() writes search_text unchanged: no re-index, nothing lost.
        Case.objects.get(pk=case.pk).save()
        assert fts_ids("届かない") == {case.pk}
        Case.objects.filter(pk=case.pk).delete()
        assert fts_ids("届か") == set()

    def test_a_one_character_query_finds_the_last_character_too(self, world):
        last = make_case(world.program, world.operator, inquiry="返品の件")
        first = make_case(world.program, world.operator, inquiry="件名なし")
        other = make_case(world.program, world.operator, inquiry="配送")
        assert fts_ids("件") == {last.pk, first.pk}
        assert other.pk not in fts_ids("件")

    def test_the_search_stays_within_scope_and_combines_with_the_filters(self, world):
        categories = seed_categories(world.program)
        mine = make_case(
            world.program, world.operator, inquiry="配送の遅れ", category=categories["配送・到着"]
        )
        other_category = make_case(world.program, world.operator, inquiry="配送の遅れ")
        make_case(world.other_program, world.other_program_operator, inquiry="配送の遅れ")
        filters = selectors.CaseFilter(text="配送の", category=categories["配送・到着"].pk)
        assert selectors.case_page(world.operator, filters).cases == [mine]
        assert set(selectors.case_page(world.operator, selectors.CaseFilter(text="配送")).cases) == {
            mine,
            other_category,
        }
        assert (
            selectors.case_page(world.other_program_operator, selectors.CaseFilter(text="KJ-000001")).cases
            == []
        )

    def test_the_list_and_its_count_use_the_index_not_a_scan_of_the_cases(self, world):
        categories = seed_categories(world.program)
        for n in range(5):
            make_case(world.program, world.operator, inquiry=f"配送の遅れ {n}", category=categories["その他"])
        for filters in (
            selectors.CaseFilter(text="配送の遅れ"),
            selectors.CaseFilter(text="配", status=Status.NEW, category=categories["その他"].pk),
            selectors.CaseFilter(
                text="ＫＪ－０００００１", date_from=datetime.date(2020, 1, 1), channel="phone"
            ),
        ):
            with CaptureQueriesContext(connection) as captured:
                page = selectors.case_page(world.operator, filters)
            assert page.cases
            searches = [
                query["sql"]
                for query in captured.captured_queries
                if "cases_case_search" in query["sql"]
                and not query["sql"].startswith("SELECT count(*) FROM (SELECT rowid")
            ]
            assert len(searches) == 2  # the page and its capped count (beside the plans' hit counts)
            for sql in searches:
                assert "LIKE" not in sql and "search_text" not in sql  # no scan of the text
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN QUERY PLAN " + sql)
                    plan = [row[3] for row in cursor.fetchall()]
                assert any(step.startswith("SCAN cases_case_search VIRTUAL TABLE INDEX") for step in plan), (
                    plan
                )
                # Every access to cases_case is a SEARCH through an index or the primary key.
                assert not [step for step in plan if step.startswith("SCAN cases_case ")], plan
                assert not [step for step in plan if step == "SCAN cases_case"], plan


@pytest.mark.django_db
class PlanTests:
    """A text in most cases walks the list's index; a rare one starts from its hits."""

    def plan(self, rows) -> list[str]:
        sql, params = rows.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN QUERY PLAN " + sql, params)
            return [row[3] for row in cursor.fetchall()]

    def test_each_plan_is_the_cheapest_where_it_should_be(self):
        def cheapest(**given: int) -> str:
            estimate = sqlite_search.costs(**given)
            return min(estimate, key=lambda form: estimate[form])

        # A rare text starts from its hits; a two-character text in most cases probes the
        # rows the list walks; in between, or a long phrase, the hits are gathered once.
        assert cheapest(hits=20, tokens=10, wanted=51, table_rows=100_000) == "in"
        assert cheapest(hits=20_000, tokens=1, wanted=51, table_rows=100_000) == "probe"
        assert cheapest(hits=1_950, tokens=1, wanted=51, table_rows=20_000) == "walk"
        assert cheapest(hits=0, tokens=3, wanted=51, table_rows=100_000) == "in"
        # The count label keeps 1,001 rows: walking pays off later than for a page.
        page = sqlite_search.costs(hits=3_000, tokens=1, wanted=51, table_rows=100_000)
        count = sqlite_search.costs(hits=3_000, tokens=1, wanted=1001, table_rows=100_000)
        assert page["walk"] < page["in"] < count["walk"]

    def test_a_common_text_walks_the_lists_index_and_a_rare_one_starts_from_its_hits(self, world):
        for n in range(40):
            make_case(world.program, world.operator, inquiry="配送の遅れ" if n else "返品の件")
        assert sqlite_search.table_size(connection) == 40
        wanted = selectors.PAGE_SIZE + 1
        assert sqlite_search.capped_hits(connection, sqlite_search.match_expression("配送")) == 39
        assert sqlite_search.choose_form(connection, "配送", wanted) != "in"
        assert sqlite_search.choose_form(connection, "返品", wanted) == "in"
        rows = selectors.cases_for(world.operator).order_by("-received_at", "-id")
        for form in ("walk", "probe"):
            plan = self.plan(selectors.text_search(rows, "配送", form=form)[:wanted])
            assert any("USING INDEX case_program_received" in step for step in plan), plan
            assert not any("TEMP B-TREE FOR ORDER BY" in step for step in plan), plan
        # The "in" form leaves the plan to SQLite (from its hits when it has statistics).

    def test_both_plans_give_the_same_pages_and_count(self, world, monkeypatch):
        for n in range(12):
            make_case(world.program, world.operator, inquiry="配送の遅れ" if n % 5 else "返品の件")
        pages = {}
        for form in sqlite_search.FORMS:
            monkeypatch.setattr(sqlite_search, "choose_form", lambda *args, form=form: form)
            seen, cursor, label = [], "", None
            while True:
                page = selectors.case_page(
                    world.operator, selectors.CaseFilter(text="配送"), cursor, page_size=3
                )
                label = label or page.count_label
                seen += [case.pk for case in page.cases]
                if not page.next_cursor:
                    break
                cursor = page.next_cursor
            pages[form] = (seen, label)
        assert pages["in"] == pages["walk"] == pages["probe"]
        assert len(pages["in"][0]) == 9 and pages["in"][1] == "9"


@pytest.mark.django_db(transaction=True)
class RepairTests:
    def test_migrate_puts_back_the_triggers_a_table_rebuild_dropped(self, world):
        make_case(world.program, world.operator, inquiry="配送の遅れ")
        # What a later migration that alters cases_case does on SQLite: a new table, a copy,
        # a drop (which takes the triggers), a rename.
        old = Case._meta.get_field("caller_name")
        new = Case._meta.get_field("caller_name").clone()
        new.set_attributes_from_name("caller_name")
        new.max_length = 101
        with connection.schema_editor() as editor:
            editor.alter_field(Case, old, new)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
                assert not set(sqlite_search.TRIGGERS) & {row[0] for row in cursor.fetchall()}
            written_meanwhile = make_case(world.program, world.operator, inquiry="返品の依頼")
            assert fts_ids("返品") == set()
            assert sqlite_search.ensure_installed(connection) is True
            assert fts_ids("返品") == {written_meanwhile.pk}
            assert len(fts_ids("配送の")) == 1
            assert sqlite_search.ensure_installed(connection) is False
        finally:
            with connection.schema_editor() as editor:
                editor.alter_field(Case, new, old)
            sqlite_search.ensure_installed(connection)
