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


# --- the list's three plans -------------------------------------------------------------------------
#
# The case list wants the first `wanted` matching cases newest first (51 for a page, 1,001 for
# its count label). SQLite can answer in three ways; which is cheap depends on how many of the N
# cases contain the text (H) and on how many tokens its phrase has (T = length − 1, at least 1):
#
# - "in": the index gives the H hits; each case is read by id, filtered, sorted, and the first
#   `wanted` kept. Cost H · HIT_COST. Nothing for a rare text; 611 ms for 「配送」, in 63 % of
#   100,000 cases, where it reads and sorts most of the table.
# - "walk": the hits are gathered once into a temporary b-tree (each token's doclist decoded:
#   T · GATHER_COST per hit), then the list's own index is walked newest first and each id
#   looked up in that set until `wanted` rows are found. With the hits spread over the table,
#   about wanted · N / H rows are walked: cost H · T · GATHER_COST + wanted · N / H · STEP_COST.
# - "probe": the list's index is walked and each row asks the index whether it contains the
#   text (a rowid-bounded phrase query: T · PROBE_COST). Cost wanted · N / H · T · PROBE_COST:
#   nothing is gathered, the best plan for a short text in most cases, and ruinous for a rare
#   one (every row is probed).
#
# `choose_form` counts the hits up to HIT_CAP (a doclist scan: a few hundredths of HIT_COST
# per hit) and takes the cheapest plan by these formulas. Above the cap, H is taken as HIT_CAP:
# that overstates the probe's cost, understates the others', and at that many hits the probe
# already wins for short texts. The unit costs are relative (HIT_COST = 1): CPU per hit, per
# gathered token, per walked row and per probed token, measured on bench/cases_sqlite.py's
# synthetic cases at 20,000 and 100,000 (docs/benchmarks.md, docs/notes.md). The boundaries
# between plans move with the square root of the ratios, so a factor of two in a unit cost
# moves a boundary by 1.4 and the worst text's cost by as much.
HIT_COST = 1.0
GATHER_COST = 0.2
STEP_COST = 0.1
PROBE_COST = 3.0
HIT_CAP = 20_000
FORMS = ("in", "walk", "probe")


def costs(*, hits: int, tokens: int, wanted: int, table_rows: int) -> dict[str, float]:
    """The relative cost of each plan (see above)."""
    walked = wanted * max(table_rows, 1) / max(hits, 1)
    return {
        "in": hits * HIT_COST,
        "walk": hits * tokens * GATHER_COST + walked * STEP_COST,
        "probe": walked * tokens * PROBE_COST,
    }


def table_size(connection: Any) -> int:
    """About how many cases there are, from the ends of the primary key (two probes of its
    b-tree, not a count): ids are never reused, so a table thinned by purges is overestimated, which only
    makes the walks look longer than they are."""
    with connection.cursor() as cursor:
        # Two subqueries: SQLite answers a lone min() or max() from the index's end, but
        # `max(id) - min(id)` in one SELECT reads the whole table (30 ms at 100,000 cases).
        cursor.execute(
            f"SELECT coalesce((SELECT max(id) FROM {SOURCE}) - (SELECT min(id) FROM {SOURCE}) + 1, 0)"
        )
        return int(cursor.fetchone()[0])


def capped_hits(connection: Any, match: str, cap: int = HIT_CAP) -> int:
    """How many cases the index holds for `match`, counting no further than `cap`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s LIMIT %s)", [match, cap]
        )
        return int(cursor.fetchone()[0])


def tokens(key: str) -> int:
    """How many tokens the phrase of `key` has (`match_expression`)."""
    return max(1, len(key) - 1)


def choose_form(connection: Any, key: str, wanted: int) -> str:
    """The cheapest plan for a list that keeps the first `wanted` rows containing `key`."""
    estimate = costs(
        hits=capped_hits(connection, match_expression(key)),
        tokens=tokens(key),
        wanted=wanted,
        table_rows=table_size(connection),
    )
    return min(FORMS, key=lambda form: estimate[form])


def probe_sql(pk_sql: str) -> str:
    """A condition true when the case whose id is `pk_sql` contains the key (its parameter)."""
    return f"EXISTS (SELECT 1 FROM {TABLE} WHERE {TABLE} MATCH %s AND rowid = {pk_sql})"
