"""The commands as outside tools run them: exit statuses, Japanese messages, refusals."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command

from madoguchi.accounts.models import Role
from madoguchi.conftest import make_user
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.tests.conftest import Life, end_recording
from madoguchi.registry.models import Household


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("lifecycle", *args, stdout=out, stderr=err)
    except SystemExit as exit:
        return int(exit.code or 0), out.getvalue(), err.getvalue()
    return 0, out.getvalue(), err.getvalue()


@pytest.mark.django_db(transaction=True)
def test_request_approve_purge_from_the_command_line(life: Life, tmp_path: Path) -> None:
    code = life.program.code
    status, out, _ = run("return-export", "--program", code, "--out", str(tmp_path / "r"), "--as", "manager")
    assert status == 0 and "manifest.json" in out
    status, _, err = run("request-purge", "--program", code, "--reason", "事業終了", "--as", "manager")
    assert status == 0, err
    # The requester cannot approve.
    status, _, err = run("approve-purge", "--program", code, "--as", "manager")
    assert status == 1 and "依頼した本人" in err
    # An operator cannot either.
    status, _, err = run("approve-purge", "--program", code, "--as", "operator")
    assert status == 1 and "承認できる" in err
    # Not approved yet: the purge refuses.
    status, _, err = run("purge", "--program", code, "--as", "manager")
    assert status == 1 and "承認されていません" in err
    status, out, _ = run("approve-purge", "--program", code, "--as", "auditor")
    assert status == 0 and "承認しました" in out
    # Recording still open: refused, nothing erased.
    status, _, err = run("purge", "--program", code, "--as", "manager")
    assert status == 1 and "記録期間中" in err
    assert Household.objects.filter(program=life.program).exists()
    end_recording(life.program)
    status, out, _ = run("purge", "--program", code, "--as", "manager", "--dry-run")
    assert status == 0 and "registry_household（世帯）: 3 行" in out
    assert "registry_child（児童）: 4 行" in out
    assert Household.objects.filter(program=life.program).exists()
    status, out, err = run("purge", "--program", code, "--as", "manager")
    assert status == 0, err
    assert "消去証明書を発行しました" in out and "見つかりませんでした" in out
    assert not Household.objects.filter(program=life.program).exists()
    # A rerun after the end is harmless.
    status, out, _ = run("purge", "--program", code, "--as", "manager")
    assert status == 0 and "すでに消去済み" in out
    status, out, _ = run("certificate", "--program", code, "--out", str(tmp_path / "c.pdf"))
    assert status == 0 and (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")


@pytest.mark.django_db
def test_purge_refuses_without_a_return_unless_waived(life: Life) -> None:
    code = life.program.code
    end_recording(life.program)
    assert run("request-purge", "--program", code, "--reason", "終了", "--as", "manager")[0] == 0
    assert run("approve-purge", "--program", code, "--as", "auditor")[0] == 0
    status, _, err = run("purge", "--program", code, "--as", "manager")
    assert status == 1 and "返還されていません" in err
    assert Household.objects.filter(program=life.program).exists()


@pytest.mark.django_db
def test_another_ward_manager_may_approve_but_not_another_wards(life: Life) -> None:
    world = life.world
    second = make_user("manager2", Role.WARD_MANAGER, world.ward, life.program)
    foreign = make_user("manager-b", Role.WARD_MANAGER, world.other_ward, life.program)
    code = life.program.code
    assert (
        run("request-purge", "--program", code, "--reason", "終了", "--waive-return", "--as", "manager")[0]
        == 0
    )
    status, _, err = run("approve-purge", "--program", code, "--as", foreign.username)
    assert status == 1 and err
    status, _, _ = run("approve-purge", "--program", code, "--as", second.username)
    assert status == 0
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.APPROVED


@pytest.mark.django_db
def test_only_a_ward_manager_requests(life: Life) -> None:
    code = life.program.code
    for who in ("operator", "auditor", "ward", "outsider"):
        status, _, err = run("request-purge", "--program", code, "--reason", "x", "--as", who)
        assert status == 1 and err, who
    status, _, err = run("request-purge", "--program", "nope", "--reason", "x", "--as", "manager")
    assert status == 1 and "nope" in err
    status, _, err = run("certificate", "--program", code, "--out", "/tmp/never.pdf")
    assert status == 1 and "まだありません" in err
