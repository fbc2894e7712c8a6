"""The deployment files agree with each other (docs/deploy.md, "Two pools per app host").

Each app host runs two gunicorn pools: the staff's (madoguchi.service, port 8000) and the
residents' (madoguchi-public.service, port 8001, lower CPU weight). nginx sends the form to the
residents' pool and everything else to the staff's; the shared proxy settings name no pool.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def _locations(config: str) -> dict[str, list[str]]:
    """Each server block's locations, by the block's first server_name, with the pool they proxy to."""
    found: dict[str, list[str]] = {}
    for block in re.split(r"\n\s*server \{", config)[1:]:
        name = re.search(r"server_name\s+([^;\s]+)", block)
        key = name.group(1) if name else "?"
        for location in re.finditer(r"location\s+(=\s*)?(\S+)\s*\{(.*?)\}", block, re.S):
            pool = re.search(r"proxy_pass\s+http://(\w+);", location.group(3))
            found.setdefault(key, []).append(f"{location.group(2)} -> {pool.group(1) if pool else '-'}")
    return found


def test_the_shared_proxy_settings_name_no_pool() -> None:
    text = (DEPLOY / "nginx" / "madoguchi-proxy.conf").read_text(encoding="utf-8")
    assert not re.search(r"^\s*proxy_pass", text, re.M)


def test_production_nginx_sends_the_form_to_the_residents_pool_and_the_rest_to_the_staffs() -> None:
    config = (DEPLOY / "nginx" / "madoguchi.conf").read_text(encoding="utf-8")
    assert re.search(r"upstream madoguchi_public \{[^}]*:8001", config)
    assert re.search(r"upstream madoguchi_app \{[^}]*:8000", config)
    locations = _locations(config)
    assert "/inquiry/ -> madoguchi_public" in locations["inquiry.example.lg.jp"]
    assert "/healthz -> madoguchi_public" in locations["inquiry.example.lg.jp"]
    assert "/ -> madoguchi_app" in locations["madoguchi.example.lg.jp"]
    assert not any(entry.endswith("madoguchi_app") for entry in locations["inquiry.example.lg.jp"])


def test_the_clusters_nginx_routes_as_production_does() -> None:
    config = (DEPLOY / "cluster" / "nginx.conf.in").read_text(encoding="utf-8")
    assert "@UPSTREAMS@" in config and "@PUBLIC_UPSTREAMS@" in config
    locations = _locations(config)
    assert "/inquiry/ -> madoguchi_public" in locations["@PUBLIC_HOST@"]
    assert "/inquiry/ -> madoguchi_public" in locations["127.0.0.1"]
    assert "/ -> madoguchi_app" in locations["127.0.0.1"]


def test_the_residents_unit_differs_from_the_staffs_only_where_it_says_so() -> None:
    staff = (DEPLOY / "systemd" / "madoguchi.service").read_text(encoding="utf-8").splitlines()
    public = (DEPLOY / "systemd" / "madoguchi-public.service").read_text(encoding="utf-8").splitlines()

    def settings(lines: list[str]) -> list[str]:
        return [line for line in lines if line and not line.startswith("#")]

    extra = [line for line in settings(public) if line not in settings(staff)]
    assert sorted(extra) == sorted(
        [
            "Description=Madoguchi residents' form (gunicorn)",
            "EnvironmentFile=/etc/madoguchi/madoguchi-public.env",
            "CPUWeight=20",
            "Nice=10",
        ]
    )
    missing = [line for line in settings(staff) if line not in settings(public)]
    assert missing == ["Description=Madoguchi (gunicorn)"]
    # The pool's own file is read after the shared one, so its values win.
    assert public.index("EnvironmentFile=/etc/madoguchi/madoguchi.env") < public.index(
        "EnvironmentFile=/etc/madoguchi/madoguchi-public.env"
    )


def test_the_residents_pool_listens_where_nginx_sends_the_form() -> None:
    env = (DEPLOY / "madoguchi-public.env.example").read_text(encoding="utf-8")
    assert re.search(r"^GUNICORN_BIND=10\.0\.10\.11:8001$", env, re.M)
    staff_env = (DEPLOY / "madoguchi.env.example").read_text(encoding="utf-8")
    assert re.search(r"^GUNICORN_BIND=10\.0\.10\.11:8000$", staff_env, re.M)


def test_the_clusters_form_pool_is_lowered_in_its_autogroup_as_well() -> None:
    """`gunicorn --daemon` starts a session; Linux shares the CPU between sessions' autogroups
    before any nice counts, so `nice` alone left the form pool an equal share (measured)."""
    script = (DEPLOY / "cluster" / "up.sh").read_text(encoding="utf-8")
    assert re.search(r'^nice -n \$PUBLIC_NICE \$\(gunicorn_cmd "\$i" -public\)$', script, re.M)
    assert re.search(r"echo \$PUBLIC_NICE > \"/proc/.*app\$i-public\.pid.*/autogroup\"", script)


def test_audit_chains_outnumber_the_threads_of_both_pools_on_both_hosts() -> None:
    """A form worker preempted while it holds a chain head must never leave a staff request
    without a free one (docs/deploy.md, "Two pools per app host")."""
    from django.conf import settings

    def setting(text: str, name: str) -> int:
        match = re.search(rf"^{name}=(\d+)$", text, re.M)
        assert match, name
        return int(match.group(1))

    staff = (DEPLOY / "madoguchi.env.example").read_text(encoding="utf-8")
    public = (DEPLOY / "madoguchi-public.env.example").read_text(encoding="utf-8")
    nginx = (DEPLOY / "nginx" / "madoguchi.conf").read_text(encoding="utf-8")
    hosts = len(re.findall(r"^\s*server \S+:8000", nginx, re.M))
    threads = hosts * (
        setting(staff, "GUNICORN_WORKERS") * setting(staff, "GUNICORN_THREADS")
        + setting(public, "GUNICORN_WORKERS") * setting(public, "GUNICORN_THREADS")
    )
    assert hosts == 2
    assert threads < settings.AUDIT_CHAINS
