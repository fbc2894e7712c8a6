"""Japanese substring search on SQLite: an FTS5 index of overlapping character bigrams.

PostgreSQL answers `search_text LIKE '%…%'` from a pg_trgm GIN index (migration 0002). SQLite
has no such index, so this module keeps one beside `cases_case`:

- `cases_case_search` is a contentless FTS5 table whose rowid is the case id. Its one column
  holds the case's `search_text` cut into overlapping two-character pieces ("配送が" → "配送",
  "送が", plus the last character alone so that a one-character query can find it), each piece
  written as the hex of its UTF-8 bytes ("E9858DE98081"). Hex tokens are only [0-9A-F], so the
  tokenizer (`ascii`) keeps every piece as exactly one token, whatever it holds: spaces,
  punctuation, half-width kana, 𠮷 (four UTF-8 bytes) or a newline. No word segmentation, no
  case or diacritic folding can make two different pieces equal.
- A query of n ≥ 2 characters is the FTS5 phrase of its n − 1 bigrams: consecutive tokens in
  the document are consecutive characters, so a phrase hit is a true substring and there are
  no false hits. A one-character query is a prefix query on its hex: UTF-8 is prefix-free, so
  a token starting with the character's bytes is a piece starting with that character.
- Three triggers keep the index equal to `search_text` on every path: INSERT, DELETE, and an
  UPDATE of `search_text` (the services append with `Concat(F("search_text"), …)`). A
  contentless table cannot look up what it indexed, so the UPDATE and DELETE triggers give the
  old pieces back with FTS5's 'delete' command, computed again from `old.search_text`.

The pieces are computed in SQL (a recursive CTE over `substr`/`hex`) rather than in Python so
that any writer, including a raw UPDATE, keeps the index right. Django rebuilds a SQLite table
(new table, copy, drop, rename) for some schema changes, and the drop takes the table's
triggers with it; `ensure_installed`, run after every `migrate`, puts them back and rebuilds
the index when they were missing.
"""

from __future__ import annotations

# Every statement here is built from this module's constants; values go in as parameters.
# ruff: noqa: S608
import math
from typing import Any

TABLE = "cases_case_search"
SOURCE = "cases_case"
TRIGGERS = ("cases_case_search_insert", "cases_case_search_update", "cases_case_search_delete")
CHUNK = 64


def grams_sql(text: str) -> str:
    """SQL for the space-separated hex pieces of the SQL expression `text` (see the module
    docstring); `piece_tokens` is the same thing in Python.

    SQLite's substr() walks a string from its start to find a character, so taking the pieces
    one by one from the whole text costs n²/2 steps (0.8 s for 10,000 characters). The text is
    cut into CHUNK-character pieces first (each with the next chunk's first character, for the
    bigram that straddles them), and the bigrams are taken from each chunk: about n·CHUNK
    steps, a few milliseconds for 10,000 characters.
    """
    c = CHUNK
    return (
        f"(WITH RECURSIVE "
        f"chunk(k, total, piece) AS (SELECT 0, length({text}), substr({text}, 1, {c + 1}) "
        f"UNION ALL SELECT k + 1, total, substr({text}, (k + 1) * {c} + 1, {c + 1}) FROM chunk "
        f"WHERE (k + 1) * {c} < total), "
        f"position(i, last) AS (SELECT 1, min({c}, length({text})) "
        f"UNION ALL SELECT i + 1, last FROM position WHERE i < last) "
        f"SELECT coalesce(group_concat(token, ' '), '') FROM ("
        f"SELECT hex(substr(piece, i, 2)) AS token FROM chunk, position "
        f"WHERE k * {c} + i <= total ORDER BY k, i))"
    )


def piece_tokens(text: str) -> list[str]:
    """The tokens `grams_sql` indexes for `text`: every bigram, then the last character alone."""
    return [text[i : i + 2].encode().hex().upper() for i in range(len(text))]


def _statements() -> list[str]:
    new, old = grams_sql("new.search_text"), grams_sql("old.search_text")
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(grams, content='', tokenize='ascii')",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[0]} AFTER INSERT ON {SOURCE} BEGIN "
        f"INSERT INTO {TABLE}(rowid, grams) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[1]} AFTER UPDATE OF search_text, id ON {SOURCE} "
        f"WHEN old.search_text IS NOT new.search_text OR old.id IS NOT new.id BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, grams) VALUES ('delete', old.id, {old}); "
        f"INSERT INTO {TABLE}(rowid, grams) VALUES (new.id, {new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {TRIGGERS[2]} AFTER DELETE ON {SOURCE} BEGIN "
        f"INSERT INTO {TABLE}({TABLE}, rowid, grams) VALUES ('delete', old.id, {old}); END",
    ]


def rebuild(connection: Any) -> None:
    """Index every case again from `search_text` (the backfill, and the repair)."""
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('delete-all')")
        cursor.execute(
            f"INSERT INTO {TABLE}(rowid, grams) SELECT id, {grams_sql('search_text')} FROM {SOURCE}"
        )


def create_triggers(connection: Any) -> None:
    """Create the index and its triggers, without filling it (a bulk load fills it itself)."""
    with connection.cursor() as cursor:
        for statement in _statements():
            cursor.execute(statement)


def install(connection: Any) -> None:
    """Create the index and its triggers and fill it (idempotent). SQLite only."""
    if connection.vendor != "sqlite":
        return
    create_triggers(connection)
    rebuild(connection)


def uninstall(connection: Any) -> None:
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        for trigger in TRIGGERS:
            cursor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")


def _existing(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE name IN (%s, %s, %s, %s)",
            [TABLE, *TRIGGERS],
        )
        return {row[0] for row in cursor.fetchall()}


def ensure_installed(connection: Any) -> bool:
    """After `migrate`: put back triggers a table rebuild dropped, and re-index. True if repaired.

    Does nothing where the index was never installed (PostgreSQL, or migrated back before it).
    """
    if connection.vendor != "sqlite":
        return False
    existing = _existing(connection)
    if TABLE not in existing or existing.issuperset(TRIGGERS):
        return False
    install(connection)
    return True


def match_expression(key: str) -> str:
    """The FTS5 query for substring `key` (already a search key: NFKC, lower case, non-empty)."""
    tokens = piece_tokens(key)
    if len(key) == 1:
        return f'"{tokens[0]}" *'
    return '"' + " ".join(tokens[:-1]) + '"'


def matching_ids_sql() -> str:
    """The subquery of case ids whose `search_text` contains the key given as its parameter."""
    return f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s"


# --- the list's two plans ---------------------------------------------------------------------------
#
# The case list wants the first `wanted` matching cases newest first (51 for a page, 1,001 for
# its count label). SQLite can answer that in two ways, and which is cheap depends on how many
# cases contain the text (H, out of N cases):
#
# - "in": the index gives the H hits; each case is read by id, filtered and sorted; the first
#   `wanted` are kept. Cost H · HIT_COST: a rare text costs nothing, a text in most cases reads
#   and sorts most of the table (611 ms for 「配送」, in 63 % of 100,000 cases).
# - "walk": the hits are gathered once into a temporary b-tree (a decoded doclist entry and an
#   insert: GATHER_COST each, far below HIT_COST), then the list's own index is walked newest
#   first, each row's id looked up in that set, until `wanted` rows are found. With the hits
#   spread over the table, about wanted · N / H rows are walked: cost
#   H · GATHER_COST + wanted · N / H · STEP_COST. A rare text walks the whole index.
#
# "walk" is cheaper when H · (HIT_COST − GATHER_COST) > wanted · N · STEP_COST / H, that is when
# H > √(wanted · N · STEP_COST / (HIT_COST − GATHER_COST)) — the crossover. Both costs there are
# about crossover · HIT_COST, the worst any text can cost; away from it the cheaper form is much
# cheaper. The unit costs are relative (HIT_COST = 1) and were measured on bench/cases_sqlite.py's
# synthetic cases (docs/benchmarks.md); the crossover moves with their square root, so a factor of
# two in a ratio moves it by 1.4 and the worst case by as much.
HIT_COST = 1.0
GATHER_COST = 0.05
STEP_COST = 0.1
FORMS = ("in", "walk")


def crossover(wanted: int, table_rows: int) -> int:
    """The number of hits above which walking the list's index is the cheaper plan."""
    return math.ceil(math.sqrt(wanted * max(table_rows, 1) * STEP_COST / (HIT_COST - GATHER_COST)))


def table_size(connection: Any) -> int:
    """About how many cases there are, from the ends of the primary key (two index probes, not
    a count): ids are never reused, so a table thinned by purges is overestimated, which only
    raises the crossover towards the "in" form."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id) - min(id) + 1, 0) FROM {SOURCE}")
        return int(cursor.fetchone()[0])


def capped_hits(connection: Any, match: str, cap: int) -> int:
    """How many cases the index holds for `match`, counting no further than `cap`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s LIMIT %s)", [match, cap]
        )
        return int(cursor.fetchone()[0])


def choose_form(connection: Any, match: str, wanted: int) -> str:
    """ "walk" or "in" for a list that keeps the first `wanted` rows (see the costs above)."""
    limit = crossover(wanted, table_size(connection))
    return "walk" if capped_hits(connection, match, limit + 1) > limit else "in"
