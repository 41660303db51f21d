-- SPDX-License-Identifier: GPL-3.0-or-later
-- At PostgreSQL's own speed.
--
-- Ingest: bokvard maps, types and validates every record in C while it
-- reads it (src/ingest/signal-row.c) and stages finished rows with COPY in
-- a typed pg_temp.stage (bokvar.stage_create()); what fails is staged with
-- its reason, raw row, fields or document. The SQL keeps what needs the
-- database: quarantine, deduplication against the feed's signals, household
-- matching, the signal insert. The SQL readers (dates, amounts, counts,
-- identity numbers, words and address keys, the field lengths, the CSV line
-- of a quarantined row) and the typing part of the ingest go: C's are the
-- one definition now, and quarantined rows are retried through it too
-- (bokvarctl quarantine retry stages them again). What operators see of a
-- quarantined row without reading personal data (006's masking) is made in
-- C with the row, by the same rules; and a person's identity number is
-- read in C before bokvar.subject_export() is asked for their copy.

-- ---------------------------------------------------------------------
-- The typed stage.

-- The staging table of one fetch, in the caller's transaction. What each
-- column holds is src/ingest/stage.h's promise: a signal's typed values
-- (reason NULL), or a row to quarantine (reason, raw, fields or doc). The
-- normalised words (address_key, postal_key, city_key, landlord_key) are
-- made in C (basic/word.h), the one definition of them.
-- An operator's bokvarctl stages quarantined rows again: the table belongs to
-- the schema's owner, as the definer functions that read it do, and the
-- operator's session may only fill it.
CREATE FUNCTION bokvar.stage_create() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'stage quarantined rows again', true);
        CREATE TEMP TABLE stage (
                seq integer NOT NULL,
                line integer,
                external_id text COLLATE "C",
                kind bokvar.signal_kind,
                occurred_at date,
                deadline date,
                person_id text COLLATE "C",
                name text,
                address text,
                postal_code text,
                city text,
                apartment text,
                children integer,
                amount numeric(14, 2),
                months_in_arrears integer,
                landlord text,
                address_key text COLLATE "C",
                postal_key text,
                city_key text,
                landlord_key text,
                reason text,
                raw text,
                fields text[],
                doc jsonb,
                masked text
        ) ON COMMIT DROP;
        IF session_user <> current_user THEN
                EXECUTE format('GRANT INSERT ON pg_temp.stage TO %I', session_user);
        END IF;
END;
$$;

-- The key a staged row is matched to a household by: identity number and
-- address key as one text.
CREATE FUNCTION bokvar.home_key(person_id text, address_key text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (coalesce(person_id, '') || E'\x01' || coalesce(address_key, '')) COLLATE "C"
$$;

-- Routing compares normalised words, made in C like every other: the
-- household's city and landlord as its latest rows said them.
ALTER TABLE bokvar.household ADD COLUMN city_key text, ADD COLUMN landlord_key text;
UPDATE bokvar.household SET city_key = bokvar.norm_word(city), landlord_key = bokvar.norm_word(landlord)
WHERE city IS NOT NULL OR landlord IS NOT NULL;

-- ---------------------------------------------------------------------
-- The merge of a typed stage.

-- Rows that cannot be ingested go to the quarantine with their reason; the
-- same raw row delivered again counts once more instead of twice.
CREATE FUNCTION bokvar.ingest_quarantine(p_feed text, p_fetch_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        INSERT INTO bokvar.quarantine AS q (feed, fetch_id, line, raw, fields, doc, reason, masked)
        SELECT DISTINCT ON (md5(x.raw)) p_feed, p_fetch_id, x.line, x.raw, x.fields, x.doc, x.reason, x.masked
        FROM (SELECT s.seq, s.line, s.fields, s.doc, s.reason, s.masked, coalesce(s.raw, s.doc::text, '') AS raw
              FROM pg_temp.stage s WHERE s.reason IS NOT NULL) x
        ORDER BY md5(x.raw), x.seq DESC
        ON CONFLICT (feed, md5(raw)) DO UPDATE
        SET fetch_id = excluded.fetch_id, line = excluded.line, fields = excluded.fields, doc = excluded.doc,
            reason = excluded.reason, masked = excluded.masked, seen = q.seen + 1, last_seen_at = now();
END;
$$;

-- Ingests the typed rows of pg_temp.stage of fetch p_fetch_id of feed
-- p_feed (p_mapping: {"source": ...}; p_header and p_today are no longer
-- read: C mapped and read the rows). Rows with a reason are quarantined;
-- of the same record twice the last one counts; records the feed delivered
-- before are duplicates when unchanged and updated when changed (the
-- trigger keeps the old version); the rest are matched to households and
-- inserted. The caller holds the feed's row lock. Then the counts are
-- checked: rows read = accepted + updated + duplicate + quarantined, each
-- counted again from what the statements did, so that a row lost without
-- an error fails the ingest (and with it the fetch).
CREATE OR REPLACE FUNCTION bokvar.ingest_rows(p_feed text, p_mapping jsonb, p_header text[], p_fetch_id bigint,
                                              p_today date, OUT rows_read integer, OUT accepted integer,
                                              OUT updated integer, OUT duplicate integer, OUT quarantined integer)
LANGUAGE plpgsql AS $$
DECLARE
        src bokvar.feed_source := (p_mapping ->> 'source')::bokvar.feed_source;
        twice integer;
        known_same integer := 0;
        known_changed integer := 0;
BEGIN
        SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) INTO rows_read, quarantined FROM pg_temp.stage;
        IF quarantined > 0 THEN
                PERFORM bokvar.ingest_quarantine(p_feed, p_fetch_id);
                DELETE FROM pg_temp.stage WHERE reason IS NOT NULL;
        END IF;

        -- The same record twice in one delivery: the last one counts.
        DELETE FROM pg_temp.stage s
        USING (SELECT external_id, max(seq) AS keep FROM pg_temp.stage GROUP BY external_id HAVING count(*) > 1) d
        WHERE s.external_id = d.external_id AND s.seq <> d.keep;
        GET DIAGNOSTICS twice = ROW_COUNT;

        -- Records this feed delivered before. A feed with no signals yet
        -- skips the lookup.
        IF EXISTS (SELECT 1 FROM bokvar.feed WHERE name = p_feed AND total_accepted > 0) THEN
                CREATE TEMP TABLE ingest_known ON COMMIT DROP AS
                SELECT s.seq,
                       (x.kind, x.occurred_at, x.deadline, x.person_id, x.name, x.address, x.postal_code, x.city,
                        x.apartment, x.children, x.amount, x.months_in_arrears, x.landlord)
                       IS NOT DISTINCT FROM
                       (s.kind, s.occurred_at, s.deadline, s.person_id, s.name, s.address, s.postal_code, s.city,
                        s.apartment, s.children, s.amount, s.months_in_arrears, s.landlord) AS same
                FROM pg_temp.stage s
                JOIN bokvar.signal x ON x.external_id = s.external_id AND x.feed = p_feed;
                SELECT count(*) FILTER (WHERE same), count(*) FILTER (WHERE NOT same)
                INTO known_same, known_changed FROM ingest_known;
        ELSE
                CREATE TEMP TABLE ingest_known (seq integer, same boolean) ON COMMIT DROP;
        END IF;
        ANALYZE pg_temp.stage, ingest_known;

        PERFORM bokvar.match_households();

        UPDATE bokvar.signal x
        SET kind = s.kind, occurred_at = s.occurred_at, deadline = s.deadline, person_id = s.person_id, name = s.name,
            address = s.address, postal_code = s.postal_code, city = s.city, apartment = s.apartment,
            children = s.children, amount = s.amount, months_in_arrears = s.months_in_arrears, landlord = s.landlord,
            household_id = h.household_id, fetch_id = p_fetch_id, line = s.line
        FROM ingest_known k
        JOIN pg_temp.stage s ON s.seq = k.seq
        JOIN ingest_home h ON h.k = bokvar.home_key(s.person_id, s.address_key)
        WHERE NOT k.same AND x.external_id = s.external_id AND x.feed = p_feed;
        GET DIAGNOSTICS updated = ROW_COUNT;

        INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, deadline, person_id, name, address,
                                   postal_code, city, apartment, children, amount, months_in_arrears, landlord,
                                   household_id, fetch_id, line)
        SELECT p_feed, s.external_id, src, s.kind, s.occurred_at, s.deadline, s.person_id, s.name, s.address,
               s.postal_code, s.city, s.apartment, s.children, s.amount, s.months_in_arrears, s.landlord,
               h.household_id, p_fetch_id, s.line
        FROM pg_temp.stage s
        JOIN ingest_home h ON h.k = bokvar.home_key(s.person_id, s.address_key)
        WHERE NOT EXISTS (SELECT 1 FROM ingest_known k WHERE k.seq = s.seq);
        GET DIAGNOSTICS accepted = ROW_COUNT;

        duplicate := twice + known_same;
        IF rows_read <> accepted + updated + duplicate + quarantined OR updated <> known_changed THEN
                RAISE EXCEPTION 'the counts do not add up: % rows read, % accepted, % updated, % duplicate, % '
                                'quarantined, where the rows show % read, % new, % changed, % duplicate, % '
                                'quarantined',
                                rows_read, accepted, updated, duplicate, quarantined,
                                rows_read, rows_read - quarantined - twice - known_same - known_changed,
                                known_changed, duplicate, quarantined
                      USING ERRCODE = 'internal_error';
        END IF;
        PERFORM bokvar.ingest_done();
END;
$$;

-- Matches the rows of pg_temp.stage (all signals by now) to households,
-- into pg_temp.ingest_home (k: bokvar.home_key(), household_id). Identity
-- number first, else the address. A home found through someone's identity
-- number holds for everyone at that address in the same delivery
-- (co-tenants, rows without a number), and for those people's other rows.
-- What is still unmatched gets new homes: one per address, or per person
-- seen without one, so co-tenants at a new address share one. New homes
-- start with what the rows say of them; homes already known are refreshed.
-- Serialised across feeds by a transaction lock, so two feeds never create
-- one home twice.
CREATE OR REPLACE FUNCTION bokvar.match_households() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        first_id bigint;
        n_new bigint;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);

        -- What the rows say, per identity number and address: the latest
        -- values, each from the latest row that has one. (date, seq) packed
        -- in one bigint makes "latest" a max().
        CREATE TEMP TABLE ingest_keys ON COMMIT DROP AS
        SELECT a.k, a.person_id, a.address_key, coalesce(hp.household_id, h.id) AS household_id,
               hp.person_id IS NOT NULL AS known_person, a.first_at, a.last_at,
               p.postal_key AS postal_code, p.city, p.city_key, ll.landlord, ll.landlord_key,
               ll.occurred_at AS landlord_at, c.children, c.occurred_at AS children_at
        FROM (SELECT bokvar.home_key(s.person_id, s.address_key) AS k, min(s.person_id) AS person_id,
                     min(s.address_key) AS address_key, min(s.occurred_at) AS first_at, max(s.occurred_at) AS last_at,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.postal_code IS NOT NULL) AS latest_postal,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.children IS NOT NULL) AS latest_children,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.landlord IS NOT NULL) AS latest_landlord
              FROM pg_temp.stage s
              GROUP BY 1) a
        LEFT JOIN pg_temp.stage p ON p.seq = (a.latest_postal & 4294967295)::integer
        LEFT JOIN pg_temp.stage c ON c.seq = (a.latest_children & 4294967295)::integer
        LEFT JOIN pg_temp.stage ll ON ll.seq = (a.latest_landlord & 4294967295)::integer
        LEFT JOIN bokvar.household_person hp ON hp.person_id = a.person_id
        LEFT JOIN bokvar.household h ON h.address_key = a.address_key;

        -- Each key's home: a known person's, for all their rows; one found
        -- at an address, for everyone there and their other rows; else a
        -- new home, per address, or per person seen without one (g).
        CREATE TEMP TABLE ingest_home2 ON COMMIT DROP AS
        WITH home0 AS (
                SELECT k.k, k.person_id, k.address_key, coalesce(k.household_id, p.household_id) AS household_id
                FROM ingest_keys k
                LEFT JOIN (SELECT person_id, min(household_id) AS household_id FROM ingest_keys
                           WHERE person_id IS NOT NULL AND household_id IS NOT NULL GROUP BY person_id) p
                       ON p.person_id = k.person_id
        ), address AS (
                SELECT address_key, min(household_id) AS household_id FROM home0
                WHERE address_key IS NOT NULL AND household_id IS NOT NULL GROUP BY address_key
        ), home1 AS (
                SELECT h.k, h.person_id, h.address_key,
                       coalesce(h.household_id, a.household_id, pa.household_id) AS household_id
                FROM home0 h
                LEFT JOIN address a ON a.address_key = h.address_key
                LEFT JOIN (SELECT x.person_id, min(y.household_id) AS household_id
                           FROM home0 x JOIN address y ON y.address_key = x.address_key
                           WHERE x.person_id IS NOT NULL GROUP BY x.person_id) pa ON pa.person_id = h.person_id
        )
        SELECT h.k, h.household_id,
               CASE WHEN h.household_id IS NOT NULL THEN NULL
                    WHEN h.person_id IS NULL THEN h.address_key
                    ELSE coalesce(pa.address_key, 'p:' || h.person_id) END COLLATE "C" AS g
        FROM home1 h
        LEFT JOIN (SELECT person_id, min(address_key) AS address_key FROM home1
                   WHERE household_id IS NULL AND person_id IS NOT NULL GROUP BY person_id) pa
               ON pa.person_id = h.person_id;

        -- Ids for the new homes, as one block of the sequence (the lock above
        -- keeps other writers of households out meanwhile), in the order of
        -- their addresses: ids and address keys then both grow together, and
        -- both unique indexes take the new homes at their right edge.
        CREATE TEMP TABLE ingest_new_home ON COMMIT DROP AS
        SELECT g, row_number() OVER (ORDER BY g) AS n FROM (SELECT DISTINCT g FROM ingest_home2 WHERE g IS NOT NULL) x;
        GET DIAGNOSTICS n_new = ROW_COUNT;
        IF n_new > 0 THEN
                first_id := nextval(pg_get_serial_sequence('bokvar.household', 'id'));
                PERFORM setval(pg_get_serial_sequence('bokvar.household', 'id'), first_id + n_new - 1);
        END IF;

        CREATE TEMP TABLE ingest_home ON COMMIT DROP AS
        SELECT h.k, coalesce(h.household_id, first_id + n.n - 1) AS household_id
        FROM ingest_home2 h LEFT JOIN ingest_new_home n ON n.g = h.g;
        ANALYZE ingest_home;

        -- Per home, what its rows say, merged over its keys: each value the
        -- latest one given.
        CREATE TEMP TABLE ingest_home_facts ON COMMIT DROP AS
        SELECT h.household_id, min(k.first_at) AS first_at, max(k.last_at) AS last_at,
               (array_agg(k.postal_code ORDER BY k.last_at DESC) FILTER (WHERE k.postal_code IS NOT NULL))[1]
                       AS postal_code,
               (array_agg(k.city ORDER BY k.last_at DESC) FILTER (WHERE k.city IS NOT NULL))[1] AS city,
               (array_agg(k.city_key ORDER BY k.last_at DESC) FILTER (WHERE k.city IS NOT NULL))[1] AS city_key,
               (array_agg(k.landlord ORDER BY k.landlord_at DESC) FILTER (WHERE k.landlord IS NOT NULL))[1] AS landlord,
               (array_agg(k.landlord_key ORDER BY k.landlord_at DESC) FILTER (WHERE k.landlord IS NOT NULL))[1]
                       AS landlord_key,
               (array_agg(k.children ORDER BY k.children_at DESC) FILTER (WHERE k.children IS NOT NULL))[1]
                       AS children,
               max(k.children_at) AS children_at
        FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
        GROUP BY h.household_id;

        INSERT INTO bokvar.household (id, address_key, postal_code, city, city_key, landlord, landlord_key, children,
                                      children_at, first_signal_at, last_signal_at)
        SELECT f.household_id, CASE WHEN n.g LIKE 'p:%' THEN NULL ELSE n.g END, f.postal_code, f.city, f.city_key,
               f.landlord, f.landlord_key, f.children, f.children_at, f.first_at, f.last_at
        FROM ingest_new_home n JOIN ingest_home_facts f ON f.household_id = first_id + n.n - 1
        ORDER BY n.n;

        UPDATE bokvar.household h
        SET first_signal_at = least(h.first_signal_at, f.first_at),
            last_signal_at = greatest(h.last_signal_at, f.last_at),
            postal_code = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                               THEN coalesce(f.postal_code, h.postal_code) ELSE h.postal_code END,
            city = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                        THEN coalesce(f.city, h.city) ELSE h.city END,
            city_key = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                            THEN CASE WHEN f.city IS NOT NULL THEN f.city_key ELSE h.city_key END
                            ELSE h.city_key END,
            landlord = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                            THEN coalesce(f.landlord, h.landlord) ELSE h.landlord END,
            landlord_key = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                                THEN CASE WHEN f.landlord IS NOT NULL THEN f.landlord_key ELSE h.landlord_key END
                                ELSE h.landlord_key END,
            children = CASE WHEN f.children IS NOT NULL AND (h.children_at IS NULL OR f.children_at >= h.children_at)
                            THEN f.children ELSE h.children END,
            children_at = CASE WHEN f.children IS NOT NULL AND (h.children_at IS NULL OR f.children_at >= h.children_at)
                               THEN f.children_at ELSE h.children_at END,
            updated_at = now()
        FROM ingest_home_facts f
        WHERE h.id = f.household_id AND (first_id IS NULL OR f.household_id < first_id);

        -- In key order: a B-tree fed in order splits only its right edge.
        INSERT INTO bokvar.household_person (person_id, household_id)
        SELECT k.person_id, min(h.household_id)
        FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
        WHERE k.person_id IS NOT NULL AND NOT k.known_person
        GROUP BY k.person_id
        ORDER BY k.person_id;

        -- A home known by identity number alone learns its address. Only a
        -- home that existed before this call can lack one: new homes are
        -- made per address, or per person seen without any.
        UPDATE bokvar.household hh SET address_key = x.address_key
        FROM (SELECT DISTINCT ON (address_key) household_id, address_key
              FROM (SELECT DISTINCT ON (h.household_id) h.household_id, k.address_key
                    FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                    WHERE k.address_key IS NOT NULL
                      AND (first_id IS NULL OR h.household_id < first_id)
                      AND EXISTS (SELECT 1 FROM bokvar.household o
                                  WHERE o.id = h.household_id AND o.address_key IS NULL)
                    ORDER BY h.household_id, k.last_at DESC) y
              ORDER BY address_key, household_id) x
        WHERE hh.id = x.household_id AND hh.address_key IS NULL
          AND NOT EXISTS (SELECT 1 FROM bokvar.household o WHERE o.address_key = x.address_key);
END;
$$;

-- Drops the working tables of one ingest, for callers that ingest several
-- batches in one transaction (ON COMMIT DROP would keep them until the end).
CREATE OR REPLACE FUNCTION bokvar.ingest_cleanup() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        DROP TABLE IF EXISTS pg_temp.stage, pg_temp.ingest_known, pg_temp.ingest_keys, pg_temp.ingest_home2,
                pg_temp.ingest_new_home, pg_temp.ingest_home, pg_temp.ingest_home_facts;
END;
$$;

-- ---------------------------------------------------------------------
-- Quarantined rows, again. bokvarctl reads the rows a mended mapping may
-- now read (bokvar.quarantine_retry_rows()), maps and stages them in C,
-- fetch by fetch, and ingests each stage here.

-- The quarantined rows of feed p_feed that were read but did not pass (not
-- those the reader could not read: only a new delivery can mend them),
-- with their fetch's CSV header, fetch by fetch. Takes the feed's row lock,
-- as an ingest does.
-- They are personal data, read by the operator's process: the read is
-- logged, as quarantine_raw's is.
CREATE FUNCTION bokvar.quarantine_retry_rows(p_feed text)
RETURNS TABLE (fetch_id bigint, header jsonb, id bigint, line integer, fields jsonb, doc text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
#variable_conflict use_column
DECLARE
        n integer;
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'retry quarantined rows', true);
        PERFORM 1 FROM bokvar.feed f WHERE f.name = p_feed FOR UPDATE;
        RETURN QUERY
        SELECT q.fetch_id, to_jsonb(x.header), q.id, q.line, to_jsonb(q.fields), q.doc::text
        FROM bokvar.quarantine q JOIN bokvar.fetch x ON x.id = q.fetch_id
        WHERE q.feed = p_feed AND (q.fields IS NOT NULL OR q.doc IS NOT NULL)
        ORDER BY q.fetch_id, q.id;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 AND NOT bokvar.session_is_system() THEN
                PERFORM bokvar.access_logged(NULL, NULL, 'quarantine.retry', NULL,
                                             jsonb_build_object('feed', p_feed, 'rows', n));
        END IF;
END;
$$;

-- Ingests the stage of quarantined rows p_ids of fetch p_fetch_id again:
-- they leave the quarantine, those that pass become signals of their
-- original fetch and line, and those that still fail come back with their
-- reason as it is now. The feed's totals move with them. Returns the
-- counts; rows_read must be the rows retried.
CREATE FUNCTION bokvar.quarantine_retry_fetch(p_feed text, p_source bokvar.feed_source, p_fetch_id bigint,
                                              p_ids bigint[], OUT rows_read integer, OUT accepted integer,
                                              OUT updated integer, OUT duplicate integer, OUT quarantined integer)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        gone integer;
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'retry quarantined rows', true);
        PERFORM 1 FROM bokvar.feed f WHERE f.name = p_feed FOR UPDATE;
        DELETE FROM bokvar.quarantine q WHERE q.feed = p_feed AND q.fetch_id = p_fetch_id AND q.id = ANY (p_ids);
        GET DIAGNOSTICS gone = ROW_COUNT;
        SELECT r.rows_read, r.accepted, r.updated, r.duplicate, r.quarantined
        INTO rows_read, accepted, updated, duplicate, quarantined
        FROM bokvar.ingest_rows(p_feed, jsonb_build_object('source', p_source), NULL, p_fetch_id, current_date) r;
        IF rows_read <> gone OR rows_read <> cardinality(p_ids) THEN
                RAISE EXCEPTION 'retried % rows, but % were staged', gone, rows_read USING ERRCODE = 'internal_error';
        END IF;
        UPDATE bokvar.feed
        SET total_accepted = total_accepted + accepted, total_updated = total_updated + updated,
            total_duplicate = total_duplicate + duplicate,
            total_quarantined = total_quarantined - rows_read + quarantined
        WHERE name = p_feed;
        PERFORM bokvar.ingest_cleanup();
END;
$$;

-- The audit log's record of a retry: who retried which feed (the actor of
-- the session, never an argument), and what came of it (p_detail:
-- {retried, accepted, updated, duplicate, still_quarantined}).
CREATE FUNCTION bokvar.quarantine_retried(p_feed text, p_detail jsonb) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (bokvar.actor_require('{operator}', 'retry quarantined rows', true), 'quarantine.retry', p_feed, p_detail);
$$;

-- ---------------------------------------------------------------------
-- The quarantine as operators see it (006): masked in C with each row,
-- by the mapping it was read with. Rows quarantined before are masked
-- here, once, by 006's SQL, which then goes with the other readers.
ALTER TABLE bokvar.quarantine ADD COLUMN masked text;
UPDATE bokvar.quarantine q SET masked = bokvar.quarantine_mask(q.fields, q.doc, x.header, m.mapping, q.raw)
FROM bokvar.fetch x, bokvar.feed_mapping m
WHERE x.id = q.fetch_id AND m.feed = q.feed AND (q.fields IS NOT NULL OR q.doc IS NOT NULL);
UPDATE bokvar.quarantine q SET masked = bokvar.quarantine_mask(q.fields, q.doc, NULL, NULL, q.raw)
WHERE q.masked IS NULL AND (q.fields IS NOT NULL OR q.doc IS NOT NULL);

CREATE OR REPLACE VIEW bokvar.quarantine_masked WITH (security_barrier) AS
SELECT q.id, q.feed, q.fetch_id, q.line, bokvar.mask_numbers(q.reason) AS reason,
       coalesce(q.masked, format('(%s characters that could not be read; bokvarctl quarantine --raw shows them)',
                                 length(q.raw))) AS raw,
       q.created_at, q.seen, q.last_seen_at
FROM bokvar.quarantine q;

-- A person's copy (006), for an identity number that bokvarctl (or the web)
-- read and normalised in C; anything else is no valid number here.
CREATE OR REPLACE FUNCTION bokvar.subject_export(p_person text, p_reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        hh bigint;
        doc jsonb;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'export a person''s data', true);
        PERFORM bokvar.check_text('the reason', p_reason, 500);
        IF p_person IS NULL OR p_person !~ '^([0-9]{12}|[0-9]{11}|[0-9]{9})$' THEN
                RAISE EXCEPTION 'that is not a valid identity number as bokvar keeps them (12, 11 or 9 digits)'
                        USING ERRCODE = 'no_data_found';
        END IF;
        SELECT p.household_id INTO hh FROM bokvar.household_person p WHERE p.person_id = p_person;
        IF hh IS NULL OR NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = hh) THEN
                RAISE EXCEPTION 'bokvar holds nothing you may see about anyone with that identity number'
                        USING ERRCODE = 'no_data_found';
        END IF;
        doc := bokvar.subject_doc(p_person, hh);
        -- Logged after the document is built: its read_by lists the reads before this one.
        PERFORM bokvar.access_logged(hh, NULL, 'subject.export', p_reason);
        RETURN doc;
END;
$$;

-- ---------------------------------------------------------------------
-- One definition of each rule: the SQL readers go.
DROP FUNCTION bokvar.quarantine_retry(text, jsonb);
DROP FUNCTION bokvar.quarantine_retry(text, jsonb, text);
DROP FUNCTION bokvar.quarantine_mask(text[], jsonb, text[], jsonb, text);
DROP FUNCTION bokvar.jsonb_mask(jsonb, text[], text, jsonb);
DROP FUNCTION bokvar.mask_any_identity(text);
DROP FUNCTION bokvar.quarantine_shown_fields();
DROP FUNCTION bokvar.ingest_merge(text, jsonb, text[], bigint, date);
DROP FUNCTION bokvar.stage_check_lengths(jsonb, text[]);
DROP FUNCTION bokvar.field_limits();
DROP FUNCTION bokvar.canonical_fields();
DROP FUNCTION bokvar.mapping_origin(jsonb);
DROP FUNCTION bokvar.csv_line(text[], text);
DROP FUNCTION bokvar.identity_number(text, date, text[]);
DROP FUNCTION bokvar.se_personnummer12_ok(bigint, integer);
DROP FUNCTION bokvar.se_personnummer(text, date);
DROP FUNCTION bokvar.no_fodselsnummer(text);
DROP FUNCTION bokvar.nl_bsn(text);
DROP FUNCTION bokvar.luhn10_ok(bigint);
DROP FUNCTION bokvar.amount_of(text, boolean);
DROP FUNCTION bokvar.parse_amount(text, boolean);
DROP FUNCTION bokvar.parse_count(text);
DROP FUNCTION bokvar.parse_date(text, text);
DROP FUNCTION bokvar.make_date_or_null(integer, integer, integer);
DROP FUNCTION bokvar.address_join(text, text, text);
DROP FUNCTION bokvar.address_key(text, text, text);
DROP FUNCTION bokvar.digits(text);

-- ---------------------------------------------------------------------
-- Privileges (006's model): an operator's retry of quarantined rows is
-- bokvarctl's work now, through the four functions above. 006's
-- access_grant() is redefined for that alone (its operator's list is the
-- one change; bokvarctl migrate runs it after every migration).
CREATE OR REPLACE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        person_functions text := 'bokvar.household_show(bigint, timestamptz, text), bokvar.task_show(bigint, text), '
                'bokvar.subject_export(text, text), bokvar.task_ack(bigint), '
                'bokvar.task_contact(bigint, bokvar.contact_channel, boolean, text), '
                'bokvar.task_close(bigint, bokvar.task_outcome, text)';
        grant_roles text;
BEGIN
        IF p_function = 'web' THEN
                -- The web service may do what any person may: which of it
                -- counts is decided by the person it acts for. Granting one
                -- role to another takes CREATEROLE (or the admin option).
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.act_for(text) TO %I', p_role);
                IF (SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                    JOIN pg_roles u ON u.oid = m.member JOIN bokvar.access_role a ON a.role = g.rolname
                    WHERE u.rolname = p_role AND a.function IN ('caseworker', 'coordinator', 'operator', 'auditor')) = 4 THEN
                        RETURN '{}';
                END IF;
                grant_roles := format('GRANT %I, %I, %I, %I TO %I',
                                      (SELECT role FROM bokvar.access_role WHERE function = 'caseworker'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'coordinator'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'operator'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'auditor'), p_role);
                BEGIN
                        EXECUTE grant_roles;
                EXCEPTION WHEN insufficient_privilege THEN
                        RETURN ARRAY[grant_roles || ';'];
                END;
                RETURN '{}';
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA bokvar TO %I', p_role);
        EXECUTE format('GRANT SELECT ON bokvar.schema_migrations, bokvar.team TO %I', p_role);
        CASE p_function
        WHEN 'caseworker' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist, bokvar.household_list TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', person_functions, p_role);
        WHEN 'coordinator' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist, bokvar.household_list TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s, bokvar.report(integer) TO %I', person_functions, p_role);
        WHEN 'case_system' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.task_ack(bigint), '
                               'bokvar.task_contact(bigint, bokvar.contact_channel, boolean, text), '
                               'bokvar.task_close(bigint, bokvar.task_outcome, text), '
                               'bokvar.case_system_read(bigint) TO %I', p_role);
        WHEN 'operator' THEN
                EXECUTE format('GRANT SELECT ON bokvar.feed, bokvar.fetch, bokvar.quarantine_masked, bokvar.outbox, '
                               'bokvar.channel, bokvar.ruleset, bokvar.rule, bokvar.task_settings, bokvar.retention TO %I',
                               p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.quarantine_raw(text, integer), '
                               'bokvar.quarantine_retry_rows(text), bokvar.stage_create(), '
                               'bokvar.quarantine_retry_fetch(text, bokvar.feed_source, bigint, bigint[]), '
                               'bokvar.quarantine_retried(text, jsonb), bokvar.outbox_retry(bigint), '
                               'bokvar.rules_preview(jsonb, text, text), bokvar.purge(boolean, date) TO %I', p_role);
        WHEN 'auditor' THEN
                EXECUTE format('GRANT SELECT ON bokvar.access_log, bokvar.audit_log TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.access_log_read(bigint, text, timestamptz, boolean, '
                               'integer), bokvar.report(integer) TO %I', p_role);
        END CASE;
        RETURN '{}';
END;
$$;

REVOKE EXECUTE ON FUNCTION bokvar.stage_create(), bokvar.home_key(text, text),
        bokvar.ingest_quarantine(text, bigint), bokvar.quarantine_retry_rows(text),
        bokvar.quarantine_retry_fetch(text, bokvar.feed_source, bigint, bigint[]), bokvar.quarantine_retried(text, jsonb)
        FROM PUBLIC;
