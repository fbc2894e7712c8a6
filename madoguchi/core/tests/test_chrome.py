"""base.html's head, header, navigation block and footer written in Python
(core/templatetags/chrome.py, `global_nav`): the same bytes as the template they replaced,
kept here, for users with and without an organisation, a role or a display name, anonymous
visitors, values to escape, both languages, with and without the request."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template import Context, RequestContext, engines
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.utils import translation

from madoguchi.accounts.models import Organisation, User
from madoguchi.core.templatetags import chrome

# base.html as it was before the chrome tags (d6b53ce), to prove the new one renders the same.
OLD_BASE = (Path(__file__).parent / "old_base.html").read_text(encoding="utf-8")

CHILD = (
    "{% extends BASE %}{% block title %}題<&>{% endblock %}"
    "{% block content %}<p>{{ user.username }}</p>{% endblock %}"
    '{% block scripts %}<script src="/static/x.js"></script>{% endblock %}'
)
NAV = [
    {"label": "問い合わせ一覧", "url": "/cases/", "badge": 3, "shortcut": "Alt+L", "current": True},
    {"label": "<b>&\"'", "url": "/a?b=1&c=<2>", "badge": None, "shortcut": "", "current": False},
]


def _mask(html: str) -> str:
    # Each render masks its CSRF token afresh: the token's place must match, not its value.
    return re.sub(r'(value|content)="[A-Za-z0-9]{64}"', r'\1="TOKEN"', html)


def _pages(context: dict, request=None) -> tuple[str, str]:
    """The same child page on the old base template and on base.html, CSRF tokens masked."""
    engine = engines["django"].engine
    old = engine.from_string(CHILD.replace("BASE", "old_base"))
    new = engine.from_string(CHILD.replace("BASE", '"base.html"'))
    old_context = {**context, "old_base": engine.from_string(OLD_BASE)}
    if request is None:
        return _mask(old.render(Context(old_context))), _mask(new.render(Context(context)))
    return (
        _mask(old.render(RequestContext(request, old_context))),
        _mask(new.render(RequestContext(request, context))),
    )


def _users():
    organisation = Organisation(code="c", name="テスト<委託>&先")
    yield User(username="op<1>", display_name='山田 & "太郎"', role="operator", organisation=organisation)
    yield User(username="ward1", display_name="", role="ward_staff", organisation=organisation)
    yield User(username="nobody", display_name="", role="", organisation=None)
    yield AnonymousUser()


@pytest.mark.django_db
class ChromeTests:
    @pytest.mark.parametrize("language", ["ja", "en"])
    def test_every_page_is_the_old_templates_html_byte_for_byte(self, language):
        factory = RequestFactory()
        with translation.override(language):
            for user in _users():
                for path in ("/cases/?page=2&status=<new>", "/"):
                    for nav in (NAV, []):
                        request = factory.get(path)
                        request.user = user
                        request.request_id = "rid<1>"
                        old, new = _pages({"nav_items": nav}, request)
                        assert old == new, (language, user, path, nav)
                        assert 'name="csrfmiddlewaretoken" value="TOKEN"' in new

    def test_without_a_request_it_is_the_old_templates_html(self):
        for context in ({}, {"request_id": "abc<>"}, {"user": next(_users()), "csrf_token": "NOTPROVIDED"}):
            old, new = _pages(context)
            assert old == new, context

    def test_messages_and_the_request_id_without_a_request_id_attribute(self):
        request = RequestFactory().get("/")
        request.user = next(_users())
        request.session = {}
        messages = FallbackStorage(request)
        messages.add(40, "エラー<1>")
        messages.add(20, "お知らせ&")
        request._messages = messages
        old, new = _pages({"messages": messages, "request_id": "ctx-id"}, request)
        assert old == new

    def test_the_parts_kept_hold_nothing_of_a_user_or_a_request(self):
        chrome._forget()
        request = RequestFactory().get("/cases/?secret=path")
        request.user = next(_users())
        request.request_id = "rid-secret"
        render_to_string("base.html", {"nav_items": NAV}, request=request)
        kept = " ".join(str(value) for parts in chrome._parts.values() for value in vars(parts).values())
        assert chrome._parts
        for personal in (
            "山田",
            "op&lt;1&gt;",
            "op<1>",
            "テスト",
            "secret",
            "rid-secret",
            "operator",
            "オペレーター",
        ):
            assert personal not in kept

    def test_the_parts_are_made_once_per_language(self, monkeypatch):
        chrome._forget()
        made = []
        real = chrome._make_parts
        monkeypatch.setattr(chrome, "_make_parts", lambda *args: made.append(args) or real(*args))
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        for language in ("ja", "en", "ja", "en", "ja"):
            with translation.override(language):
                render_to_string("base.html", {}, request=request)
        assert [args[0] for args in made] == ["ja", "en"]

    @override_settings(STATIC_URL="/elsewhere/")
    def test_a_settings_change_makes_them_again(self):
        request = RequestFactory().get("/")
        request.user = AnonymousUser()
        assert 'href="/elsewhere/css/madoguchi.css"' in render_to_string("base.html", {}, request=request)


@pytest.mark.django_db
class NavigationUrlTests:
    def test_a_full_page_reverses_no_navigation_url_once_they_are_kept(self, client, world, monkeypatch):
        from django.urls import reverse

        from madoguchi.accounts.testing import login
        from madoguchi.core import navigation

        login(client, world.operator)
        client.get(reverse("identify:page"))
        calls = []
        monkeypatch.setattr(navigation, "reverse", lambda *a, **k: calls.append(a) or reverse(*a, **k))
        body = client.get(reverse("identify:page")).content.decode()
        assert 'class="global-nav__link" href="/cases/"' in body
        assert calls == []

    def test_the_urls_follow_the_script_prefix(self):
        from django.urls import get_script_prefix, set_script_prefix

        from madoguchi.core import navigation

        assert navigation.url("cases:list") == "/cases/"
        assert navigation.url("cases:queue", "callback") == "/cases/queue/callback/"
        before = get_script_prefix()
        set_script_prefix("/madoguchi/")
        try:
            assert navigation.url("cases:list") == "/madoguchi/cases/"
        finally:
            set_script_prefix(before)
        assert navigation.url("cases:list") == "/cases/"


class ChromeBlockTests:
    def test_a_page_overriding_every_block_of_the_layout_is_the_old_templates_html(self):
        global CHILD
        plain = CHILD
        CHILD = (
            "{% extends BASE %}{% block title %}T{% endblock %}{% block extra_head %}<meta x>{% endblock %}"
            "{% block body_class %}staff wide{% endblock %}{% block service_subtitle %}副<題>{% endblock %}"
            "{% block nav %}<nav>n</nav>{% endblock %}{% block recording_banner %}R{% endblock %}"
            "{% block messages %}M{% endblock %}{% block content %}C{% endblock %}"
            "{% block scripts %}S{% endblock %}"
        )
        try:
            request = RequestFactory().get("/")
            request.user = next(_users())
            request.request_id = "r"
            old, new = _pages({}, request)
        finally:
            CHILD = plain
        assert old == new
        assert '<body class="staff wide"' in new and "副<題>" in new
