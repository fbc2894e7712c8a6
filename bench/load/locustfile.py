"""The day of a call centre under load, for locust (docs/benchmarks.md, "Load").

    deploy/cluster/load.sh [--operators=300] [--residents-rate=100] [--minutes=10]

Against nginx of `make cluster` (http://127.0.0.1:8088). The accounts and search keys come
from bench/load/users.py (LOAD_USERS, a JSON file). Each simulated person logs in once
(password + TOTP) and then acts every WAIT seconds on average:

- operators (OPERATORS): identify a caller (POST search), open the household's cases, save a
  new case (GET the form, POST it), add a call note, and now and then escalate to the ward;
- ward staff: open the escalated queue, open a case, answer it;
- supervisors: watch the home page and the case list;
- residents: send a web inquiry (the three requests of the form: GET it, POST it and get the
  confirmation, POST the confirmation and get the receipt), as a constant-rate stream.

Every simulated person is a FastHttpUser (geventhttpclient): the generator shares the two
cores with what it measures, and locust's requests-based HttpUser took about 3.5 ms of CPU
per request, four times as much.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
import random
import re
import threading
import uuid
from typing import Any

from locust import between, constant_pacing, events, task
from locust.contrib.fasthttp import FastHttpUser

from bench.load.client import CSRF_INPUT, RECEIPT, TOKEN_INPUT, StepFailed, inquiry_body, staff_login

with open(os.environ.get("LOAD_USERS", "var/cluster/load-users.json"), encoding="utf-8") as _users:
    DATA = json.load(_users)
PROGRAM = DATA["program"]
PASSWORD = DATA["password"]
WAIT = float(os.environ.get("LOAD_WAIT", "10"))
RESIDENT_PACE = float(os.environ.get("LOAD_RESIDENT_PACE", "1"))
CASE_LINK = re.compile(r'href="/cases/([0-9a-f-]{36})/"')
ANSWER_VERSION = re.compile(r'id="answer-form".*?name="version" value="(\d+)"', re.S)
_pools: dict[str, itertools.cycle[dict[str, str]]] = {}
_lock = threading.Lock()
receipts: list[str] = []
conflicts: list[str] = []
# Every request as (start time, name, milliseconds, status, failed): bench/load/run.py takes
# the percentiles of the steady state (after the ramp) from it, and the logins of the ramp.
requests_log: list[tuple[float, str, float, int, int]] = []


def _login_finished() -> None:
    """One line per staff login ended (in or refused) in LOAD_LOGINS_DONE: bench/load/run.py
    starts the steady state once every staff user's login has ended, not at a fixed time."""
    path = os.environ.get("LOAD_LOGINS_DONE")
    if path:
        with _lock, open(path, "a", encoding="utf-8") as out:
            out.write("1\n")


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


class Staff(FastHttpUser):
    abstract = True
    role = ""
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    def on_start(self) -> None:
        who = account(self.role)
        try:
            staff_login(self.client, "", who["username"], PASSWORD, who["totp"])
        finally:
            _login_finished()


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
        version = ANSWER_VERSION.search(page.text)
        if not version:
            return  # answered by a colleague since the queue was read: the page has no answer form
        with self.client.post(
            f"/cases/{public_id}/answer/",
            # The form's hidden `version` (optimistic locking): without it the app answers 403.
            data={
                "csrfmiddlewaretoken": csrf(page.text),
                "version": version.group(1),
                "body": "受付済みです。審査中とお伝えください。",
            },
            allow_redirects=False,
            name="ward answer",
            catch_response=True,
        ) as response:
            if response.status_code in (400, 409) and "answer-form" not in response.text:
                # Another ward member answered this case between our page and our POST: the
                # app shows the current record and says so. Counted apart, not as an error.
                response.success()
                conflicts.append(public_id)


class Supervisor(Staff):
    role = "supervisor"
    weight = int(os.environ.get("SUPERVISORS", "5"))

    @task
    def watch(self) -> None:
        self.client.get("/", name="home (dashboard)")
        self.client.get("/cases/", name="case list (supervisor)")


class Resident(FastHttpUser):
    """One web inquiry per RESIDENT_PACE seconds per simulated resident (constant pacing)."""

    weight = int(os.environ.get("RESIDENTS", "0"))
    wait_time = constant_pacing(RESIDENT_PACE)
    numbers = itertools.count(1)

    @task
    def inquiry(self) -> None:
        self.client.cookiejar.clear()
        form = f"/inquiry/{PROGRAM}/"
        page = self.client.get(form, name="inquiry form")
        body = {"csrfmiddlewaretoken": csrf(page.text), **inquiry_body(next(self.numbers))}
        # Answered with the confirmation itself (until the tenth session: "inquiry post", a
        # redirect, then "GET inquiry confirm").
        confirm = self.client.post(form, data=body, allow_redirects=False, name="inquiry post → confirm")
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


@events.request.add_listener
def _log_request(
    request_type: str,
    name: str,
    response_time: float,
    response: Any = None,
    exception: Any = None,
    start_time: float = 0.0,
    **kwargs: Any,
) -> None:
    status = getattr(response, "status_code", 0) or 0
    requests_log.append(
        (start_time, f"{request_type} {name}", response_time, status, int(exception is not None))
    )


@events.quitting.add_listener
def _write_receipts(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("LOAD_RECEIPTS")
    if path:
        with open(path, "w", encoding="utf-8") as out:
            out.write("\n".join(receipts))
        with open(path + ".conflicts", "w", encoding="utf-8") as out:
            out.write("\n".join(conflicts))
        with open(path + ".requests.csv", "w", encoding="utf-8", newline="") as out:
            writer = csv.writer(out)
            writer.writerow(["start", "name", "ms", "status", "failed"])
            writer.writerows((f"{t:.3f}", n, f"{ms:.1f}", st, f) for t, n, ms, st, f in requests_log)
