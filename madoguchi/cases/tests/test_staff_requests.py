"""The staff's requests of the load run (issue 15, hC): what each reads and writes, and that the
shortcuts taken for their CPU change nothing a user or the audit trail sees."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.db.models import Count
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.cases import services
from madoguchi.cases.forms import CaseCreateForm
from madoguchi.cases.models import Case, Status, TimelineEntry
from madoguchi.cases.testing import make_case
from madoguchi.identify.tests.helpers import add_household
from madoguchi.lib import field_html
from madoguchi.programs.scoping import program_ids


@pytest.fixture
def household(world):
    return add_household(
        world.program,
        "300001",
        guardian=("試験　花子", "シケン　ハナコ", "1990-01-02"),
        children=[("試験　陽翔", "シケン　ハルト", "2020-05-03")],
        phone="090-1111-2222",
    )


def save_data(household, **extra):
    data = {
        "channel": "phone",
        "caller_relation": "guardian",
        "inquiry": "申請の状況についての問い合わせ",
        "response": "状況を説明しました。",
        "priority": "normal",
        "then": "in_progress",
        "household": str(household.public_id),
        "verified_items": ["name", "phone"],
    }
    data.update(extra)
    return data


def sql_of(call):
    with CaptureQueriesContext(connection) as captured:
        response = call()
    return response, [query["sql"] for query in captured.captured_queries]


def existence_checks(sql):
    """Django's foreign-key validation: `SELECT 1 AS "a" FROM <table> WHERE id = … LIMIT 1`."""
    return [text for text in sql if text.startswith('SELECT 1 AS "a"')]


def case_updates(sql):
    return [text for text in sql if text.startswith('UPDATE "cases_case"')]


@pytest.mark.django_db
class CaseSaveTests:
    def test_saving_from_the_call_screen_checks_no_row_it_was_given_again(self, client, world, household):
        login(client, world.operator)
        url = reverse("cases:new_for", args=[world.program.code])
        response, sql = sql_of(
            lambda: client.post(url, save_data(household, then="escalate", question="確認"))
        )
        assert response.status_code == 302
        assert existence_checks(sql) == []
        # Membership is checked from the request's program ids, not a query per service call.
        assert not [text for text in sql if text.startswith('SELECT DISTINCT 1 AS "a"')]
        case = Case.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1])
        assert (case.status, case.household_id, case.assignee_id) == (
            Status.ESCALATED,
            household.pk,
            world.operator.pk,
        )
        kinds = list(TimelineEntry.objects.filter(case=case).values_list("kind", "author_id"))
        assert kinds == [
            ("created", world.operator.pk),
            ("escalation", world.operator.pk),
            ("status_change", world.operator.pk),
        ]
        actions = AuditEvent.objects.filter(object_id=str(case.public_id)).values_list("action", flat=True)
        assert sorted(actions) == ["create", "update"]

    def test_a_save_stays_within_its_query_budget(
        self, client, world, household, django_assert_max_num_queries
    ):
        """Session, user with device, the program, its ids (one lookup for every action), the
        household; the number, the case, its entry and audit event; the status, its entry and
        audit event; BEGIN and COMMIT or the test's savepoints. Checking the rows it was given
        again cost five queries more, the membership one per service."""
        login(client, world.operator)
        url = reverse("cases:new_for", args=[world.program.code])
        assert client.post(url, save_data(household)).status_code == 302  # the program's first number
        with django_assert_max_num_queries(24):
            assert client.post(url, save_data(household)).status_code == 302

    def test_a_user_who_left_the_program_cannot_save_or_write_on_its_cases(self, client, world, household):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        world.program.members.remove(world.operator)
        url = reverse("cases:new_for", args=[world.program.code])
        assert client.post(url, save_data(household)).status_code == 404
        with pytest.raises(services.TransitionRefused):
            services.add_note(case=case, actor=world.operator, body="追記")
        assert client.post(reverse("cases:note", args=[case.public_id]), {"body": "追記"}).status_code == 404


@pytest.mark.django_db
class CaseFormTests:
    def test_the_case_forms_fields_come_from_the_kept_html(self, client, world):
        field_html._kept.clear()
        login(client, world.operator)
        page = client.get(reverse("cases:new_for", args=[world.program.code])).content.decode()
        kept = {key[4] for key in field_html._kept if key[1] is CaseCreateForm}
        # The category's choices are read from the database: never kept.
        assert kept == {
            name for name in CaseCreateForm.base_fields if name not in {"category", "idempotency_key"}
        }
        assert page.count('name="idempotency_key"') == 1
        assert 'id="id_category"' in page

    def test_a_refused_form_shows_what_was_typed_escaped(self, client, world, household):
        login(client, world.operator)
        typed = "<b>&\"'</b>\n二行目"
        response = client.post(
            reverse("cases:new_for", args=[world.program.code]),
            save_data(household, inquiry=typed, caller_name=typed, then="escalate", question=""),
        )
        page = response.content.decode()
        assert response.status_code == 400
        assert "&lt;b&gt;&amp;&quot;&#x27;&lt;/b&gt;" in page
        assert "<b>&" not in page


@pytest.mark.django_db
class CaseWritesTests:
    def test_a_note_changes_the_case_row_once(self, world):
        case = make_case(world.program, world.operator)
        before = Case.objects.get(pk=case.pk)
        _entry, sql = sql_of(lambda: services.add_note(case=case, actor=world.operator, body="折り返し済み"))
        assert len(case_updates(sql)) == 1
        assert existence_checks(sql) == []
        after = Case.objects.get(pk=case.pk)
        assert after.updated_at > before.updated_at
        assert after.search_text.endswith("\n折り返し済み")
        assert after.version == before.version  # a note never conflicts with an edit

    def test_after_each_change_the_case_object_is_the_saved_row(self, world):
        """`_bump` sets what it wrote on the object instead of reading the row back."""
        case = make_case(world.program, world.operator)

        def same_as_saved(obj):
            saved = Case.objects.get(pk=obj.pk)
            for field in Case._meta.concrete_fields:
                assert getattr(obj, field.attname) == getattr(saved, field.attname), field.name

        services.transition(
            case=case, to=Status.IN_PROGRESS, actor=world.operator, expected_version=case.version
        )
        same_as_saved(case)
        services.escalate(case=case, actor=world.operator, question="確認を", expected_version=case.version)
        same_as_saved(case)
        services.answer(case=case, actor=world.ward_staff, body="回答", expected_version=case.version)
        same_as_saved(case)
        assert case.status == Status.CALLBACK
        services.update_case(
            case=case, actor=world.operator, expected_version=case.version, changes={"inquiry": "変更後"}
        )
        same_as_saved(case)

    def test_a_stale_change_is_still_refused(self, world):
        case = make_case(world.program, world.operator)
        stale = case.version
        services.transition(case=case, to=Status.IN_PROGRESS, actor=world.operator, expected_version=stale)
        with pytest.raises(services.VersionConflict):
            services.transition(case=case, to=Status.CLOSED, actor=world.operator, expected_version=stale)


@pytest.mark.django_db
class CaseChangePostTests:
    """A POST that changes a case and redirects reads the case with its program only (issue 15,
    hW, ninth session): the page's other relations are joined by the page, not by the change."""

    @staticmethod
    def case_read(sql):
        return next(text for text in sql if text.startswith("SELECT") and 'FROM "cases_case"' in text)

    def test_a_note_reads_the_case_with_its_program_only(self, client, world):
        case = make_case(world.program, world.operator)
        login(client, world.operator)
        url = reverse("cases:note", args=[case.public_id])
        response, sql = sql_of(lambda: client.post(url, {"body": "折り返し済み", "kind": "call_note"}))
        assert response.status_code == 302
        read = self.case_read(sql)
        assert '"programs_program"' in read
        for table in ('"cases_category"', '"accounts_user"', '"registry_household"', "T6"):
            assert table not in read
        assert TimelineEntry.objects.filter(case=case, body="折り返し済み").exists()

    def test_the_wards_answer_reads_the_case_with_its_program_and_assignee_and_answers(self, client, world):
        case = make_case(world.program, world.operator)
        services.escalate(case=case, actor=world.operator, question="確認を", expected_version=case.version)
        login(client, world.ward_staff)
        url = reverse("cases:answer", args=[case.public_id])
        response, sql = sql_of(lambda: client.post(url, {"version": case.version, "body": "回答です"}))
        assert response.status_code == 302
        read = self.case_read(sql)
        assert '"programs_program"' in read and '"cases_category"' not in read
        assert '"registry_household"' not in read
        case.refresh_from_db()
        assert case.status == Status.CALLBACK and case.assignee_id == world.operator.pk

    def test_a_refused_note_shows_the_page_with_everything_it_shows(self, client, world, household):
        case = make_case(world.program, world.operator)
        Case.objects.filter(pk=case.pk).update(household=household)
        login(client, world.operator)
        url = reverse("cases:note", args=[case.public_id])
        response = client.post(url, {"body": "", "kind": "call_note"})
        assert response.status_code == 400
        assert household.number in response.content.decode()

    def test_another_programs_case_is_still_404(self, client, world):
        case = make_case(world.other_program, None)
        login(client, world.operator)
        url = reverse("cases:note", args=[case.public_id])
        response = client.post(url, {"body": "x", "kind": "call_note"})
        assert response.status_code == 404


@pytest.mark.django_db
class CasePageReadTests:
    """`case_for_page` is one written statement (issue 15, hW, ninth session): the same case,
    relations and flags as the queryset it replaces, scoped the same way."""

    @staticmethod
    def by_queryset(user, case):
        from django.db.models import BooleanField
        from django.db.models.expressions import RawSQL

        def exists(table, condition="", params=()):
            sql = f'EXISTS (SELECT 1 FROM "{table}" f WHERE f.case_id = "cases_case"."id"{condition})'  # noqa: S608
            return RawSQL(sql, list(params), output_field=BooleanField())  # noqa: S611 - test

        return (
            Case.objects.filter(program__in=program_ids(user))
            .select_related("program", "category", "assignee", "household")
            .defer("search_text")
            .annotate(
                has_unread=exists(
                    "cases_notification", " AND f.user_id = %s AND f.read_at IS NULL", [user.pk]
                ),
                has_links=exists("cases_caselink"),
                has_attempts=exists("cases_callbackattempt"),
            )
            .get(pk=case.pk)
        )

    @staticmethod
    def same(left, right):
        assert type(left) is type(right)
        if left is None:
            return
        assert left.get_deferred_fields() == right.get_deferred_fields()
        for field in type(left)._meta.concrete_fields:
            if field.attname not in left.get_deferred_fields():
                assert getattr(left, field.attname) == getattr(right, field.attname), field.name

    def test_it_reads_what_the_queryset_read(self, world, household):
        from madoguchi.cases.models import CaseLink, Category, Notification
        from madoguchi.cases.selectors import case_for_page

        category = Category.objects.create(program=world.program, name="分類", order=1)
        bare = make_case(world.program, world.operator)
        full = make_case(world.program, world.operator, category=category)
        Case.objects.filter(pk=full.pk).update(household=household, assignee=world.operator)
        services.escalate(case=full, actor=world.operator, question="確認を", expected_version=full.version)
        services.answer(case=full, actor=world.ward_staff, body="回答", expected_version=full.version)
        CaseLink.objects.create(case=full, related=bare, created_by=world.operator)
        assert Notification.objects.filter(case=full, user=world.operator, read_at__isnull=True).exists()
        for case in (bare, full):
            for user in (world.operator, world.ward_staff):
                read, expected = case_for_page(user, case.public_id), self.by_queryset(user, case)
                self.same(read, expected)
                for name in ("program", "category", "assignee", "household"):
                    self.same(getattr(read, name), getattr(expected, name))
                for flag in ("has_unread", "has_links", "has_attempts"):
                    assert getattr(read, flag) is getattr(expected, flag), flag
        assert case_for_page(world.operator, full.public_id).has_unread is True
        assert case_for_page(world.operator, full.public_id).has_links is True
        assert case_for_page(world.operator, bare.public_id).category is None
        # The search text is read only when asked for, as with `defer`.
        assert "search_text" in case_for_page(world.operator, bare.public_id).get_deferred_fields()

    def test_another_programs_case_and_a_user_without_programs_get_404(self, world):
        from django.http import Http404

        from madoguchi.cases.selectors import case_for_page

        case = make_case(world.other_program, None)
        with pytest.raises(Http404):
            case_for_page(world.operator, case.public_id)
        mine = make_case(world.program, world.operator)
        world.program.members.remove(world.operator)
        with pytest.raises(Http404):
            case_for_page(world.operator, mine.public_id)


@pytest.mark.django_db
class FilterOptionsTests:
    """The list's category and assignee options are written statements (issue 15, hW, ninth
    session): the same rows in the same order as the querysets they replace."""

    def test_the_categories_are_the_querysets_in_its_order(self, world, second):
        from madoguchi.cases.models import Category
        from madoguchi.cases.selectors import categories_for

        Category.objects.create(program=world.program, name="旧", order=0, is_active=False)
        Category.objects.create(program=second, name="二つ目", order=0)
        Category.objects.create(program=world.program, name="後", order=9)
        ids = program_ids(world.operator)
        assert len(ids) == 2
        expected = Category.objects.filter(program_id__in=ids).order_by(
            "-is_active", "program", "order", "id"
        )
        assert [(c.pk, c.name, c.is_active) for c in categories_for(ids)] == [
            (c.pk, c.name, c.is_active) for c in expected
        ]
        assert categories_for([]) == []

    def test_the_assignees_are_the_querysets_in_its_order(self, world, second):
        from madoguchi.accounts.models import Role
        from madoguchi.cases.selectors import assignee_choices, assignees_for
        from madoguchi.conftest import make_user

        left = make_user("b-left", Role.OPERATOR, world.contractor, world.program)
        type(left).objects.filter(pk=left.pk).update(is_active=False)
        make_user("a-auditor", Role.AUDITOR, world.ward, world.program)
        unnamed = make_user("c-unnamed", Role.OPERATOR, world.contractor, second)
        type(unnamed).objects.filter(pk=unnamed.pk).update(display_name="")
        for user in (world.operator, world.supervisor, world.ward_staff):
            expected = list(assignees_for(user).only("id", "username", "display_name"))
            got = assignee_choices(user)
            assert [(p.pk, str(p)) for p in got] == [(u.pk, str(u)) for u in expected]
            assert len(got) >= 2


@pytest.mark.django_db
class HouseholdCasesTests:
    def test_the_fragment_reads_only_the_columns_it_shows(self, client, world, household):
        make_case(world.program, world.operator, household=household)
        login(client, world.operator)
        url = reverse("cases:household_cases", args=[household.public_id])
        response, sql = sql_of(lambda: client.get(url))
        assert response.status_code == 200
        rows = [text for text in sql if text.startswith('SELECT "cases_case"')]
        assert len(rows) == 1 and "search_text" not in rows[0] and '"inquiry"' not in rows[0]
        households = [text for text in sql if 'FROM "registry_household"' in text]
        assert len(households) == 1 and '"address"' not in households[0]
        assert AuditEvent.objects.filter(object_id=str(household.public_id), action="view").exists()


@pytest.mark.django_db
class IdentifySearchTests:
    def test_a_search_checks_the_program_against_the_requests_program_ids(self, client, world, household):
        login(client, world.operator)
        data = {"program": world.program.code, "guardian_kana": "シケン　ハナコ", "phone": "090-1111-2222"}
        url = reverse("identify:search")
        response, sql = sql_of(lambda: client.post(url, data, HTTP_HX_REQUEST="true"))
        assert response.status_code == 200
        assert str(household.public_id) in response.content.decode()
        assert not [text for text in sql if text.startswith('SELECT DISTINCT 1 AS "a"')]
        assert AuditEvent.objects.filter(action="identify", actor_id=world.operator.pk).count() == 1
        world.program.members.remove(world.operator)
        assert client.post(url, data, HTTP_HX_REQUEST="true").status_code == 404


@pytest.fixture
def second(world):
    """A second program of the same ward and contractor, with the operator as a member."""
    import datetime

    from madoguchi.programs.models import Program

    today = datetime.date.today()
    program = Program.objects.create(
        code="second-program",
        name="第二の事業",
        ward=world.ward,
        contractor=world.contractor,
        recording_start=today - datetime.timedelta(days=30),
        recording_end=today + datetime.timedelta(days=60),
        receipt_prefix="SP",
    )
    program.members.add(world.operator)
    return program


class TwoProgramsListTests:
    """A user in two programs: the list merges each program's newest, in one order."""

    def test_both_programs_interleave_newest_first_each_read_in_order(self, client, world, second):
        import datetime

        from django.utils import timezone

        from madoguchi.cases.selectors import CaseFilter, case_page

        start = timezone.now() - datetime.timedelta(hours=1)
        made = []
        order = [world.program, second, second, world.program, second, world.program]
        for minute, program in enumerate(order):
            case = make_case(program, world.operator)
            Case.objects.filter(pk=case.pk).update(received_at=start + datetime.timedelta(minutes=minute))
            made.append(case.pk)
        newest_first = list(reversed(made))

        with CaptureQueriesContext(connection) as queries:
            first = case_page(world.operator, CaseFilter(), page_size=4)
        assert [case.pk for case in first.cases] == newest_first[:4]
        second_page = case_page(world.operator, CaseFilter(), "", page_size=4)
        assert second_page.next_cursor == first.next_cursor
        rest = case_page(world.operator, CaseFilter(), first.next_cursor, page_size=4)
        assert [case.pk for case in rest.cases] == newest_first[4:]
        assert rest.next_cursor == ""
        # Each program is read in its own index order (program_id = …), never all of them sorted.
        sqls = [q["sql"] for q in queries.captured_queries]
        ordered = [sql for sql in sqls if "ORDER BY" in sql and "LIMIT 5" in sql]
        assert len(ordered) == 2
        assert all('"program_id" = ' in sql for sql in ordered)

        login(client, world.operator)
        page = client.get(reverse("cases:list")).content.decode()
        assert all(Case.objects.get(pk=pk).receipt_number in page for pk in made)

    @staticmethod
    def escalated_in_turn(world, second):
        """Five cases escalated a minute apart, alternating between the programs, oldest first;
        the ward staff a member of both."""
        import datetime

        from django.utils import timezone

        second.members.add(world.ward_staff)
        start = timezone.now() - datetime.timedelta(hours=1)
        made = []
        for minute, program in enumerate([second, world.program, world.program, second, world.program]):
            case = make_case(program, world.operator)
            services.escalate(
                case=case, actor=world.operator, question="確認してください。", expected_version=1
            )
            Case.objects.filter(pk=case.pk).update(escalated_at=start + datetime.timedelta(minutes=minute))
            made.append(case)
        return made

    def test_the_wards_queue_interleaves_both_programs_oldest_first(self, world, second):
        from madoguchi.cases.selectors import queue

        made = [case.pk for case in self.escalated_in_turn(world, second)]

        with CaptureQueriesContext(connection) as queries:
            rows = queue(world.ward_staff, Status.ESCALATED, limit=4)
        assert [row.case.pk for row in rows] == made[:4]
        sqls = [q["sql"] for q in queries.captured_queries]
        assert len([sql for sql in sqls if '"program_id" = ' in sql and "LIMIT 4" in sql]) == 2

    def test_the_wards_dashboard_lists_both_programs_oldest_first_each_read_in_order(
        self, world, second, monkeypatch
    ):
        from madoguchi.dashboards import selectors as dashboards

        monkeypatch.setattr(dashboards, "WAITING_LIMIT", 4)
        made = [case.public_id for case in self.escalated_in_turn(world, second)]

        with CaptureQueriesContext(connection) as queries:
            board = dashboards.shared_dashboard(world.ward_staff, fresh=True)
        assert [row.public_id for row in board.ward_waiting] == made[:4]
        sqls = [q["sql"] for q in queries.captured_queries]
        assert len([sql for sql in sqls if '"program_id" = ' in sql and "LIMIT 4" in sql]) == 2


def _at(minutes):
    import datetime

    from django.utils import timezone

    return (
        timezone.now().replace(microsecond=0)
        - datetime.timedelta(hours=2)
        + datetime.timedelta(minutes=minutes)
    )


def _per_program(sqls, limit):
    """The statements that read one program's first `limit` rows in order."""
    return [sql for sql in sqls if '"program_id" = ' in sql and "ORDER BY" in sql and f"LIMIT {limit}" in sql]


@pytest.mark.django_db
class SeveralProgramsSearchAndQueuesTests:
    """The first page of a text search, its later pages, the callback queue and the web queue of
    a user in several programs: each program read in its own index order and merged, with the
    same rows in the same order as one statement over `program_id IN (…)` gives."""

    @pytest.fixture
    def searched(self, world, second):
        """Eleven cases over the two programs, seven of them holding 配送: two pairs received at
        the same second in both programs (the id decides), one match by its text in a note only."""
        plan = [
            (world.program, 0, "配送の予定日"),
            (second, 0, "配送の状況"),
            (second, 1, "申請書の書き方"),
            (world.program, 2, "配送が遅い"),
            (second, 3, "配送業者について"),
            (world.program, 3, "配送の変更"),
            (world.program, 4, "カタログ"),
            (second, 5, "対象の確認"),
            (second, 6, "配送先の変更"),
            (world.program, 7, "期限"),
            (second, 8, "住所の変更"),
        ]
        made = []
        for program, minute, inquiry in plan:
            case = make_case(program, world.operator, inquiry=inquiry)
            Case.objects.filter(pk=case.pk).update(received_at=_at(minute))
            made.append(case)
        services.add_note(case=made[7], actor=world.operator, body="配送について追記")
        return made

    @staticmethod
    def one_statement(user, filters):
        """What the page showed before: one statement over `program_id IN (…)`."""
        from madoguchi.cases.selectors import apply_filters, cases_for

        rows = apply_filters(cases_for(user), filters, user)
        return list(rows.order_by("-received_at", "-id").values_list("pk", flat=True))

    def pages(self, user, filters, size):
        from madoguchi.cases.selectors import case_page

        first = case_page(user, filters, page_size=size)
        shown, cursor = [case.pk for case in first.cases], first.next_cursor
        while cursor:
            page = case_page(user, filters, cursor, page_size=size)
            shown += [case.pk for case in page.cases]
            cursor = page.next_cursor
        return first, shown

    def test_a_search_shows_what_one_statement_shows_page_by_page(self, world, second, searched):
        from madoguchi.cases.selectors import CaseFilter

        for filters in (
            CaseFilter(text="配送"),
            CaseFilter(text="配送", status=Status.NEW),
            CaseFilter(text="変更"),
        ):
            expected = self.one_statement(world.operator, filters)
            assert len(expected) >= 2
            for size in (1, 2, 3, 50):
                first, shown = self.pages(world.operator, filters, size)
                assert shown == expected, (filters, size)
                assert first.count_label == str(len(expected))
        # A receipt number is found in either program.
        receipt = searched[4].receipt_number
        _, shown = self.pages(world.operator, CaseFilter(text=receipt.lower()), 2)
        assert shown == [searched[4].pk]

    def test_a_user_in_one_program_searches_it_as_before(self, world, second, searched):
        from madoguchi.cases.selectors import CaseFilter

        second.members.remove(world.operator)
        filters = CaseFilter(text="配送")
        expected = self.one_statement(world.operator, filters)
        assert expected == [case.pk for case in reversed(searched) if case.program_id == world.program.pk
                            and "配送" in case.inquiry]  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            _first, shown = self.pages(world.operator, filters, 2)
        assert shown == expected
        assert _per_program([q["sql"] for q in queries.captured_queries], 3) == []

    def test_the_first_page_of_a_search_reads_each_program_in_its_own_order(self, world, second, searched):
        from madoguchi.cases.selectors import COUNT_LIMIT, CaseFilter, case_page

        with CaptureQueriesContext(connection) as queries:
            page = case_page(world.operator, CaseFilter(text="配送"), page_size=3)
        assert page.count_label == "7"
        sqls = [q["sql"] for q in queries.captured_queries]
        if connection.vendor == "postgresql":
            # The page and its capped count from each program's first COUNT_LIMIT + 1 hits.
            assert len(_per_program(sqls, COUNT_LIMIT + 1)) == 2
            ordered = [
                sql
                for sql in sqls
                if sql.startswith('SELECT "cases_case"') and '"cases_case"."id" IN' not in sql
            ]
            assert len(ordered) == 2
            with CaptureQueriesContext(connection) as queries:
                case_page(world.operator, CaseFilter(text="配送"), page.next_cursor, page_size=3)
            assert len(_per_program([q["sql"] for q in queries.captured_queries], 4)) == 2
        else:
            # SQLite's search chooses its plan for the rows wanted (sqlite_search): one statement.
            assert _per_program(sqls, 4) == []

    def test_the_text_guard_leaves_the_planners_estimate_to_like(self, world, second, searched):
        """strpos's guard is written `NOT (strpos(…) = 0)`: as `> 0` the planner took a third for
        it (no statistics on the expression), and at 100,000 cases a program a phrase in one
        case of ten was then read and sorted in full instead of walked in the list's order
        (docs/benchmarks.md, eighth session, hS)."""
        from madoguchi.cases.selectors import text_search

        sql = str(text_search(Case.objects.all(), "配送").query)
        if connection.vendor == "postgresql":
            assert 'NOT (STRPOS("cases_case"."search_text", ' in sql and ") = 0)" in sql
            assert sql.index("STRPOS") < sql.index("LIKE")
        found = text_search(Case.objects.filter(program=world.program), "配送")
        assert sorted(found.values_list("pk", flat=True)) == sorted(
            case.pk for case in searched if case.program_id == world.program.pk and "配送" in case.inquiry
        )

    @staticmethod
    def waiting_callbacks(world, second):
        """Callbacks over two programs: due days, windows and none, ties on every field but
        the id, attempts on some."""
        import datetime

        from madoguchi.cases.models import CallbackAttempt

        today = datetime.date.today()
        morning, afternoon = datetime.time(9, 0), datetime.time(14, 0)
        plan = [
            (world.program, today, afternoon, 3),
            (second, today, None, 5),
            (second, None, None, 1),
            (world.program, today, morning, 2),
            (second, today, morning, 2),
            (world.program, None, morning, 0),
            (second, today - datetime.timedelta(days=1), afternoon, 9),
            (world.program, today + datetime.timedelta(days=1), None, 4),
            (world.program, None, None, 1),
            (second, today, afternoon, 3),
            (world.program, today, None, 6),
        ]
        made = []
        for program, due, start, minute in plan:
            case = make_case(program, world.operator)
            Case.objects.filter(pk=case.pk).update(
                status=Status.CALLBACK,
                callback_due_on=due,
                callback_from=start,
                callback_until=None,
                received_at=_at(minute),
            )
            made.append(case)
        for case, attempts in zip(made, (1, 0, 2, 0, 1, 0, 3, 0, 0, 1, 0), strict=True):
            for _ in range(attempts):
                CallbackAttempt.objects.create(case=case, outcome="no_answer", attempted_by=world.operator)
        return made

    def test_the_callback_queue_shows_what_one_statement_shows(self, world, second):
        from madoguchi.cases.selectors import _callback_order, cases_for, queue

        self.waiting_callbacks(world, second)
        rows = cases_for(world.operator).filter(status=Status.CALLBACK).order_by(*_callback_order())
        expected = list(rows.values_list("pk", flat=True))
        attempts = dict(rows.annotate(n=Count("callback_attempts")).values_list("pk", "n"))
        assert len(expected) == 11
        for limit in (1, 3, 4, 7, 11, 50):
            with CaptureQueriesContext(connection) as queries:
                shown = queue(world.operator, Status.CALLBACK, limit=limit)
            assert [row.case.pk for row in shown] == expected[:limit], limit
            assert [row.attempts for row in shown] == [attempts[pk] for pk in expected[:limit]]
            sqls = [q["sql"] for q in queries.captured_queries]
            assert len(_per_program(sqls, limit)) == 2
            assert all("COUNT(" not in sql for sql in _per_program(sqls, limit))

        second.members.remove(world.operator)
        alone = list(cases_for(world.operator).filter(status=Status.CALLBACK).order_by(*_callback_order()))
        with CaptureQueriesContext(connection) as queries:
            shown = queue(world.operator, Status.CALLBACK, limit=4)
        assert [row.case.pk for row in shown] == [case.pk for case in alone[:4]]
        # The attempts are counted for the four shown, not for the whole queue before its LIMIT.
        reads = [q["sql"] for q in queries.captured_queries if '"cases_case"' in q["sql"]]
        assert len(reads) == 2
        ordered = [sql for sql in reads if '"cases_case"."id" IN' not in sql]
        assert len(ordered) == 1 and "COUNT(" not in ordered[0]

    def test_the_callback_queues_page_lists_both_programs(self, client, world, second):
        made = self.waiting_callbacks(world, second)
        login(client, world.operator)
        page = client.get(reverse("cases:queue", args=["callback"])).content.decode()
        assert all(case.receipt_number in page for case in made)

    def test_the_web_queue_shows_what_one_statement_shows(self, world, second):
        from madoguchi.cases.models import Channel
        from madoguchi.cases.selectors import cases_for, web_queue

        for program, minute in [
            (second, 3),
            (world.program, 1),
            (second, 1),
            (world.program, 0),
            (second, 5),
        ]:
            case = make_case(program, world.operator, channel=Channel.FORM)
            Case.objects.filter(pk=case.pk).update(received_at=_at(minute))
        rows = cases_for(world.operator).filter(status=Status.NEW, channel=Channel.FORM)
        expected = list(rows.order_by("received_at", "id").values_list("pk", flat=True))
        for limit in (1, 2, 3, 5):
            with CaptureQueriesContext(connection) as queries:
                shown = web_queue(world.operator, limit=limit)
            assert [case.pk for case in shown] == expected[:limit]
            assert len(_per_program([q["sql"] for q in queries.captured_queries], limit)) == 2

    def test_the_merge_puts_nulls_where_the_database_does(self, world, second):
        """Field names without a NULLs order: the database's own (PostgreSQL last ascending,
        SQLite first), in either direction."""
        from madoguchi.cases.selectors import cases_for, first_per_program
        from madoguchi.programs.scoping import program_ids

        self.waiting_callbacks(world, second)
        rows = cases_for(world.operator)
        scope = program_ids(world.operator)
        for order in (("callback_due_on", "id"), ("-callback_due_on", "-id"), ("-received_at", "id")):
            expected = list(rows.order_by(*order).values_list("pk", flat=True))
            for limit in (1, 4, 6, 11):
                assert first_per_program(rows, scope, order, limit) == expected[:limit], (order, limit)


def _panel_as_the_rows_say(user, program, result):
    """What the panel showed before its rows were read in written statements: the same
    fields, from the ORM's full rows (the reference the written statements must match)."""
    from madoguchi.identify.selectors import FIELD_NAMES, HOW, _family, town_of
    from madoguchi.programs.scoping import restrict
    from madoguchi.registry.models import Household

    rows = restrict(Household.objects.filter(program=program), user, "identify")
    shown = []
    for candidate in result.candidates:
        household = rows.filter(pk=candidate.household_id).first()
        if household is None:
            continue
        children = list(household.children.all())
        shown.append(
            {
                "public_id": str(household.public_id),
                "number": household.number,
                "score": round(candidate.score * 100),
                "family_names": [
                    f for f in (_family(g.name) for g in household.guardians.order_by("pk")) if f
                ],
                "children": len(children),
                "child_birth_years": sorted(c.dob.year for c in children),
                "town": town_of(household.address),
                "evidence": [
                    {"field": FIELD_NAMES.get(e.field, e.field), "how": HOW[e.how][0], "css": HOW[e.how][1]}
                    for e in candidate.evidence
                    if e.how in HOW
                ],
            }
        )
    return shown


@pytest.mark.django_db
class IdentifyPanelTests:
    """The identify search's panel (issue 15, hS): the candidates' rows in two written
    statements, the fragment without the navigation, the program from the request's ids."""

    @pytest.fixture
    def listed(self, world, household):
        import datetime

        from madoguchi.registry.models import Guardian

        two_guardians = add_household(
            world.program,
            "300002",
            guardian=("山田　花子", "ヤマダ　ハナコ", "1988-03-04"),
            children=[
                ("山田　蓮", "ヤマダ　レン", "2019-07-01"),
                ("山田　葵", "ヤマダ　アオイ", "2016-02-29"),
            ],
            address="東京都世田谷区弦巻二丁目19番6号　ハイツ101",
        )
        Guardian.objects.create(
            household=two_guardians, name="佐藤　太郎", name_key="佐藤太郎", dob=datetime.date(1985, 1, 1)
        )
        no_children = add_household(
            world.program, "300003", guardian=("単名", "タンメイ", "1970-01-01"), children=[]
        )
        elsewhere = add_household(
            world.other_program,
            "900001",
            guardian=("別所　一郎", "ベッショ　イチロウ", "1980-01-01"),
            children=[],
        )
        return [two_guardians, household, no_children, elsewhere]

    @staticmethod
    def result(households, missing_id=None):
        from madoguchi.identify.engine import Candidate, Result
        from madoguchi.identify.scoring import Evidence

        evidence = [Evidence("guardian_name", "exact", 3.0), Evidence("phone", "disagree", -1.0)]
        candidates = [
            Candidate(h.pk, h.number, str(h.public_id), 0.9 - i / 10, evidence[: i % 3])
            for i, h in enumerate(households)
        ]
        if missing_id is not None:
            candidates.insert(1, Candidate(missing_id, "0", "", 0.5, []))
        return Result(candidates=candidates, abstained=False, fields_used=["guardian_name"])

    def test_the_candidates_are_what_the_rows_say_in_two_statements(self, world, listed):
        import dataclasses

        from madoguchi.identify.selectors import candidate_views

        result = self.result(listed, missing_id=max(h.pk for h in listed) + 100)
        with CaptureQueriesContext(connection) as queries:
            views = candidate_views(user=world.operator, program=world.program, result=result)
        expected = _panel_as_the_rows_say(world.operator, world.program, result)
        assert [dataclasses.asdict(view) for view in views] == expected
        # Another program's household and a household no longer listed are left out.
        assert [view.number for view in views] == ["300002", "300001", "300003"]
        assert views[0].family_names == ["山田", "佐藤"]
        assert views[0].child_birth_years == [2016, 2019]
        registry = [q["sql"] for q in queries.captured_queries if "registry_" in q["sql"]]
        assert len(registry) == 2

    def test_a_user_outside_the_program_sees_no_candidate(self, world, listed):
        from madoguchi.identify.selectors import candidate_views

        result = self.result(listed)
        assert candidate_views(user=world.other_program_operator, program=world.program, result=result) == []
        world.program.members.remove(world.operator)
        assert candidate_views(user=world.operator, program=world.program, result=result) == []

    def test_the_fragment_reads_neither_the_navigation_nor_the_banner(self, client, world, household):
        login(client, world.operator)
        data = {"program": world.program.code, "guardian_kana": "シケン　ハナコ", "phone": "090-1111-2222"}
        response, sql = sql_of(lambda: client.post(reverse("identify:search"), data, HTTP_HX_REQUEST="true"))
        html = response.content.decode()
        assert response.status_code == 200
        assert f'data-candidate="{household.public_id}"' in html
        assert 'name="csrfmiddlewaretoken" value="' in html
        # The badges' counts and the erasure banner are the navigation's, which a fragment lacks
        # (the banner's rows come with the session's user, accounts.otp: no statement of their own).
        own = [text for text in sql if "otp_totp" not in text]
        assert not [
            text for text in own if '"cases_notification"' in text or "lifecycle_programerasure" in text
        ]
        # The program is found among the user's programs (member_program: one written statement).
        assert not [text for text in sql if text.startswith('SELECT DISTINCT "programs_program"')]

    def test_a_refused_search_is_a_fragment_too(self, client, world, household):
        login(client, world.operator)
        data = {"program": world.program.code, "guardian_name": "あ" * 300}
        response = client.post(reverse("identify:search"), data, HTTP_HX_REQUEST="true")
        assert response.status_code == 400
        assert "入力が長すぎます。" in response.content.decode()
        other = {"program": world.other_program.code, "guardian_kana": "シケン"}
        assert client.post(reverse("identify:search"), other, HTTP_HX_REQUEST="true").status_code == 404
        assert client.post(reverse("identify:search"), {"guardian_kana": "シケン"}).status_code == 404

    def test_the_page_reads_the_users_programs_once(self, client, world, household):
        login(client, world.operator)
        url = reverse("identify:page")
        response, sql = sql_of(lambda: client.get(url, {"program": world.program.code}))
        assert response.status_code == 200
        assert world.program.name in response.content.decode()
        assert len([text for text in sql if text.startswith('SELECT "programs_program"')]) == 1
        assert client.get(url, {"program": world.other_program.code}).status_code == 404
        assert client.get(url, {"program": "no-such-program"}).status_code == 404


# The loops the list's and the queues' templates had (issue 15, hL): the rows and options now
# written by the views must be byte for byte what these wrote.
OLD_QUEUE_ROWS = (
    "{% load i18n %}{% for row in rows %}\n"
    '  <tr{% if row.overdue %} class="is-overdue"{% endif %}>'
    "<td><a href=\"{% url 'cases:detail' row.case.public_id %}\">{{ row.case.receipt_number }}</a></td>\n"
    '    <td>{{ row.case.category.name|default:"—" }}</td>\n'
    '    <td>{% if status == "escalated" %}{{ row.case.escalated_at|date:"Y-m-d H:i" }}'
    '{% else %}{{ row.case.updated_at|date:"Y-m-d H:i" }}{% endif %}</td>\n'
    "    <td>{{ row.waited_business_days }}</td>\n"
    '    <td>{{ row.case.ward_due_on|date:"Y-m-d"|default:"—" }}{% if row.overdue %} '
    '<strong class="overdue-mark">{% translate "期限超過" %}</strong>{% endif %}</td></tr>\n'
    "  {% endfor %}"
)
OLD_OPTIONS = (
    "{% load i18n %}"
    '{% for category in categories %}<option value="{{ category.pk }}"'
    "{% if form.cleaned_data.category == category.pk %} selected{% endif %}>{{ category.name }}"
    '{% if not category.is_active %}{% translate "（無効）" %}{% endif %}</option>{% endfor %}\n'
    '{% for person in assignees %}<option value="{{ person.pk }}"'
    "{% if form.cleaned_data.assignee == person.pk %} selected{% endif %}>{{ person }}</option>{% endfor %}"
)


@pytest.mark.django_db
class ListAndQueueRowsTests:
    @pytest.fixture
    def cases(self, world):
        from madoguchi.cases.models import Category

        odd = Category.objects.create(program=world.program, name="<b>配送 & 到着</b>", order=1)
        Category.objects.create(program=world.program, name='旧分類 "引用"', order=2, is_active=False)
        made = []
        for category in [odd, None, odd]:
            case = make_case(world.program, world.operator, category=category)
            services.escalate(
                case=case, actor=world.operator, question="確認を", expected_version=case.version
            )
            made.append(case)
        # One past its deadline, one without a deadline.
        Case.objects.filter(pk=made[0].pk).update(ward_due_on=datetime.date(2020, 1, 6))
        Case.objects.filter(pk=made[1].pk).update(ward_due_on=None)
        return made

    def test_the_wards_queue_reads_only_what_it_shows_and_writes_the_rows_as_before(
        self, client, world, cases
    ):
        from django.template import Context, Template

        from madoguchi.cases.selectors import queue

        login(client, world.ward_staff)
        response, sql = sql_of(lambda: client.get("/cases/queue/escalated/"))
        assert response.status_code == 200
        (statement,) = [text for text in sql if 'ORDER BY "cases_case"."escalated_at"' in text]
        # Neither the timeline's text nor the assignee: the queue shows neither.
        assert "search_text" not in statement
        assert "accounts_user" not in statement
        rows = queue(world.ward_staff, Status.ESCALATED)
        assert [row.overdue for row in rows] == [True, False, False]
        old = Template(OLD_QUEUE_ROWS).render(Context({"rows": rows, "status": Status.ESCALATED}))
        html = response.content.decode()
        assert old.count("<tr") == 3 and "&lt;b&gt;配送 &amp; 到着&lt;/b&gt;" in old
        assert f"<tbody>\n  {old}\n  </tbody>" in html

    def test_the_list_writes_its_rows_and_options_as_before(self, client, world, cases):
        from django.template import Context, Template

        from madoguchi.cases import selectors
        from madoguchi.cases.forms import SearchForm
        from madoguchi.programs.scoping import program_ids

        login(client, world.supervisor)
        odd = cases[0].category
        for query in (f"?category={odd.pk}&assignee={world.operator.pk}", "?category=x&assignee=y", ""):
            html = client.get(f"/cases/{query}").content.decode()
            form = SearchForm(dict(item.split("=") for item in query[1:].split("&") if item))
            form.is_valid()
            old = Template(OLD_OPTIONS).render(
                Context(
                    {
                        "form": form,
                        "categories": selectors.categories_for(program_ids(world.supervisor)),
                        "assignees": selectors.assignee_choices(world.supervisor),
                    }
                )
            )
            categories, assignees = old.split("\n")
            assert f"すべて</option>\n      {categories}\n    </select>" in html
            assert f"すべて</option>\n      {assignees}\n    </select>" in html
        assert "旧分類 &quot;引用&quot;（無効）</option>" in categories
        html = client.get("/cases/").content.decode()
        for case in cases:
            case.refresh_from_db()
            received = timezone.localtime(case.received_at).strftime("%Y-%m-%d %H:%M")
            category = "&lt;b&gt;配送 &amp; 到着&lt;/b&gt;" if case.category else "—"
            assert (
                f'\n    <tr><td><a href="/cases/{case.public_id}/">{case.receipt_number}</a></td>'
                f"\n      <td>{received}</td><td>区確認中</td>"
                f"\n      <td>{category}</td><td>電話</td><td>{case.assignee}</td></tr>\n  "
            ) in html
