"""The ledger's schema: its migrations, numbered by ``PRAGMA user_version`` (a ledger at version N has
run ``MIGRATIONS[:N]``). :class:`sohs_cli.submission.ledger.Ledger` runs the missing ones, each in one
transaction, when a writing command opens the ledger; the dashboard reads any ledger of at least
schema 4 read-only and never migrates it.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, path TEXT NOT NULL, kind TEXT NOT NULL,
        standard TEXT NOT NULL, facility TEXT NOT NULL, ma_lks TEXT NOT NULL, endpoint TEXT NOT NULL,
        first_seen TEXT NOT NULL, updated_at TEXT NOT NULL, state TEXT NOT NULL,
        portal_code TEXT NOT NULL DEFAULT '', transaction_id TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '',
        errors TEXT NOT NULL DEFAULT '[]', processed_at TEXT NOT NULL DEFAULT '');
    CREATE INDEX documents_state ON documents(state);
    CREATE TABLE document_lks(document_id INTEGER NOT NULL REFERENCES documents(id), ma_lk TEXT NOT NULL);
    CREATE INDEX document_lks_lk ON document_lks(ma_lk);
    CREATE TABLE attempts(
        id INTEGER PRIMARY KEY, document_id INTEGER NOT NULL REFERENCES documents(id),
        started_at TEXT NOT NULL, finished_at TEXT NOT NULL DEFAULT '', endpoint TEXT NOT NULL,
        outcome TEXT NOT NULL, portal_code TEXT NOT NULL DEFAULT '', transaction_id TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL DEFAULT '', message TEXT NOT NULL DEFAULT '');
    CREATE INDEX attempts_document ON attempts(document_id);
    """,
    # 2: what `sohs dashboard` sorts and filters by stays fast on a million documents (keyset pages,
    # nights by first_seen); documents_state is a prefix of documents_state_seen
    """
    CREATE INDEX documents_seen ON documents(first_seen);
    CREATE INDEX documents_updated ON documents(updated_at);
    CREATE INDEX documents_state_seen ON documents(state, first_seen);
    CREATE INDEX documents_facility_seen ON documents(facility, first_seen);
    DROP INDEX documents_state;
    """,
    # 3: the dashboard's kind, standard and file-name filters, and open attempts, without a table scan
    # (a million documents: a scan is half a second); documents_name is the file name without its folder
    """
    CREATE INDEX documents_kind_seen ON documents(kind, first_seen);
    CREATE INDEX documents_standard_seen ON documents(standard, first_seen);
    CREATE INDEX documents_name ON documents(replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'),
        replace(replace(path, '\\', '/'), '/', '')), '') COLLATE NOCASE);
    CREATE INDEX attempts_open ON attempts(outcome) WHERE outcome = 'sending';
    """,
    # 4: the file-name index carries what the dashboard sorts by, so the matches of a name are sorted
    # from the index alone (reading each matching row first cost 250 ms for 10,000 matches)
    """
    DROP INDEX documents_name;
    CREATE INDEX documents_name ON documents(replace(replace(path, '\\', '/'), rtrim(replace(path, '\\', '/'),
        replace(replace(path, '\\', '/'), '/', '')), '') COLLATE NOCASE, state, first_seen, updated_at);
    """,
)


def _counts_migration() -> str:
    """Migration 5: what the dashboard's nights chart and "what keeps failing" count, kept by the
    ledger itself, so that three years of nights read a few thousand rows, not a million.

    Three tables of counts per night (``date(first_seen, '-5 hours')``: noon to noon, Vietnam time)
    and triggers that keep them true on every insert, update and delete of a document, in the
    writer's own transaction: the writer's code does not change, and no write can forget them. The
    migration fills them from the documents already there (a few seconds for a million).
    ``night_counts``: documents per state. ``failing_counts``: per field and rule of the field errors
    of rejected documents (``sent``: the portal's, after a receipt; else local findings of a file
    refused before sending), errors and documents. ``refusal_counts``: rejected documents without a
    field error, per portal result code. And ``document_errors``: each document's field errors as rows
    (document, field, rule), so that the documents with an error on a field are an index lookup, not a
    parse of every rejected document's JSON. Malformed ``errors`` JSON counts as none, never fails a write.
    """
    night = "coalesce(date({r}.first_seen, '-5 hours'), '')"
    errors = "json_each(CASE WHEN json_valid({r}.errors) THEN {r}.errors ELSE '[]' END)"
    pick = "coalesce(json_extract(e.value, '$.{0}'), json_extract(e.value, '$.{1}'))"

    def night_delta(r: str, sign: str) -> str:
        return (f"INSERT INTO night_counts VALUES ({night.format(r=r)}, {r}.state, {sign}1)"
                f" ON CONFLICT (night, state) DO UPDATE SET documents = documents + excluded.documents;"
                f" DELETE FROM night_counts WHERE night = {night.format(r=r)} AND state = {r}.state"
                f" AND documents <= 0;")

    def failing_delta(r: str, sign: str) -> str:
        labels = (f"max({pick.format('nhan', 'label')}), max({pick.format('moTa', 'message_vi')}),"
                  f" max({pick.format('moTaEn', 'message_en')})") if sign == "+" else "NULL, NULL, NULL"
        return (f"INSERT INTO failing_counts SELECT * FROM (SELECT {night.format(r=r)}, {r}.transaction_id != '',"
                f" coalesce({pick.format('truong', 'element')}, '') AS field,"
                f" coalesce({pick.format('maLoi', 'code')}, '') AS rule, {sign}count(*), {sign}1, {labels}"
                f" FROM {errors.format(r=r)} e WHERE {r}.state = 'rejected' AND e.type = 'object'"
                f" GROUP BY field, rule) WHERE true ON CONFLICT (night, sent, field, rule) DO UPDATE SET"
                f" errors = errors + excluded.errors, documents = documents + excluded.documents,"
                f" label = coalesce(excluded.label, label), example_vi = coalesce(excluded.example_vi, example_vi),"
                f" example_en = coalesce(excluded.example_en, example_en);"
                f" DELETE FROM failing_counts WHERE night = {night.format(r=r)} AND documents <= 0;"
                f" INSERT INTO refusal_counts SELECT {night.format(r=r)}, {r}.portal_code, {sign}1,"
                f" {f'nullif({r}.message, {chr(39) * 2})' if sign == '+' else 'NULL'}"
                f" WHERE {r}.state = 'rejected' AND {r}.errors = '[]' ON CONFLICT (night, code) DO UPDATE SET"
                f" documents = documents + excluded.documents, example = coalesce(excluded.example, example);"
                f" DELETE FROM refusal_counts WHERE night = {night.format(r=r)} AND documents <= 0;")

    def error_rows(r: str) -> str:
        return (f"INSERT OR IGNORE INTO document_errors SELECT {r}.id,"
                f" coalesce({pick.format('truong', 'element')}, ''), coalesce({pick.format('maLoi', 'code')}, '')"
                f" FROM {errors.format(r=r)} e WHERE e.type = 'object';")

    d = "FROM documents d, " + errors.format(r="d") + " e"
    field, rule = pick.format("truong", "element"), pick.format("maLoi", "code")
    return f"""
    CREATE TABLE night_counts(night TEXT NOT NULL, state TEXT NOT NULL, documents INTEGER NOT NULL,
        PRIMARY KEY (night, state)) WITHOUT ROWID;
    CREATE TABLE failing_counts(night TEXT NOT NULL, sent INTEGER NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL,
        errors INTEGER NOT NULL, documents INTEGER NOT NULL, label TEXT, example_vi TEXT, example_en TEXT,
        PRIMARY KEY (night, sent, field, rule)) WITHOUT ROWID;
    CREATE TABLE refusal_counts(night TEXT NOT NULL, code TEXT NOT NULL, documents INTEGER NOT NULL, example TEXT,
        PRIMARY KEY (night, code)) WITHOUT ROWID;
    CREATE TABLE document_errors(document_id INTEGER NOT NULL, field TEXT NOT NULL, rule TEXT NOT NULL,
        PRIMARY KEY (document_id, field, rule)) WITHOUT ROWID;
    CREATE INDEX document_errors_field ON document_errors(field);
    CREATE INDEX document_errors_rule ON document_errors(rule);
    INSERT OR IGNORE INTO document_errors SELECT d.id, coalesce({field}, ''), coalesce({rule}, '') {d}
        WHERE d.errors != '[]' AND e.type = 'object';
    INSERT INTO night_counts SELECT {night.format(r="documents")} AS n, state, count(*) FROM documents
        GROUP BY n, state;
    INSERT INTO failing_counts SELECT {night.format(r="d")} AS n, d.transaction_id != '' AS sent,
        coalesce({field}, '') AS field, coalesce({rule}, '') AS rule, count(*), count(DISTINCT d.id),
        max({pick.format('nhan', 'label')}), max({pick.format('moTa', 'message_vi')}),
        max({pick.format('moTaEn', 'message_en')}) {d} WHERE d.state = 'rejected' AND e.type = 'object'
        GROUP BY n, sent, field, rule;
    INSERT INTO refusal_counts SELECT {night.format(r="documents")} AS n, portal_code, count(*),
        nullif(max(message), '') FROM documents WHERE state = 'rejected' AND errors = '[]' GROUP BY n, portal_code;
    CREATE TRIGGER documents_counted AFTER INSERT ON documents BEGIN
        {night_delta("new", "+")} END;
    CREATE TRIGGER documents_uncounted AFTER DELETE ON documents BEGIN
        {night_delta("old", "-")} END;
    CREATE TRIGGER documents_recounted AFTER UPDATE OF state, first_seen ON documents
        WHEN old.state IS NOT new.state OR old.first_seen IS NOT new.first_seen BEGIN
        {night_delta("old", "-")} {night_delta("new", "+")} END;
    CREATE TRIGGER documents_errors_listed AFTER INSERT ON documents WHEN new.errors != '[]' BEGIN
        {error_rows("new")} END;
    CREATE TRIGGER documents_errors_relisted AFTER UPDATE OF errors ON documents
        WHEN old.errors IS NOT new.errors BEGIN
        DELETE FROM document_errors WHERE document_id = old.id; {error_rows("new")} END;
    CREATE TRIGGER documents_errors_unlisted AFTER DELETE ON documents BEGIN
        DELETE FROM document_errors WHERE document_id = old.id; END;
    CREATE TRIGGER documents_failing_counted AFTER INSERT ON documents WHEN new.state = 'rejected' BEGIN
        {failing_delta("new", "+")} END;
    CREATE TRIGGER documents_failing_uncounted AFTER DELETE ON documents WHEN old.state = 'rejected' BEGIN
        {failing_delta("old", "-")} END;
    CREATE TRIGGER documents_failing_recounted
        AFTER UPDATE OF state, errors, first_seen, transaction_id, portal_code, message ON documents
        WHEN old.state = 'rejected' OR new.state = 'rejected' BEGIN
        {failing_delta("old", "-")} {failing_delta("new", "+")} END;
    """


MIGRATIONS += (_counts_migration(),)


def statements(script: str) -> list[str]:
    """The statements of a migration: split at each ``;`` that ends one (a trigger's body holds several)."""
    out: list[str] = []
    current = ""
    for piece in script.split(";"):
        current += piece + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                out.append(current.strip())
            current = ""
    if current.strip(" \n;"):
        out.append(current.strip())
    return out


# 6: the dashboard's remaining slow views on a million documents, made index-only. documents_state_seen
# carries the other columns the documents table filters on by equality, so a state combined with a
# facility, kind or standard is checked in the index (118 matches among 20,000 failed documents: 57 ms
# of row reads before, 2 ms after). documents_night_updated orders each night's documents by last
# change (a night is noon to noon, Vietnam time, as in night_counts), so a date range sorted by last
# change merges a few entries of each night instead of sorting every match (a year: 333,000 rows).
MIGRATIONS += ("""
    DROP INDEX documents_state_seen;
    CREATE INDEX documents_state_seen ON documents(state, first_seen, facility, kind, standard);
    CREATE INDEX documents_night_updated ON documents(date(first_seen, '-5 hours'), updated_at);
    """,)

# 7: every index of a filter by equality carries the others (facility, kind, standard), so any two or
# three of them together are checked in the index the planner picks, never row by row (facility + kind,
# 6,060 matches: 123 ms of row reads before, 2 ms after); and each holds the id right after first_seen,
# so its order is the page's (first_seen, id) whole, not sorted again among equal stamps (a batch that
# ``record_many`` stamps in one second). The filtered columns never change once a document is recorded:
# no update writes these indexes but a change of state (documents_state_seen, as before).
MIGRATIONS += ("""
    DROP INDEX documents_state_seen;
    CREATE INDEX documents_state_seen ON documents(state, first_seen, id, facility, kind, standard);
    DROP INDEX documents_facility_seen;
    CREATE INDEX documents_facility_seen ON documents(facility, first_seen, id, kind, standard);
    DROP INDEX documents_kind_seen;
    CREATE INDEX documents_kind_seen ON documents(kind, first_seen, id, facility, standard);
    DROP INDEX documents_standard_seen;
    CREATE INDEX documents_standard_seen ON documents(standard, first_seen, id, facility, kind);
    """,)
