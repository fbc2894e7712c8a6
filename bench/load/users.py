"""Accounts and search keys for the load run (synthetic data of the cluster only).

    .venv/bin/python -m bench.load.users --operators=300 --ward=10 --supervisors=5 --out=FILE

Run with the cluster's settings (DATABASE_URL of its primary: `deploy/cluster/load.sh` does
it). Creates or reuses `load-op-NNN`, `load-ward-NN`, `load-sv-NN` in the demo program, each
with a confirmed TOTP device, and writes their passwords and TOTP secrets (base32) with a
sample of households' search keys (guardian kana, phone, public id) to FILE for locust.
"""

from __future__ import annotations

import base64
import json
import os
import random
import sys
from pathlib import Path

PASSWORD = "load-test-Passw0rd-madoguchi"


def main(argv: list[str]) -> int:
    opts = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db.models import Max, Min
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from madoguchi.accounts.models import Role, User
    from madoguchi.demo.services import DEMO_PROGRAM_CODE
    from madoguchi.programs.models import Program
    from madoguchi.registry.models import Guardian, Household

    program = Program.objects.get(code=DEMO_PROGRAM_CODE)
    hashed = make_password(PASSWORD)
    kinds = [
        ("load-op-{:03d}", int(opts.get("operators", 300)), Role.OPERATOR, program.contractor),
        ("load-ward-{:02d}", int(opts.get("ward", 10)), Role.WARD_STAFF, program.ward),
        ("load-sv-{:02d}", int(opts.get("supervisors", 5)), Role.SUPERVISOR, program.contractor),
    ]
    out: dict[str, object] = {"program": program.code, "password": PASSWORD}
    for pattern, count, role, organisation in kinds:
        accounts = []
        for number in range(1, count + 1):
            user, _created = User.objects.get_or_create(
                username=pattern.format(number),
                defaults={
                    "role": role,
                    "organisation": organisation,
                    "display_name": f"負荷試験 {number}",
                    "password": hashed,
                },
            )
            program.members.add(user)
            device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
            if device is None:
                device = TOTPDevice.objects.create(user=user, name="load", confirmed=True)
            secret = base64.b32encode(bytes.fromhex(device.key)).decode().rstrip("=")
            accounts.append({"username": user.username, "totp": secret})
        out[str(role)] = accounts
    # Callers drawn from the whole list (a million households in the full run), not its first rows.
    ids = Household.objects.filter(program=program).aggregate(low=Min("pk"), high=Max("pk"))
    rng = random.Random(15)
    picks = [rng.randint(ids["low"], ids["high"]) for _ in range(4000)] if ids["low"] else []
    sample = Guardian.objects.filter(household__program=program, household_id__in=picks).exclude(phone="")
    out["households"] = [
        {"kana": kana, "phone": phone, "household": str(public_id)}
        for kana, phone, public_id in sample.values_list("kana", "phone", "household__public_id")[:2000]
    ]
    Path(opts.get("out", "var/cluster/load-users.json")).write_text(json.dumps(out, ensure_ascii=False))
    counts = ", ".join(f"{key}={len(value)}" for key, value in out.items() if isinstance(value, list))
    print(f"負荷試験の利用者を用意しました: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
