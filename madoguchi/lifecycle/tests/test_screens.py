from __future__ import annotations

import io
import json
import time
import zipfile

import pytest
from django.test import Client

from madoguchi.accounts.sessions import AUTH_AT
from madoguchi.accounts.testing import login
from madoguchi.audit.models import AuditEvent
from madoguchi.lifecycle.models import ErasureState, ProgramErasure
from madoguchi.lifecycle.tests.conftest import Life, end_recording
from madoguchi.registry.models import Household


def url(life: Life, name: str = "") -> str:
    return f"/lifecycle/{life.program.code}/{name}"


def client_for(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    login(client, user)
    return client


@pytest.mark.django_db
def test_the_page_is_for_the_wards_manager_and_auditor_only(life: Life) -> None:
    assert client_for(life.world.ward_manager).get(url(life)).status_code == 200
    assert client_for(life.world.auditor).get(url(life)).status_code == 200
    for user in (life.world.operator, life.world.supervisor, life.world.ward_staff):
        assert client_for(user).get(url(life)).status_code == 403
    assert client_for(life.world.outsider).get(url(life)).status_code == 403
    assert client_for(life.world.ward_manager).get("/lifecycle/other-program/").status_code == 404


@pytest.mark.django_db
def test_return_download_needs_a_recent_second_factor(life: Life) -> None:
    client = client_for(life.world.ward_manager)
    session = client.session
    session[AUTH_AT] = time.time() - 3600
    session.save()
    response = client.post(url(life, "return"))
    assert response.status_code == 302 and "/reauth" in response["Location"]
    assert not AuditEvent.objects.filter(object_type="program_return").exists()


@pytest.mark.django_db
def test_the_ward_manager_downloads_the_return_as_a_zip(life: Life) -> None:
    response = client_for(life.world.ward_manager).post(url(life, "return"))
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    names = {name.rsplit("/", 1)[-1] for name in archive.namelist()}
    assert {
        "targets.csv",
        "cases.csv",
        "timeline.csv",
        "return.xlsx",
        "manifest.json",
        "return-inventory.pdf",
    } <= names
    manifest = json.loads(archive.read(f"return-{life.program.code}/manifest.json"))
    assert {item["name"] for item in manifest["files"]} >= {"targets.csv"}
    assert AuditEvent.objects.filter(object_type="program_return", details__via="screen").exists()


@pytest.mark.django_db(transaction=True)
def test_request_approve_purge_and_certificate_on_screens(life: Life) -> None:
    manager, auditor = client_for(life.world.ward_manager), client_for(life.world.auditor)
    response = manager.post(url(life, "request-purge"), {"reason": ""})
    assert response.status_code == 400 and "消去の理由を入力してください" in response.content.decode()
    response = manager.post(url(life, "request-purge"), {"reason": "事業終了", "waive_return": "on"})
    assert response.status_code == 302
    # The requester sees no approval button, and a POST is refused.
    assert "消去を承認する" not in manager.get(url(life)).content.decode()
    manager.post(url(life, "approve-purge"))
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.REQUESTED
    page = auditor.get(url(life)).content.decode()
    assert "消去を承認する" in page
    assert auditor.post(url(life, "approve-purge")).status_code == 302
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.APPROVED
    # The auditor cannot run it; recording still open refuses it for the manager.
    auditor.post(url(life, "purge"))
    manager.post(url(life, "purge"))
    assert Household.objects.filter(program=life.program).exists()
    end_recording(life.program)
    assert manager.post(url(life, "purge")).status_code == 302
    assert not Household.objects.filter(program=life.program).exists()
    # Every page now says the program was erased.
    operator_page = client_for(life.world.operator).get("/cases/")
    assert operator_page.status_code == 200 and "消去済みです" in operator_page.content.decode()
    assert "消去済みです" in manager.get(url(life)).content.decode()
    for client in (manager, auditor):
        response = client.get(url(life, "certificate"))
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert client_for(life.world.operator).get(url(life, "certificate")).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_the_audit_screen_names_the_life_cycle_in_japanese(life: Life, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from madoguchi.lifecycle import services
    from madoguchi.lifecycle.returning import return_export

    world = life.world
    return_export(program=life.program, actor=world.ward_manager, out_dir=tmp_path / "r")
    end_recording(life.program)
    services.request_purge(program=life.program, actor=world.ward_manager, reason="終了")
    services.approve_purge(program=life.program, actor=world.auditor)
    services.purge(program=life.program, actor=world.ward_manager)
    page = client_for(world.ward_manager).get("/audit/events").content.decode()
    for words in (
        "区への返還",
        "消去の依頼",
        "事業データの消去（封印）",
        "消去証明書",
        "消去の手順",
        "対象者一覧",
    ):
        assert words in page, words
    for code in (
        ">program_erasure<",
        "saved_searches",
        "その他（waive",
        "その他（steps",
        "その他（scan",
        "その他（files",
    ):
        assert code not in page, code


@pytest.mark.django_db(transaction=True)
def test_a_program_too_large_for_one_request_is_erased_with_the_command(life: Life, settings) -> None:  # type: ignore[no-untyped-def]
    """gunicorn ends a request after 60 s; the purge of a national program takes minutes. The
    screen says which command to run instead of a button that would be cut off half-way."""
    end_recording(life.program)
    manager, auditor = client_for(life.world.ward_manager), client_for(life.world.auditor)
    manager.post(url(life, "request-purge"), {"reason": "事業終了", "waive_return": "on"})
    auditor.post(url(life, "approve-purge"))
    page = manager.get(url(life)).content.decode()
    assert "消去を実行する" in page and "madoguchi lifecycle purge" not in page
    settings.LIFECYCLE_SCREEN_PURGE_SECONDS = 0.0001  # the test's four households are "too many"
    page = manager.get(url(life)).content.decode()
    assert "消去を実行する" not in page
    assert f"madoguchi lifecycle purge --program {life.program.code} --as" in page
    response = manager.post(url(life, "purge"), follow=True)
    assert "画面からの消去は応答の制限時間内に終わらないおそれがあります" in response.content.decode()
    assert ProgramErasure.objects.get(program=life.program).state == ErasureState.APPROVED
    assert Household.objects.filter(program=life.program).exists()
