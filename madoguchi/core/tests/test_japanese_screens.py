"""Every word on every staff screen is Japanese: no stray ASCII identifier reaches a user.

Each role logs in and walks every screen it can reach by following links from home (same
origin, GET, no logout or downloads), with a program that has households, web and phone cases,
an escalation and audit events. The visible text of each page (not its markup, scripts or
attributes, nor identifiers marked up as such with `translate="no"`) must hold no code-like
token: snake_case, camelCase, dotted codes, or lowercase English words.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlparse

import pytest

from madoguchi.accounts.models import User
from madoguchi.accounts.testing import login
from madoguchi.cases.models import Channel, Verification
from madoguchi.cases.services import CallerDetails, escalate
from madoguchi.cases.testing import make_case
from madoguchi.identify.tests.helpers import add_household

# Words a Japanese UI legitimately shows in Latin letters.
ALLOWED = {
    "csv",
    "xlsx",
    "pdf",
    "json",
    "id",
    "ip",
    "api",
    "totp",
    "url",
    "sha",
    "utf",
    "bom",
    "cp",
    "otp",
    "qr",
    "ok",
    "no",
    "shift_jis",
    "english",
    "am",
    "pm",
    "madoguchi",
    "wcag",
    "jis",
    "ppc",
    "ssl",
    "tls",
}
# Pages not to follow: they end the session, download a file or need a POST.
SKIP = re.compile(r"/(logout|export|download|csv|xlsx|pdf)\b|\.(csv|xlsx|pdf|zip)$|/static/|/inquiry/")
CODE_LIKE = re.compile(
    r"\b[A-Za-z]+_[A-Za-z0-9_]+\b"  # snake_case
    r"|\b[a-z]+[A-Z][A-Za-z]*\b"  # camelCase
    r"|\b[a-z]+\.[a-z_]+\b"  # dotted codes (guardian.phone)
    r"|\b[a-z]{3,}\b"  # lowercase English words (name, dob, phone, verified)
)
MAX_PAGES = 80


class _VisibleText(HTMLParser):
    """Collects the text a user sees, skipping script/style and elements marked translate="no"."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.links: list[str] = []
        self._skip: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "a" and attributes.get("href") and "download" not in attributes:
            self.links.append(attributes["href"] or "")
        if (
            tag in ("script", "style", "template")
            or attributes.get("translate") == "no"
            or (self._skip and tag == self._skip[-1])
        ):
            self._skip.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._skip and tag == self._skip[-1]:
            self._skip.pop()

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.text.append(data)


def stray_identifiers(html: str) -> tuple[set[str], list[str]]:
    parser = _VisibleText()
    parser.feed(html)
    text = " ".join(parser.text)
    found = {match.group(0) for match in CODE_LIKE.finditer(text)}
    return {word for word in found if word.lower() not in ALLOWED}, parser.links


def _populate(world) -> None:
    household = add_household(
        world.program,
        "H-0001",
        guardian=("試験 花子", "シケン ハナコ", "1990-01-01"),
        children=[("試験 太郎", "シケン タロウ", "2020-05-03")],
        phone="09000001111",
    )
    case = make_case(
        world.program,
        world.operator,
        household=household,
        verification=Verification.VERIFIED,
        verified_items=["name", "dob", "phone"],
    )
    escalate(
        case=case, actor=world.operator, question="配送日を確認してください。", expected_version=case.version
    )
    make_case(world.program, None, channel=Channel.FORM, caller=CallerDetails(name="ウェブ 花子"))


def walk(client, start: str = "/", pages: list[str] | None = None) -> dict[str, set[str]]:
    seen: set[str] = set()
    queue = [start]
    problems: dict[str, set[str]] = {}
    while queue and len(seen) < MAX_PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        if pages is not None:
            pages.append(url)
        words, links = stray_identifiers(response.content.decode())
        if words:
            problems[url] = words
        for link in links:
            target = urljoin(url, link)
            parsed = urlparse(target)
            if parsed.netloc or not parsed.path.startswith("/") or SKIP.search(parsed.path):
                continue
            path = parsed.path + (f"?{parsed.query}" if parsed.query else "")
            if path not in seen:
                queue.append(path)
    return problems


class StrayIdentifierTests:
    def test_the_detector_finds_codes_and_lets_japanese_and_marked_identifiers_pass(self):
        words, _ = stray_identifiers(
            "<p>本人確認済（name・dob・phone）</p><p>fields=['status'] text_search</p>"
            '<p>受付番号 KJ-0001 <code translate="no">3f0c1b4e-aaaa</code> CSV</p><script>var x_y=1</script>'
        )
        assert words == {"name", "dob", "phone", "fields", "status", "text_search"}

    @pytest.mark.parametrize(
        "persona", ["operator", "supervisor", "ward_staff", "ward_manager", "auditor", "sysadmin"]
    )
    def test_every_screen_a_role_reaches_is_japanese(self, client, world, persona):
        _populate(world)
        login(client, getattr(world, persona))
        # User names are data typed by an administrator, not words of the screens.
        names = set(User.objects.values_list("username", flat=True))
        pages: list[str] = []
        found = walk(client, pages=pages)
        problems = {
            url: left for url, words in found.items() if (left := {w for w in words if w not in names})
        }
        # Every role has its screens (the system administrator only the account screens).
        assert len(pages) >= (1 if persona == "sysadmin" else 4), pages
        assert problems == {}, "\n".join(f"{url}: {sorted(words)}" for url, words in sorted(problems.items()))
