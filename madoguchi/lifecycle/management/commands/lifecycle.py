"""`madoguchi lifecycle <subcommand>`: the end of a program, from the command line.

Each subcommand is a module under `madoguchi.lifecycle.subcommands` that defines `HELP` (one
line, Japanese), `add_arguments(parser)` and `run(options, out) -> int`; it is found by name,
so adding one is adding a file. A refusal raises `Refused` (exit 1 by default) with a Japanese
message; `run` returns the exit status otherwise.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils import translation

from madoguchi.lifecycle import subcommands
from madoguchi.lifecycle.subcommands import Refused


def _subcommand_modules() -> dict[str, ModuleType]:
    found: dict[str, ModuleType] = {}
    for info in pkgutil.iter_modules(subcommands.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{subcommands.__name__}.{info.name}")
        found[info.name.replace("_", "-")] = module
    return found


class Command(BaseCommand):
    help = "事業の終了に関する操作（記録の終了・返還・消去・証明書・連絡先の消去）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, module in sorted(_subcommand_modules().items()):
            child = sub.add_parser(name, help=getattr(module, "HELP", ""))
            module.add_arguments(child)

    def handle(self, *args: Any, **options: Any) -> None:
        module = _subcommand_modules()[options["subcommand"]]
        try:
            # Japanese whatever language the calling process had active (the default language).
            with translation.override(settings.LANGUAGE_CODE):
                status = int(module.run(options, self.stdout) or 0)
        except Refused as refused:
            self.stderr.write(refused.message)
            raise SystemExit(refused.exit_code) from None
        if status:
            raise SystemExit(status)
