-- SPDX-License-Identifier: GPL-3.0-or-later
-- Every row accounted for: each canonical field has a maximum length,
-- checked before anything reaches an index (a 3,000-character address
-- used to make the household index refuse the row and, with it, the whole
-- fetch), and every ingest checks that its counts add up.
--
-- bokvar.ingest_rows() keeps its name and signature, so that its callers
-- (bokvar.ingest_fetch, bokvar.quarantine_retry) get both checks: 002's
-- function is renamed bokvar.ingest_merge() and ingest_rows() now wraps it.

-- The longest value each canonical field may have, in characters, once
-- the spaces around it are trimmed. Long enough for any real value; short
-- enough that the keys
-- built from them (the household's address key, the signal's external id)
-- stay far below a B-tree entry's limit of 2,704 bytes.
CREATE FUNCTION bokvar.field_limits() RETURNS TABLE (field text, max_length integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        VALUES ('external_id', 200), ('kind', 100), ('occurred_at', 40), ('deadline', 40), ('person_id', 40),
               ('name', 200), ('address', 200), ('postal_code', 20), ('city', 100), ('apartment', 20),
               ('children', 20), ('amount', 40), ('months_in_arrears', 20), ('landlord', 200)
$$;

-- Marks the rows of pg_temp.stage with a field over its limit as rows that
-- cannot be ingested, naming each field, its length and the limit. They
-- keep their fields (or document), so that a quarantine retry under a
-- mapping that no longer reads that column ingests them.
CREATE FUNCTION bokvar.stage_check_lengths(p_mapping jsonb, p_header text[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        -- The mapped fields, worked out once (inlined, the positions and
        -- paths would be computed again for every row and field).
        WITH m AS MATERIALIZED (
                SELECT l.field, l.max_length, l.n, f.value ->> 'value' AS constant,
                       array_position(p_header, f.value ->> 'column') AS col,
                       bokvar.jsonb_text_array(f.value -> 'path') AS path
                FROM bokvar.field_limits() WITH ORDINALITY l(field, max_length, n)
                JOIN jsonb_each(p_mapping -> 'fields') f ON f.key = l.field
        ), over AS (
                -- Bytes first: never fewer than characters, and cheap.
                SELECT s.seq, m.field, m.max_length, m.n, length(btrim(v.text)) AS length
                FROM pg_temp.stage s
                CROSS JOIN m
                CROSS JOIN LATERAL (SELECT coalesce(m.constant, s.fields[m.col], s.doc #>> m.path) AS text) v
                WHERE s.error IS NULL AND octet_length(v.text) > m.max_length
        ), reasons AS (
                SELECT seq, string_agg(format('%s has %s characters, more than the %s allowed', field, length,
                                              max_length), '; ' ORDER BY n) AS reason
                FROM over WHERE length > max_length GROUP BY seq
        )
        UPDATE pg_temp.stage s SET error = reasons.reason FROM reasons WHERE s.seq = reasons.seq;
END;
$$;

ALTER FUNCTION bokvar.ingest_rows(text, jsonb, text[], bigint, date) RENAME TO ingest_merge;

-- Ingests pg_temp.stage as bokvar.ingest_merge() does (see 002), after the
-- length check, and then checks that every staged row was counted once:
-- rows_read = accepted + updated + duplicate + quarantined, each counted
-- again from what the merge left behind (pg_temp.ingest_row: the rows
-- after in-delivery duplicates went, with their problems;
-- pg_temp.ingest_known: the valid rows the feed delivered before, and
-- whether they changed). Counts that differ mean rows went missing or were
-- counted twice: the ingest fails, and with it the fetch, which the caller
-- rolls back and records as failed.
CREATE FUNCTION bokvar.ingest_rows(p_feed text, p_mapping jsonb, p_header text[], p_fetch_id bigint, p_today date,
                                   OUT rows_read integer, OUT accepted integer, OUT updated integer,
                                   OUT duplicate integer, OUT quarantined integer)
LANGUAGE plpgsql AS $$
DECLARE
        staged integer;
        kept integer;
        bad integer;
        known_same integer;
        known_changed integer;
BEGIN
        PERFORM bokvar.stage_check_lengths(p_mapping, p_header);
        SELECT m.rows_read, m.accepted, m.updated, m.duplicate, m.quarantined
        INTO rows_read, accepted, updated, duplicate, quarantined
        FROM bokvar.ingest_merge(p_feed, p_mapping, p_header, p_fetch_id, p_today) m;

        SELECT count(*) INTO staged FROM pg_temp.stage;
        SELECT count(*), count(*) FILTER (WHERE problem <> '') INTO kept, bad FROM pg_temp.ingest_row;
        SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same)
        INTO known_same, known_changed FROM pg_temp.ingest_known;
        IF (rows_read, accepted, updated, duplicate, quarantined) IS DISTINCT FROM
           (staged, kept - bad - known_same - known_changed, known_changed, staged - kept + known_same, bad) THEN
                RAISE EXCEPTION 'the counts do not add up: % rows read, % accepted, % updated, % duplicate, % '
                                'quarantined, where the rows show % read, % new, % changed, % duplicate, % '
                                'quarantined',
                                rows_read, accepted, updated, duplicate, quarantined,
                                staged, kept - bad - known_same - known_changed, known_changed,
                                staged - kept + known_same, bad
                      USING ERRCODE = 'internal_error';
        END IF;
END;
$$;
