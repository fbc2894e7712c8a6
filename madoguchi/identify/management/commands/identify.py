"""`madoguchi identify --program CODE FILE.jsonl`: batch identification (formats.md §2).

One output line per input line, in the same order; an empty candidate list means the engine
abstained ("not in the target list"). Reads `-` as standard input.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from madoguchi.identify.engine import Query, identify
from madoguchi.programs.models import Program


class Command(BaseCommand):
    help = "Identify callers in a program's target list from a JSON Lines file (- = stdin)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--program", required=True, help="program code")
        parser.add_argument("file", help="JSON Lines file of inquiries, or - for standard input")

    def handle(self, *args: Any, **options: Any) -> None:
        program = Program.objects.filter(code=options["program"]).first()
        if program is None:
            raise CommandError(f"no program with code {options['program']!r}")
        path = options["file"]
        stream = sys.stdin if path == "-" else open(path, encoding="utf-8-sig")  # noqa: SIM115
        try:
            for line_number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    data = json.loads(line)
                except json.JSONDecodeError as error:
                    raise CommandError(f"line {line_number}: not JSON ({error.msg})") from error
                if not isinstance(data, dict) or "query_id" not in data:
                    raise CommandError(f"line {line_number}: an object with a query_id is required")
                result = identify(program.pk, Query.from_mapping(data))
                candidates = [] if result.abstained else result.candidates
                out = {
                    "query_id": data["query_id"],
                    "candidates": [{"household": c.number, "score": c.score} for c in candidates],
                }
                self.stdout.write(json.dumps(out, ensure_ascii=False))
        finally:
            if stream is not sys.stdin:
                stream.close()
