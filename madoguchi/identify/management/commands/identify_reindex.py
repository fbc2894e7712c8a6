"""`madoguchi identify-reindex --program CODE`: rebuild identification's index of a list.

Imports keep the index current by themselves (small ones update it in their transaction, large
ones leave it to a rebuild by the next search); run this right after a large import so that no
operator's search waits for the rebuild, or to repair an index that was damaged."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.identify.indexer import reindex_program
from madoguchi.identify.models import IdentIndexState
from madoguchi.programs.models import Program


class Command(BaseCommand):
    help = "Rebuild the identification index of a program's target list."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="program code")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"no program with code {options['program']!r}")
        count = reindex_program(program.pk)
        version = IdentIndexState.objects.get(program=program).version
        self.stdout.write(f"{count} households indexed (index version {version})")
