"""R-14 also guards the audit export and the target-list import (issue #14)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from madoguchi.accounts.sessions import AUTH_AT
from madoguchi.accounts.testing import login
from madoguchi.audit.models import Action, AuditEvent
from madoguchi.registry import uploads
from madoguchi.registry.models import TargetListImport
from madoguchi.registry.tests.csvdata import csv_bytes, row

pytestmark = pytest.mark.django_db


def stale_login(user) -> Client:
    """Logged in 10 minutes ago: past the 5-minute re-authentication window."""
    client = Client()
    login(client, user)
    session = client.session
    session[AUTH_AT] = time.time() - 600
    session.save()
    return client


@pytest.fixture(autouse=True)
def upload_dir(tmp_path, monkeypatch):
    directory = tmp_path / "uploads"
    directory.mkdir()
    monkeypatch.setattr(uploads, "upload_dir", lambda: directory)
    return directory


@pytest.mark.parametrize(
    ("name", "back"), [("audit:export", "audit:events"), ("audit:review_export", "audit:review")]
)
def test_the_audit_exports_ask_for_the_code_again(world, name, back):
    client = stale_login(world.auditor)
    response = client.post(reverse(name), {})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    assert reverse(back).replace("/", "%2F") in response["Location"]
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_fresh_login_exports(world):
    client = Client()
    login(client, world.auditor)
    response = client.post(reverse("audit:export"), {})
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_the_target_list_upload_and_confirm_ask_for_the_code_again(world):
    client = stale_login(world.ward_staff)
    data = csv_bytes([row("H001")])
    response = client.post(
        reverse("registry:upload", args=[world.program.code]),
        {"file": SimpleUploadedFile("targets.csv", data, content_type="text/csv")},
    )
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))
    expected = reverse("registry:program_imports", args=[world.program.code]).replace("/", "%2F")
    assert expected in response["Location"]
    assert not client.session.get(uploads.SESSION_KEY)
    response = client.post(reverse("registry:confirm", args=[world.program.code]), {"token": "x"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:reauth"))
    assert TargetListImport.objects.count() == 0


def test_an_operator_is_refused_before_any_detour(world):
    client = stale_login(world.operator)
    assert client.post(reverse("audit:export"), {}).status_code == 403
