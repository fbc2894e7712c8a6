"""R-39: every dependency pinned with hashes in requirements.lock, installed with
--require-hashes, and described by the CycloneDX SBOM in docs/sbom.json (issue #14)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
LOCK = REPO / "requirements.lock"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def locked() -> dict[str, tuple[str, list[str]]]:
    """{name: (version, hashes)} from the lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        # A package another one asks for with extras is pinned with them (fonttools[woff]).
        match = re.match(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?==([^\s;]+)", line)
        assert match, f"unpinned line in the lock: {line!r}"
        entries[canonical(match.group(1))] = (
            match.group(2),
            re.findall(r"--hash=sha256:([0-9a-f]{64})", line),
        )
    return entries


def test_every_locked_package_is_pinned_with_hashes():
    entries = locked()
    assert len(entries) > 30
    missing = [name for name, (_version, hashes) in entries.items() if not hashes]
    assert missing == []


def test_every_declared_dependency_is_in_the_lock_at_its_pin():
    """Fails when a dependency was added to pyproject.toml without `make lock`."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["dev"]
    entries = locked()
    for requirement in declared:
        match = re.match(r"([A-Za-z0-9_.\-]+)(?:\[[^\]]*\])?(?:==(\S+))?", requirement)
        assert match
        name = canonical(match.group(1))
        assert name in entries, f"{name} is not in requirements.lock: run make lock"
        if match.group(2):
            assert entries[name][0] == match.group(2), (
                f"{name}: pyproject {match.group(2)}, lock {entries[name][0]}"
            )


def test_make_installs_the_lock_with_require_hashes():
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    stamp = makefile.split("$(STAMP): pyproject.toml $(LOCK)", 1)[1].split("\n\n", 1)[0]
    assert "--require-hashes -r $(LOCK)" in stamp
    assert "--no-deps -e ." in stamp
    assert "pip install -q -e '.[dev]'" not in makefile


def test_a_package_required_with_extras_is_locked_with_them():
    """pip in --require-hashes mode refuses `weasyprint`'s `fonttools[woff]>=…` against a
    lock line `fonttools==…` as soon as PyPI has a newer fonttools than the pin ("all
    requirements must have their versions pinned with =="): a fresh `make test` then fails
    to install. Locked with its extras (no --strip-extras), the line pins what is asked."""
    text = LOCK.read_text(encoding="utf-8")
    assert re.search(r"^fonttools\[woff\]==", text, re.M), "run make lock (without --strip-extras)"
    assert re.search(r"^psycopg\[binary\]==", text, re.M)
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    compile_line = makefile.split("lock: $(TOOLS_STAMP)", 1)[1].split("\n\n", 1)[0]
    assert "--strip-extras" not in compile_line


def test_the_sbom_describes_the_lock():
    sbom = json.loads((REPO / "docs" / "sbom.json").read_text(encoding="utf-8"))
    assert sbom["bomFormat"] == "CycloneDX"
    assert sbom["metadata"]["component"]["name"] == "madoguchi"
    components = {canonical(c["name"]): c for c in sbom["components"]}
    entries = locked()
    assert set(components) == set(entries), "run make sbom"
    for name, (version, hashes) in entries.items():
        component = components[name]
        assert component["version"] == version
        assert component["purl"] == f"pkg:pypi/{name}@{version}"
        listed = {
            h["content"] for ref in component.get("externalReferences", []) for h in ref.get("hashes", [])
        }
        assert listed == set(hashes), name
