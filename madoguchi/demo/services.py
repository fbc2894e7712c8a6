"""The demo set-up: the Setagaya program, its two organisations and one user per role.

Idempotent: running it again updates what exists and creates nothing twice. Passwords are new
random ones on every run (they are printed, never stored in clear).
"""

from __future__ import annotations

import base64
import datetime
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from madoguchi.accounts.models import AllowedNetwork, Organisation, Role, User
from madoguchi.cases.demo import seed_standard_answers
from madoguchi.cases.services import ensure_default_categories
from madoguchi.demo.history import seed_history
from madoguchi.programs.models import Program
from madoguchi.registry.demo_data import Window, write_csv
from madoguchi.registry.services import ImportReport, import_target_list

DEMO_PROGRAM_CODE = "setagaya-kaji-2023"
REAL_RECORDING_START = datetime.date(2023, 2, 3)
REAL_RECORDING_END = datetime.date(2023, 5, 10)

DEMO_USERS: list[tuple[str, str, Role, str]] = [
    # username, display name, role, organisation code
    ("operator", "デモ オペレーター", Role.OPERATOR, "demo-callcenter"),
    ("supervisor", "デモ スーパーバイザー", Role.SUPERVISOR, "demo-callcenter"),
    ("ward", "デモ 区職員", Role.WARD_STAFF, "setagaya-kodomo"),
    ("manager", "デモ 区管理者", Role.WARD_MANAGER, "setagaya-kodomo"),
    ("auditor", "デモ 監査担当", Role.AUDITOR, "setagaya-kodomo"),
    ("sysadmin", "デモ システム管理者", Role.SYSADMIN, "demo-callcenter"),
]


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    organisation: str
    totp_secret: str = ""


@dataclass
class DemoResult:
    program: Program
    logins: list[DemoLogin]
    shifted: bool


def demo_password() -> str:
    # Four groups of four from an alphabet without look-alikes: easy to type from the console.
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


@transaction.atomic
def seed_demo(*, shift_to_today: bool = True) -> DemoResult:
    ward, _ = Organisation.objects.update_or_create(
        code="setagaya-kodomo",
        defaults={"name": "世田谷区 子ども家庭課", "kind": Organisation.Kind.WARD},
    )
    contractor, _ = Organisation.objects.update_or_create(
        code="demo-callcenter",
        defaults={"name": "デモ コールセンター（委託先）", "kind": Organisation.Kind.CONTRACTOR},
    )
    today = timezone.localdate()
    start, end = REAL_RECORDING_START, REAL_RECORDING_END
    shifted = shift_to_today and not (start <= today <= end)
    if shifted:
        # The demo must be usable today: keep the real period's length, centred on today.
        length = end - start
        start = today - datetime.timedelta(days=30)
        end = start + length
    program, _ = Program.objects.update_or_create(
        code=DEMO_PROGRAM_CODE,
        defaults={
            "name": "家事支援用品購入支援事業",
            "description": (
                "世田谷区の家事支援用品購入支援事業（デモ）。実際の記録期間は 2023-02-03 から "
                "2023-05-10、対象は 2019-04-02 から 2022-04-01 に生まれた児童の保護者。"
                + ("デモのため記録期間を本日を含むようにずらしています。" if shifted else "")
            ),
            "ward": ward,
            "contractor": contractor,
            "recording_start": start,
            "recording_end": end,
            "child_dob_from": datetime.date(2019, 4, 2),
            "child_dob_to": datetime.date(2022, 4, 1),
            "receipt_prefix": "KJ",
            "answer_target_business_days": 2,
        },
    )
    ensure_default_categories(program=program)
    organisations = {ward.code: ward, contractor.code: contractor}
    # The demo's allowlist: loopback only, so a request from 127.0.0.2 shows the refusal.
    for organisation in organisations.values():
        for network in ("127.0.0.1/32", "::1/128"):
            AllowedNetwork.objects.get_or_create(
                organisation=organisation, network=network, defaults={"note": "デモ（ループバックのみ）"}
            )
    logins: list[DemoLogin] = []
    for username, display_name, role, org_code in DEMO_USERS:
        password = demo_password()
        user, _ = User.objects.update_or_create(
            username=username,
            defaults={
                "display_name": display_name,
                "role": role,
                "organisation": organisations[org_code],
                "is_active": True,
            },
        )
        user.set_password(password)
        user.save()
        if role != Role.SYSADMIN:
            program.members.add(user)
        # Kept across runs, so an authenticator app set up once keeps working.
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first() or TOTPDevice.objects.create(
            user=user, name="demo", confirmed=True
        )
        secret = base64.b32encode(device.bin_key).decode("ascii")
        logins.append(DemoLogin(username, password, str(role.label), organisations[org_code].name, secret))
    seed_standard_answers(program=program, actor=User.objects.filter(username="ward").first())
    seed_history(program=program)
    return DemoResult(program=program, logins=logins, shifted=shifted)


DEMO_TARGETS_PREFIX = "demo-targets-"


def seed_targets(*, program: Program, households: int, seed: int = 2023) -> ImportReport | None:
    """Generate and import a synthetic target list of `households` households.

    The same count and seed give the same file, so a second run imports nothing new
    (status UNCHANGED). The import is recorded as done by the demo ward officer.

    A list that did not come from here (a list a ward imported, the load run's million
    households) is left alone and None is returned: importing the demo's file over it would
    end the eligibility of every household the file does not name (`make cluster` run again
    after `load.sh --data` once shrank a million households to the demo's 2,000).
    """
    latest = program.target_imports.filter(version__isnull=False).order_by("-version").first()
    if latest is not None and not latest.file_name.startswith(DEMO_TARGETS_PREFIX):
        return None
    window = Window(start=program.child_dob_from or Window.start, end=program.child_dob_to or Window.end)
    user = User.objects.filter(username="ward").first()
    with tempfile.TemporaryDirectory(prefix="mdg-demo-") as directory:
        path = Path(directory) / f"{DEMO_TARGETS_PREFIX}{households}-{seed}.csv"
        write_csv(path, households=households, seed=seed, window=window)
        return import_target_list(program=program, path=path, file_name=path.name, user=user)
