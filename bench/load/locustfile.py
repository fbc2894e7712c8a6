"""The day of a call centre under load, for locust (docs/benchmarks.md, "Load").

    deploy/cluster/load.sh [--operators=300] [--residents-rate=100] [--minutes=10]

Against nginx of `make cluster` (http://127.0.0.1:8088). The accounts and search keys come
from bench/load/users.py (LOAD_USERS, a JSON file). Each simulated person logs in once
(password + TOTP) and then acts every WAIT seconds on average:

- operators (OPERATORS): identify a caller (POST search), open the household's cases, save a
  new case (GET the form, POST it), add a call note, and now and then escalate to the ward;
- ward staff: open the escalated queue, open a case, answer it;
- supervisors: watch the home page and the case list;
- residents: send a web inquiry (the four requests of the form), as a constant-rate stream.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import uuid
from typing import Any

from locust import HttpUser, between, constant_pacing, events, task

from bench.load.client import CSRF_INPUT, RECEIPT, TOKEN_INPUT, StepFailed, inquiry_body, staff_login

with open(os.environ.get("LOAD_USERS", "var/cluster/load-users.json"), encoding="utf-8") as _users:
    DATA = json.load(_users)
PROGRAM = DATA["program"]
PASSWORD = DATA["password"]
WAIT = float(os.environ.get("LOAD_WAIT", "10"))
RESIDENT_PACE = float(os.environ.get("LOAD_RESIDENT_PACE", "1"))
CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})/"')
_pools: dict[str, itertools.cycle[dict[str, str]]] = {}
_lock = threading.Lock()
receipts: list[str] = []


def account(role: str) -> dict[str, str]:
    with _lock:
        if role not in _pools:
            _pools[role] = itertools.cycle(DATA[role])
        return next(_pools[role])


def csrf(text: str) -> str:
    match = CSRF_INPUT.search(text)
    if not match:
        raise StepFailed("no CSRF token")
    return match.group(1)


class Staff(HttpUser):
    abstract = True
    role = ""
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    def on_start(self) -> None:
        who = account(self.role)
        staff_login(self.client, "", who["username"], PASSWORD, who["totp"])


class Operator(Staff):
    role = "operator"
    weight = int(os.environ.get("OPERATORS", "300"))

    def on_start(self) -> None:
        super().on_start()
        self.cases: list[str] = []

    def _household(self) -> dict[str, str]:
        return random.choice(DATA["households"])

    @task(3)
    def identify(self) -> None:
        page = self.client.get("/identify/", name="identify page")
        who = self._household()
        self.client.post(
            "/identify/search/",
            data={
                "csrfmiddlewaretoken": csrf(page.text),
                "program": PROGRAM,
                "guardian_kana": who["kana"],
                "phone": who["phone"],
            },
            headers={"HX-Request": "true"},
            name="identify search",
        )

    @task(3)
    def open_household(self) -> None:
        self.client.get(f"/cases/households/{self._household()['household']}/cases/", name="household cases")

    @task(2)
    def save_case(self) -> None:
        form = self.client.get(f"/cases/new/{PROGRAM}/", name="case form")
        key = re.search(r'name="idempotency_key" value="([^"]*)"', form.text)
        then = "escalate" if random.random() < 0.2 else "in_progress"
        response = self.client.post(
            f"/cases/new/{PROGRAM}/",
            data={
                "csrfmiddlewaretoken": csrf(form.text),
                "idempotency_key": key.group(1) if key else uuid.uuid4().hex,
                "household": self._household()["household"],
                "channel": "phone",
                "caller_relation": "guardian",
                "inquiry": "負荷試験: 申請の状況についての問い合わせ",
                "response": "状況を説明しました。",
                "priority": "normal",
                "then": then,
                "question": "申請書の受付状況を確認してください。" if then == "escalate" else "",
            },
            allow_redirects=False,
            name="case save",
        )
        if response.status_code == 302 and "/cases/" in response.headers.get("Location", ""):
            public_id = response.headers["Location"].rstrip("/").split("/")[-1]
            self.cases = [*self.cases[-9:], public_id]

    @task(2)
    def add_note(self) -> None:
        if not self.cases:
            return
        public_id = random.choice(self.cases)
        page = self.client.get(f"/cases/{public_id}/", name="case page")
        self.client.post(
            f"/cases/{public_id}/note/",
            data={
                "csrfmiddlewaretoken": csrf(page.text),
                "body": "折り返しの電話で追加の説明をしました。",
                "kind": "call_note",
            },
            allow_redirects=False,
            name="case note",
        )

    @task(1)
    def case_list(self) -> None:
        self.client.get("/cases/", name="case list")


class WardStaff(Staff):
    role = "ward_staff"
    weight = int(os.environ.get("WARD_STAFF", "10"))

    @task
    def answer(self) -> None:
        queue = self.client.get("/cases/queue/escalated/", name="ward queue")
        found = CASE_LINK.findall(queue.text)
        if not found:
            return
        public_id = random.choice(found[:20])
        page = self.client.get(f"/cases/{public_id}/", name="case page (ward)")
        self.client.post(
            f"/cases/{public_id}/answer/",
            data={"csrfmiddlewaretoken": csrf(page.text), "body": "受付済みです。審査中とお伝えください。"},
            allow_redirects=False,
            name="ward answer",
        )


class Supervisor(Staff):
    role = "supervisor"
    weight = int(os.environ.get("SUPERVISORS", "5"))

    @task
    def watch(self) -> None:
        self.client.get("/", name="home (dashboard)")
        self.client.get("/cases/", name="case list (supervisor)")


class Resident(HttpUser):
    """One web inquiry per RESIDENT_PACE seconds per simulated resident (constant pacing)."""

    weight = int(os.environ.get("RESIDENTS", "0"))
    wait_time = constant_pacing(RESIDENT_PACE)
    numbers = itertools.count(1)

    @task
    def inquiry(self) -> None:
        self.client.cookies.clear()
        form = f"/inquiry/{PROGRAM}/"
        page = self.client.get(form, name="inquiry form")
        body = {"csrfmiddlewaretoken": csrf(page.text), **inquiry_body(next(self.numbers))}
        self.client.post(form, data=body, allow_redirects=False, name="inquiry post")
        confirm = self.client.get(f"{form}confirm/", name="inquiry confirm")
        token, token_csrf = TOKEN_INPUT.search(confirm.text), CSRF_INPUT.search(confirm.text)
        if not token or not token_csrf:
            return
        done = self.client.post(
            f"{form}send/",
            data={"csrfmiddlewaretoken": token_csrf.group(1), "token": token.group(1)},
            name="inquiry send",
        )
        receipt = RECEIPT.search(done.text)
        if receipt:
            with _lock:
                receipts.append(receipt.group(1))


@events.quitting.add_listener
def _write_receipts(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("LOAD_RECEIPTS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(receipts))
