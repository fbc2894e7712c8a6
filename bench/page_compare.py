"""The staff pages of the load run's mix, fetched and stored, to compare two trees byte for byte.

    cd TREE_A && python -m bench page_compare --out=/tmp/pages-a
    cd TREE_B && python -m bench page_compare --out=/tmp/pages-b
    python -m bench page_compare --compare=/tmp/pages-a,/tmp/pages-b

On the staff mix's database (`bench/staff_mix.py`: `mdg_bench_staff`, or DATABASE_URL), as the
load run's accounts and the demo's (operator, ward staff, supervisor, ward manager, auditor;
the demo's operator and ward staff work on two programs), in Japanese and English: the home
page, the identify page, the case list, the queues, the case form, the case pages of the
program's twenty latest cases, the household cases fragment of twenty households and twenty
identify searches (htmx), each GET twice (the second with the badges and the memo warm).
Nothing is written but the searches' and views' audit events, which no compared page shows.
Per-request randomness is masked before the comparison: CSRF tokens, request ids, idempotency
keys and the dashboard's time of counting.
"""

from __future__ import annotations

import difflib
import os
import re
import sys
from pathlib import Path
from typing import Any

MASKS = (
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'), r"\1CSRF"),
    (re.compile(r'(name="csrf-token" content=")[^"]+'), r"\1CSRF"),
    (re.compile(r'(class="request-id">)[^<]+'), r"\1RID"),
    (re.compile(r'(name="idempotency_key" value=")[^"]*'), r"\1KEY"),
    # The dashboard's time of counting (its counts are kept for a few seconds).
    (re.compile(r"(Counts as of )\d{4}-\d\d-\d\d \d\d:\d\d:\d\d"), r"\1AT"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d( 現在の件数です)"), r"AT\1"),
)
USERS = ("load-op-001", "load-ward-01", "load-sv-01", "operator", "ward", "supervisor", "manager", "auditor")


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def _requests(program: Any) -> list[tuple[str, str, dict[str, str], dict[str, str]]]:
    """(name, path, POST data or {}, headers) of every page fetched for each user."""
    from bench.staff_mix import _households
    from madoguchi.cases.models import Case

    pages: list[tuple[str, str, dict[str, str], dict[str, str]]] = [
        ("home", "/", {}, {}),
        ("identify", "/identify/", {}, {}),
        ("identify-program", f"/identify/?program={program.code}", {}, {}),
        ("list", "/cases/", {}, {}),
        ("list-htmx", "/cases/", {}, {"HTTP_HX_REQUEST": "true"}),
        ("queue-escalated", "/cases/queue/escalated/", {}, {}),
        ("queue-callback", "/cases/queue/callback/", {}, {}),
        ("web-queue", "/cases/web/", {}, {}),
        ("case-form", f"/cases/new/{program.code}/", {}, {}),
        ("notifications", "/cases/notifications/", {}, {}),
    ]
    cases = Case.objects.filter(program=program).order_by("-id").values_list("public_id", flat=True)[:20]
    pages += [(f"case-{public_id}", f"/cases/{public_id}/", {}, {}) for public_id in cases]
    for index, who in enumerate(_households(program, 20)):
        household = f"/cases/households/{who['household']}/cases/"
        pages.append((f"household-{index}", household, {}, {"HTTP_HX_REQUEST": "true"}))
        pages.append(
            (
                f"search-{index}",
                "/identify/search/",
                {"program": program.code, "guardian_kana": who["kana"], "phone": who["phone"]},
                {"HTTP_HX_REQUEST": "true"},
            )
        )
    return pages


def dump(out: Path) -> None:
    from bench import staff_mix

    staff_mix._setup_django()
    from django.conf import settings
    from django.test import Client

    from madoguchi.accounts.models import User
    from madoguchi.accounts.testing import allow_loopback, login

    settings.ALLOWED_HOSTS = ["testserver"]
    program = staff_mix._world()
    for organisation in {program.ward, program.contractor}:
        if organisation is not None:
            allow_loopback(organisation)
    out.mkdir(parents=True, exist_ok=True)
    pages = _requests(program)
    count = 0
    for username in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            continue
        for language in ("ja", "en"):
            client = Client(REMOTE_ADDR="127.0.0.1")
            login(client, user)
            client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
            for name, path, data, headers in pages:
                for attempt in (1, 2) if not data else (1,):
                    response = client.post(path, data, **headers) if data else client.get(path, **headers)
                    head = f"{response.status_code} {response.get('Location', '')}\n"
                    body = head.encode() + response.content
                    (out / f"{username}.{language}.{name}.{attempt}.html").write_bytes(body)
                    count += 1
    print(f"{count} responses written to {out}", flush=True)


def compare(first: Path, second: Path) -> int:
    names = sorted({path.name for path in first.iterdir()} | {path.name for path in second.iterdir()})
    differ = 0
    for name in names:
        a, b = first / name, second / name
        if not a.exists() or not b.exists():
            print(f"only in one tree: {name}")
            differ += 1
            continue
        left, right = mask(a.read_text()), mask(b.read_text())
        if left != right:
            differ += 1
            if differ <= 5:
                lines = difflib.unified_diff(
                    left.splitlines(), right.splitlines(), name, name, lineterm="", n=1
                )
                print("\n".join(list(lines)[:40]))
    print(f"{len(names)} responses compared, {differ} differ", flush=True)
    return 1 if differ else 0


def main(argv: list[str]) -> None:
    options = dict(arg.lstrip("-").split("=", 1) for arg in argv if "=" in arg)
    if "compare" in options:
        first, second = options["compare"].split(",")
        raise SystemExit(compare(Path(first), Path(second)))
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
    dump(Path(options.get("out", "var/pages")))


if __name__ == "__main__":
    main(sys.argv[1:])
