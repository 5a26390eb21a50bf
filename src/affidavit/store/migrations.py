"""The store's schema, versioned: each migration is applied once, in order, by affidavit itself.

``affidavit_schema`` lists the versions applied (with when and what). A store whose newest version
is beyond what this affidavit knows is refused rather than written with an older idea of it.
The statements are written once for both back ends; ``Dialect`` fills in the few words that differ
(the binary and 64-bit integer types, the append-only trigger).

Schema 1 (see README.md, "Run history"):

- ``runs``: one row per run, ``seq`` its place in the chain; indexed columns (run id, evaluation and
  wall-clock time, when recorded, subject name and digest, environment, commit, branch, decision,
  replay, bundle path and manifest sha256), the compressed canonical ``payload``, its inflated size,
  ``prev_hash`` and ``hash``.
- ``run_rules``, ``run_evidence``, ``run_findings``, ``run_waivers``: rows derived from the payload
  (``record.derive_rows``), for queries. Control statuses (about 150 per run) stay in the payload
  only: a row each would be most of the store, and no query filters on them.
- ``records``: normalised evidence records by content hash (compressed).
- ``chain_head``: the last run's place and hash.

Schema 2 adds to ``runs`` the ``payload_sha256`` (the sha256 of the uncompressed payload) and the
run's ``summary`` (``record.derive_summary``: canonical JSON of what a period export reads, about a
kilobyte), and links new runs with chain version 2, whose hash covers both
(``record.chain_hash``). A period export then checks each run's link from these two columns alone,
without inflating its payload; ``history verify`` checks that the payload hashes to
``payload_sha256`` and that the summary is the one derived from the payload.

Updates and deletes of runs, their rows and records are refused by triggers; the hash chain is what
makes a change by someone who drops the triggers visible (``history verify``).
"""

from __future__ import annotations

from dataclasses import dataclass

from affidavit.store.interface import GENESIS


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between SQLite and PostgreSQL in the schema and the statements."""

    name: str
    blob: str
    bigint: str

    def append_only(self, table: str) -> list[str]:
        """Statements that make ``table`` refuse UPDATE and DELETE."""
        if self.name == "sqlite":
            return [
                f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                "BEGIN SELECT RAISE(ABORT, 'the run history is append-only'); END"
                for op in ("UPDATE", "DELETE")
            ]
        return [
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION affidavit_append_only()"
        ]


SQLITE = Dialect("sqlite", "BLOB", "INTEGER")
POSTGRES = Dialect("postgresql", "BYTEA", "BIGINT")

_TABLES = ("runs", "run_rules", "run_evidence", "run_findings", "run_waivers", "records")


def _schema_1(d: Dialect) -> list[str]:
    """The first schema: runs, their derived rows, the records and the chain head."""
    b, i = d.blob, d.bigint
    statements = [
        f"CREATE TABLE chain_head (id INTEGER PRIMARY KEY CHECK (id = 1), seq {i} NOT NULL, hash TEXT NOT NULL)",
        f"INSERT INTO chain_head (id, seq, hash) VALUES (1, 0, '{GENESIS}')",
        f"""CREATE TABLE runs (
            seq {i} PRIMARY KEY,
            run_id TEXT NOT NULL UNIQUE,
            time TEXT NOT NULL,
            wall_time TEXT,
            recorded_at TEXT NOT NULL,
            subject_name TEXT,
            subject_digest TEXT,
            environment TEXT NOT NULL,
            commit_sha TEXT,
            branch TEXT,
            decision TEXT NOT NULL,
            replay INTEGER NOT NULL,
            bundle_path TEXT,
            manifest_sha256 TEXT,
            payload {b} NOT NULL,
            payload_size {i} NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE)""",
        "CREATE INDEX runs_time ON runs (time, seq)",
        "CREATE INDEX runs_subject_time ON runs (subject_name, time, seq)",
        "CREATE INDEX runs_digest_time ON runs (subject_digest, time, seq)",
        "CREATE INDEX runs_environment_time ON runs (environment, time, seq)",
        "CREATE INDEX runs_decision_time ON runs (decision, time, seq)",
        f"""CREATE TABLE run_rules (
            seq {i} NOT NULL REFERENCES runs (seq), rule_id TEXT NOT NULL, outcome TEXT NOT NULL,
            PRIMARY KEY (seq, rule_id))""",
        "CREATE INDEX run_rules_rule ON run_rules (rule_id, outcome)",
        f"""CREATE TABLE run_evidence (
            seq {i} NOT NULL REFERENCES runs (seq), position INTEGER NOT NULL, evidence_id TEXT NOT NULL,
            kind TEXT NOT NULL, format TEXT NOT NULL, format_version TEXT, tool_name TEXT, tool_version TEXT,
            source TEXT NOT NULL, collected_at TEXT NOT NULL, record_hash TEXT NOT NULL,
            PRIMARY KEY (seq, position))""",
        "CREATE INDEX run_evidence_id ON run_evidence (evidence_id)",
        f"""CREATE TABLE run_findings (
            seq {i} NOT NULL REFERENCES runs (seq), position INTEGER NOT NULL, subject_name TEXT,
            time TEXT NOT NULL, finding_key TEXT NOT NULL, kind TEXT NOT NULL, severity TEXT,
            evidence_id TEXT NOT NULL, PRIMARY KEY (seq, position))""",
        "CREATE INDEX run_findings_first_seen ON run_findings (subject_name, finding_key, time)",
        f"""CREATE TABLE run_waivers (
            seq {i} NOT NULL REFERENCES runs (seq), position INTEGER NOT NULL, rule_id TEXT NOT NULL,
            owner TEXT NOT NULL, expires TEXT NOT NULL, findings INTEGER NOT NULL,
            absent_evidence INTEGER NOT NULL, PRIMARY KEY (seq, position))""",
        f"CREATE TABLE records (hash TEXT PRIMARY KEY, size {i} NOT NULL, body {b} NOT NULL)",
    ]
    if d.name == "postgresql":
        # The payload and records are compressed by affidavit: PostgreSQL need not try again.
        statements.append("ALTER TABLE runs ALTER COLUMN payload SET STORAGE EXTERNAL")
        statements.append("ALTER TABLE records ALTER COLUMN body SET STORAGE EXTERNAL")
        statements.append(
            "CREATE FUNCTION affidavit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'the run history is append-only'; END $$"
        )
    for table in _TABLES:
        statements.extend(d.append_only(table))
    return statements


def _schema_2(d: Dialect) -> list[str]:
    """Each run's payload sha256 and summary as columns (chain version 2 covers the summary).

    Runs recorded before keep both NULL and their version-1 chain link: nothing is rewritten (the
    rows are append-only), and readers take the payload of such a run as before."""
    return [
        "ALTER TABLE runs ADD COLUMN payload_sha256 TEXT",
        "ALTER TABLE runs ADD COLUMN summary TEXT",
    ]


#: (version, description, statements): applied in order; never edit a released entry, add one.
MIGRATIONS = (
    (1, "runs, derived rows, records by content hash, hash chain", _schema_1),
    (2, "runs: payload sha256 and summary columns, chain version 2", _schema_2),
)

LATEST = MIGRATIONS[-1][0]
