"""`madoguchi audit verify|export-head|purge`: the audit trail's operations (docs/audit.md).

madoguchi audit verify [--heads FILE]      walk the chain; exit 1 on the first problem
madoguchi audit export-head [--out DIR]    seal the chains, append their heads to DIR/audit-heads.jsonl
madoguchi audit purge --before DATE --confirm
"""

from __future__ import annotations

import argparse
import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.audit.services import PurgeRefused, purge
from madoguchi.audit.verify import HEADS_FILE, check_heads, export_head, verify_chain


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


class Command(BaseCommand):
    help = "Verify, export the head of, or purge the audit trail."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="operation", required=True)
        verify = sub.add_parser("verify", help="walk the hash chain and report the first problem")
        verify.add_argument("--heads", type=Path, help="also check the heads exported to this file")
        verify.add_argument("--chunk-size", type=int, default=5000)
        export = sub.add_parser("export-head", help="append the chain head to a file outside the database")
        export.add_argument("--out", type=Path, help="directory (default: var/audit-heads)")
        purge_parser = sub.add_parser("purge", help="remove events older than the retention period")
        purge_parser.add_argument(
            "--before", type=_date, required=True, help="remove events before this date"
        )
        purge_parser.add_argument("--confirm", action="store_true", help="really remove them")

    def handle(self, *args: Any, **options: Any) -> None:
        operation = options["operation"].replace("_", "-")
        if operation == "verify":
            self._verify(options)
        elif operation == "export-head":
            out = options["out"] or Path(settings.AUDIT_HEADS_DIR)
            path, entry = export_head(out)
            heads = " ".join(f"{chain}:{head['seq']}" for chain, head in entry["chains"].items())
            self.stdout.write(f"heads (chain:position) {heads or '-'} count={entry['count']} → {path}")
        elif operation == "purge":
            if not options["confirm"]:
                raise CommandError("purge removes audit events for good: add --confirm")
            try:
                result = purge(before=options["before"])
            except PurgeRefused as exc:
                raise CommandError(str(exc)) from exc
            if result.seal is None:
                self.stdout.write("nothing to purge")
            else:
                self.stdout.write(
                    f"purged {result.count} events (seq {result.from_seq}..{result.to_seq}); "
                    f"seal seq={result.seal.seq}"
                )

    def _verify(self, options: dict[str, Any]) -> None:
        report = verify_chain(chunk_size=options["chunk_size"])
        if report.problem is not None:
            problem = report.problem
            raise CommandError(
                f"audit chain BROKEN: {problem.kind} in chain {problem.chain} at position {problem.seq}: "
                f"{problem.message} "
                f"({report.checked} events checked)"
            )
        self.stdout.write(
            f"audit chain OK: {report.checked} events in {report.chains} chain(s), "
            f"seq {report.first_seq or 0}..{report.last_seq or 0}, {report.seals} purge seal(s), "
            f"{report.joins} join seal head(s) checked, newest {report.last_hash[:16] or '-'}"
        )
        heads: Path | None = options["heads"]
        if heads is not None:
            if heads.is_dir():
                heads = heads / HEADS_FILE
            if not heads.exists():
                raise CommandError(f"no heads file at {heads}")
            result = check_heads(heads)
            if not result.ok:
                raise CommandError("exported heads NOT in the database:\n" + "\n".join(result.problems))
            self.stdout.write(
                f"exported heads OK: {result.checked} checked ({result.purged} purged since, sealed)"
            )
