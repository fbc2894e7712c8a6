"""`madoguchi identify-reindex (--program CODE | --stale)`: rebuild identification's index.

Imports keep the index current by themselves (small ones update it in their transaction, large
ones leave it to a full rebuild). `--program` rebuilds one program's index now: right after a
large import, or to repair a damaged index. `--stale` rebuilds every index that is older than
its list and nothing else; run it every minute from cron (or a supervisor) so that after a
large import no operator's search waits for the rebuild. It also vacuums again an index table
whose rebuild's VACUUM could not mark its pages all-visible (`indexer.revacuum_index_tables`)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.identify.indexer import reindex_program, revacuum_index_tables, stale_program_ids
from madoguchi.identify.models import IdentIndexState
from madoguchi.programs.models import Program


class Command(BaseCommand):
    help = "Rebuild the identification index of a program's target list (or of every stale one)."

    def add_arguments(self, parser: CommandParser) -> None:
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--program", help="program code")
        which.add_argument(
            "--stale", action="store_true", help="every program whose index is older than its list"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["stale"]:
            programs = list(Program.objects.filter(pk__in=stale_program_ids()).order_by("code"))
            if not programs:
                self.stdout.write("再構築が必要な索引はありません。")
            for program in programs:
                self._rebuild(program, only_if_stale=True)
            for table, before, after in revacuum_index_tables():
                share = f"{before:.0%} → {after:.0%}"
                self.stdout.write(f"索引の表 {table} を VACUUM しました（索引だけで読めるページ {share}）。")
            return
        named = Program.objects.filter(code=options["program"]).first()
        if named is None:
            raise CommandError(f"事業 {options['program']} がありません。")
        self._rebuild(named, only_if_stale=False)

    def _rebuild(self, program: Program, *, only_if_stale: bool) -> None:
        count = reindex_program(program.pk, only_if_stale=only_if_stale)
        version = IdentIndexState.objects.get(program=program).version
        self.stdout.write(f"{program.code}: {count} 世帯を索引しました（索引の版 {version}）。")
