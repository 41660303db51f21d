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
-- C with the row, by the same rules; a person's identity number is read
-- in C before bokvar.subject_export() is asked for their copy; and a
-- notice registered by hand (007) is read in C by bokvar-web, which hands
-- bokvar.signal_register() the typed row.

-- ---------------------------------------------------------------------
-- The typed stage.

-- The staging table of one fetch, in the caller's transaction. What each
-- column holds is src/ingest/stage.h's promise: a signal's typed values
-- (reason NULL), or a row to quarantine (reason, raw, fields or doc). The
-- normalised words (address_key, postal_key, city_key, landlord_key) are
-- made in C (basic/word.h), the one definition of them.
-- An operator's bokvarctl stages quarantined rows again: the table belongs to
-- the schema's owner, as the definer functions that read it do, and the
-- operator's session may only fill it. A notice registered by hand is
-- staged by bokvar.signal_register() itself.
CREATE FUNCTION bokvar.stage_table() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
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
END;
$$;

-- The staging table for bokvard's fetches and an operator's retry.
CREATE FUNCTION bokvar.stage_create() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'stage quarantined rows again', true);
        PERFORM bokvar.stage_table();
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

-- 009's matching (the address first; the person's home follows their
-- latest signal with an address; merged addresses; split people), over
-- the rows of pg_temp.stage (all signals by now), keyed by
-- bokvar.home_key(), into pg_temp.ingest_home (k, household_id): the words
-- it compares and stores are C's (the postal code's and the landlord's and
-- city's routing words, made as records are read), where 009 made them
-- with norm_word. The rest is 009's.
CREATE OR REPLACE FUNCTION bokvar.match_households() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        first_id bigint;
        n_new bigint;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);

        -- What the rows say, per identity number and address: the latest
        -- values, each from the latest row that has one ((date, seq) packed
        -- in one bigint makes "latest" a max()); and where the key could go:
        -- the home at its address, the person's home and what of it counts.
        CREATE TEMP TABLE ingest_keys ON COMMIT DROP AS
        SELECT a.k, a.person_id, a.address_key, coalesce(h.id, al.household_id) AS at_address,
               hp.household_id AS person_home, hp.split_from, hp.person_id IS NOT NULL AS known_person,
               ph.id IS NOT NULL AND ph.address_key IS NULL AS person_home_unaddressed,
               ph.last_signal_at AS person_home_last, ph.landlord AS person_home_landlord,
               ph.landlord_key AS person_home_landlord_key, a.first_at, a.last_at,
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
        LEFT JOIN bokvar.household ph ON ph.id = hp.household_id
        LEFT JOIN bokvar.household h ON h.address_key = a.address_key
        LEFT JOIN bokvar.household_alias al ON al.address_key = a.address_key;
        ANALYZE ingest_keys;

        -- Addresses without a home yet that a home without an address learns:
        -- not where the report names another landlord than the home's (the
        -- person moved on; their old landlord's signals carried no address),
        -- nor a home a caseworker split off (its address is the one it was
        -- split from: the person reported elsewhere moved).
        CREATE TEMP TABLE ingest_address ON COMMIT DROP AS
        SELECT address_key, min(person_home) AS household_id FROM ingest_keys
        WHERE address_key IS NOT NULL AND at_address IS NULL AND person_home_unaddressed AND split_from IS NULL
          AND (landlord IS NULL OR person_home_landlord IS NULL
               OR landlord_key = person_home_landlord_key)
        GROUP BY address_key;

        -- Rows with an address: their home, or (g) the new home of their address.
        CREATE TEMP TABLE ingest_home0 ON COMMIT DROP AS
        SELECT k.k, k.person_id, k.address_key, k.last_at,
               CASE WHEN k.at_address IS NULL THEN a.household_id
                    WHEN k.split_from = k.at_address THEN k.person_home
                    ELSE k.at_address END AS household_id
        FROM ingest_keys k LEFT JOIN ingest_address a ON a.address_key = k.address_key
        WHERE k.address_key IS NOT NULL;

        -- Each person's latest row with an address.
        CREATE TEMP TABLE ingest_home1 ON COMMIT DROP AS
        SELECT DISTINCT ON (person_id) k, person_id, address_key, household_id, last_at
        FROM ingest_home0 WHERE person_id IS NOT NULL
        ORDER BY person_id, last_at DESC, address_key DESC;

        -- Every row: a home, or the group (g) of the new home it makes with others.
        CREATE TEMP TABLE ingest_home2 ON COMMIT DROP AS
        SELECT h.k, h.household_id, CASE WHEN h.household_id IS NULL THEN h.address_key END COLLATE "C" AS g
        FROM ingest_home0 h
        UNION ALL
        SELECT k.k, CASE WHEN moved THEN l.household_id ELSE k.person_home END,
               CASE WHEN moved THEN CASE WHEN l.household_id IS NULL THEN l.address_key END
                    WHEN k.person_home IS NULL THEN 'p:' || k.person_id END COLLATE "C"
        FROM ingest_keys k
        LEFT JOIN ingest_home1 l ON l.person_id = k.person_id,
        LATERAL (SELECT l.k IS NOT NULL AND (k.person_home IS NULL OR l.last_at >= k.person_home_last)) m(moved)
        WHERE k.address_key IS NULL;

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

        -- Each person's home after this delivery (the rule above): new
        -- people are added in key order (a B-tree fed in order splits only
        -- its right edge); a known person who moved is moved, and a split
        -- no longer holds for them.
        WITH person AS (
                SELECT k.person_id, bool_or(k.known_person) AS known, min(k.person_home) AS person_home,
                       min(k.person_home_last) AS person_home_last
                FROM ingest_keys k WHERE k.person_id IS NOT NULL GROUP BY k.person_id
        ), target AS (
                SELECT p.person_id, p.known,
                       coalesce(CASE WHEN l.k IS NOT NULL AND (p.person_home IS NULL OR l.last_at >= p.person_home_last)
                                     THEN lh.household_id END,
                                p.person_home, own.household_id) AS household_id
                FROM person p
                LEFT JOIN ingest_home1 l ON l.person_id = p.person_id
                LEFT JOIN ingest_home lh ON lh.k = l.k
                LEFT JOIN (SELECT k.person_id, h.household_id FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                           WHERE k.address_key IS NULL) own ON own.person_id = p.person_id
        ), moved AS (
                UPDATE bokvar.household_person hp SET household_id = t.household_id, split_from = NULL
                FROM target t
                WHERE t.known AND hp.person_id = t.person_id AND hp.household_id <> t.household_id
                RETURNING 1
        )
        INSERT INTO bokvar.household_person (person_id, household_id)
        SELECT person_id, household_id FROM target WHERE NOT known ORDER BY person_id;

        -- A home known by identity number alone learns its address: one
        -- without a home of its own yet. Only a home that existed before this
        -- call can lack one: new homes are made per address, or per person
        -- seen without any.
        UPDATE bokvar.household hh SET address_key = x.address_key
        FROM (SELECT DISTINCT ON (address_key) household_id, address_key
              FROM (SELECT DISTINCT ON (h.household_id) h.household_id, k.address_key
                    FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                    WHERE k.address_key IS NOT NULL AND k.at_address IS NULL
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
        DROP TABLE IF EXISTS pg_temp.stage, pg_temp.ingest_known, pg_temp.ingest_keys, pg_temp.ingest_address,
                pg_temp.ingest_home0, pg_temp.ingest_home1, pg_temp.ingest_home2,
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
-- Notices registered by hand (007). Their fields are read and validated
-- in C by the rules of every feed's row, field by field
-- (src/ingest/notice.c, which bokvar-web calls): what comes here is a
-- notice with nothing wrong, as the typed stage's row. 007's
-- signal_problems() and signal_mapping() go with the SQL readers, and
-- signal_register() takes the typed row.

DROP FUNCTION bokvar.signal_register(jsonb, boolean);
DROP FUNCTION bokvar.signal_problems(jsonb, text);
DROP FUNCTION bokvar.signal_mapping();

-- Registers the notice p_signal: an object of the typed stage's columns
-- from kind to landlord_key (src/ingest/notice.h writes it), merged by the
-- feeds' own ingest with source manual and the external id manual-<fetch>,
-- matched, scored and given a task the same way. One row: the new signal,
-- its household, and the household's open task and its team (if any).
-- Only the web service may call it, for a caseworker or coordinator: the
-- notice's rules are in C, and what comes here is stored as it comes.
-- Elevated: matching must see every household, as a feed's ingest does.
CREATE FUNCTION bokvar.signal_register(p_signal jsonb)
RETURNS TABLE (signal_id bigint, household_id bigint, task_id bigint, team text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated"
SET client_min_messages = warning AS $$
#variable_conflict use_column
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'register a notice', false);
        fid bigint;
        sid bigint;
        hid bigint;
        r record;
BEGIN
        IF jsonb_typeof(p_signal) IS DISTINCT FROM 'object'
           OR EXISTS (SELECT 1 FROM jsonb_object_keys(p_signal) k
                      WHERE k NOT IN ('kind', 'occurred_at', 'deadline', 'person_id', 'name', 'address', 'postal_code',
                                      'city', 'apartment', 'children', 'amount', 'months_in_arrears', 'landlord',
                                      'address_key', 'postal_key', 'city_key', 'landlord_key')) THEN
                RAISE EXCEPTION 'a notice is a JSON object of the typed stage''s columns, kind to landlord_key'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;

        INSERT INTO bokvar.feed (name, source) VALUES ('manual', 'manual') ON CONFLICT (name) DO NOTHING;
        PERFORM 1 FROM bokvar.feed f WHERE f.name = 'manual' AND f.source = 'manual' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'feed "manual" is not the feed of notices registered by hand; rename that feed'
                        USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;

        PERFORM bokvar.ingest_cleanup();
        INSERT INTO bokvar.fetch (feed, url, started_at, entered_by) VALUES ('manual', 'manual', now(), who)
        RETURNING id INTO fid;
        PERFORM bokvar.stage_table();
        INSERT INTO stage (seq, line, external_id, kind, occurred_at, deadline, person_id, name, address, postal_code,
                           city, apartment, children, amount, months_in_arrears, landlord, address_key, postal_key,
                           city_key, landlord_key)
        SELECT 1, NULL, 'manual-' || fid, x.*
        FROM jsonb_to_record(p_signal) AS x(kind bokvar.signal_kind, occurred_at date, deadline date, person_id text,
                                            name text, address text, postal_code text, city text, apartment text,
                                            children integer, amount numeric, months_in_arrears integer,
                                            landlord text, address_key text, postal_key text, city_key text,
                                            landlord_key text);
        SELECT * INTO r FROM bokvar.ingest_rows('manual', '{"source": "manual"}', NULL, fid, current_date);
        IF r.accepted <> 1 THEN
                RAISE EXCEPTION 'the notice was not taken (% quarantined)', r.quarantined USING ERRCODE = 'internal_error';
        END IF;
        SELECT s.id, s.household_id INTO sid, hid FROM bokvar.signal s
        WHERE s.feed = 'manual' AND s.external_id = 'manual-' || fid;
        UPDATE bokvar.fetch SET rows_read = 1, accepted = 1, finished_at = clock_timestamp() WHERE id = fid;
        UPDATE bokvar.feed
        SET last_attempt_at = now(), last_success_at = now(), last_rows_read = 1, last_accepted = 1,
            last_updated = 0, last_duplicate = 0, last_quarantined = 0, total_rows_read = total_rows_read + 1,
            total_accepted = total_accepted + 1, total_fetches = total_fetches + 1
        WHERE name = 'manual';
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (who, 'signal.register', sid::text,
                jsonb_build_object('fetch', fid, 'household', hid, 'session_user', session_user));
        PERFORM bokvar.ingest_cleanup();
        RETURN QUERY
        SELECT sid, hid, t.id, t.team
        FROM (SELECT NULL) x LEFT JOIN bokvar.task t ON t.household_id = hid AND t.status = 'open';
END;
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

-- The identity number p_text as bokvarctl read and normalised it in C (the
-- one reader, ingest/identity.c): 009's subject_export and household_split
-- take it so. Anything else is no number bokvar keeps; the error has
-- SQLSTATE p_errcode and never repeats it.
CREATE OR REPLACE FUNCTION bokvar.identity_require(p_text text, p_errcode text) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
        IF p_text IS NULL OR p_text !~ '^([0-9]{12}|[0-9]{11}|[0-9]{9})$' THEN
                RAISE EXCEPTION 'that is not a valid identity number as bokvar keeps them (12, 11 or 9 digits)'
                        USING ERRCODE = p_errcode;
        END IF;
        RETURN p_text;
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
-- Scoring: each signal read once per rescore, by one aggregate whose
-- conditions are the ruleset's own, written into the query as constants;
-- explanations made in the same pass when they are wanted, never by
-- computing everything twice; the writes and the tasks in chunks, with
-- progress reported as they go.

-- The query that scores under ruleset p_version (003's definition of a
-- score, its fingerprint and its explanation): a SELECT of household_id,
-- score, class, next_deadline, fingerprint and explanation (NULL unless
-- p_explain), with $1 the households in scope (read only when p_scope;
-- else every household with a signal in the window) and $2 the day. Every
-- signal in the window is read once, into one group per household with,
-- per rule on signals, the count, largest amount or months and the set of
-- the signals that meet its conditions (a hash; with p_explain also their
-- ids, the input sorted by household and id so that each list comes in
-- order). Whether each rule fires, its points and increments, its part of
-- the fingerprint and of the explanation are expressions of those columns.
-- The rules are read here, once per rescore, and the query is planned
-- with them as constants.
CREATE FUNCTION bokvar.score_sql(p_version integer, p_scope boolean, p_explain boolean) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
        rs bokvar.ruleset;
        r bokvar.rule;
        cond text[];
        on_signals boolean;
        per_signal text[] := '{}';
        aggs text[] := '{}';
        fired text[] := '{}';
        total text[] := '{}';
        score text[] := '{}';
        fingerprint text[] := '{}';
        parts text[] := '{}';
        children boolean := false;
        c text;
        x text;
        n integer := 0;
BEGIN
        SELECT * INTO rs FROM bokvar.ruleset WHERE version = p_version;
        FOR r IN SELECT * FROM bokvar.rule WHERE version = p_version ORDER BY position LOOP
                n := n + 1;
                cond := '{}';
                IF r.kinds IS NOT NULL THEN
                        cond := cond || format('y.kind = ANY (%L::bokvar.signal_kind[])', r.kinds);
                END IF;
                IF r.sources IS NOT NULL THEN
                        cond := cond || format('y.source = ANY (%L::bokvar.feed_source[])', r.sources);
                END IF;
                IF r.within_days IS NOT NULL THEN
                        cond := cond || format('y.occurred_at >= $2 - %s', r.within_days);
                END IF;
                IF r.deadline_within_days IS NOT NULL THEN
                        cond := cond || format('(y.deadline >= $2 AND y.deadline <= $2 + %s)', r.deadline_within_days);
                END IF;
                IF r.deadline_passed IS NOT NULL THEN
                        cond := cond || format('(y.deadline < $2) = %L', r.deadline_passed);
                END IF;
                IF r.amount_at_least IS NOT NULL THEN
                        cond := cond || format('y.amount >= %L::numeric(14, 2)', r.amount_at_least);
                END IF;
                IF r.months_at_least IS NOT NULL THEN
                        cond := cond || format('y.months_in_arrears >= %s', r.months_at_least);
                END IF;
                on_signals := cardinality(cond) > 0 OR r.count_at_least IS NOT NULL;
                IF on_signals THEN
                        -- What the rule's signals add up to.
                        per_signal := per_signal || format('coalesce(%s, false) AS c%s',
                                                           coalesce(nullif(array_to_string(cond, ' AND '), ''), 'true'),
                                                           n);
                        -- The set's hash is NULL when no signal meets them; the
                        -- count is kept where a rule asks for more than one.
                        aggs := aggs || format('bit_xor(y.h) FILTER (WHERE y.c%1$s) AS s%1$s', n);
                        IF r.count_at_least > 1 OR r.per_unit = 'signal' THEN
                                aggs := aggs || format('count(*) FILTER (WHERE y.c%1$s) AS n%1$s', n);
                        END IF;
                        IF r.per_unit = 'amount' THEN
                                aggs := aggs || format('max(y.amount) FILTER (WHERE y.c%1$s) AS a%1$s', n);
                        ELSIF r.per_unit = 'month' THEN
                                aggs := aggs || format('max(y.months_in_arrears) FILTER (WHERE y.c%1$s) AS m%1$s', n);
                        END IF;
                        IF p_explain THEN
                                aggs := aggs || format('array_agg(y.id) FILTER (WHERE y.c%1$s) AS i%1$s', n);
                        END IF;
                        c := CASE WHEN r.count_at_least > 1 OR r.per_unit = 'signal'
                                  THEN format('g.n%s >= %s', n, coalesce(r.count_at_least, 1))
                                  ELSE format('g.s%s IS NOT NULL', n) END;
                ELSE
                        c := 'true';
                END IF;
                IF r.children_at_least IS NOT NULL THEN
                        c := format('%s AND g.children >= %s', c, r.children_at_least);
                        children := true;
                END IF;
                fired := fired || format('coalesce(%s, false) AS f%s', c, n);

                -- The points, and the increments: one per step beyond the
                -- condition's own threshold, together at most max points in
                -- the direction of the per points. In numeric: an amount
                -- may make billions of steps.
                x := CASE r.per_unit
                     WHEN 'amount' THEN format('(g.a%s - %L::numeric(14, 2))', n, coalesce(r.amount_at_least, 0))
                     WHEN 'child' THEN format('(g.children - %s)', coalesce(r.children_at_least, 0))
                     WHEN 'signal' THEN format('(g.n%s - %s)', n, coalesce(r.count_at_least, 1))
                     WHEN 'month' THEN format('(g.m%s - %s)', n, coalesce(r.months_at_least, 0))
                     END;
                children := children OR r.per_unit = 'child';
                total := total || CASE WHEN x IS NULL THEN format('%s AS t%s', r.points, n)
                                  ELSE format('%s + coalesce((sign(%L::integer::numeric) * least(abs(%L::integer), '
                                              'abs(%L::integer) * floor((%s / %L::numeric(14, 2))::numeric)))::integer, '
                                              '0) AS t%s',
                                              r.points, r.per_points, r.per_max, r.per_points, x, r.per_step, n)
                                  END;
                score := score || format('CASE WHEN f%1$s THEN t%1$s ELSE 0 END', n);
                fingerprint := fingerprint || format('CASE WHEN f%1$s THEN hashint8extended(%2$s * 1000003 + t%1$s, '
                                                     '%3$s) ELSE 0 END', n, r.position,
                                                     CASE WHEN on_signals THEN format('coalesce(s%s, 0)', n)
                                                          ELSE '0' END);
                -- The rule's part of the explanation, as JSON text: all of
                -- it is parsed once, as the household's jsonb.
                parts := parts || format('CASE WHEN f%s THEN %L || t%s || %L%s || %L END', n,
                                         format('{"rule": %s, "description": %s, "points": ', to_json(r.name),
                                                coalesce(to_json(r.description)::text, 'null')),
                                         n, ', "signals": [',
                                         CASE WHEN on_signals THEN format(' || array_to_string(i%s, %L)', n, ',')
                                              ELSE '' END,
                                         ']}');
        END LOOP;

        -- Each level is computed once per household (OFFSET 0 keeps the
        -- planner from copying a column's expression into every use).
        RETURN format($q$
SELECT household_id, score,
       CASE WHEN score >= %1$s THEN 'urgent' WHEN score >= %2$s THEN 'outreach' WHEN score >= %3$s THEN 'watch'
            ELSE 'none' END::bokvar.risk_class AS class,
       next_deadline, fingerprint, explanation
FROM (SELECT household_id, next_deadline, (%4$s)::integer AS score, (%5$s)::bigint AS fingerprint,
             %6$s AS explanation
      FROM (SELECT *, %7$s
            FROM (SELECT %8$s, g.*
                  FROM (SELECT y.household_id, min(y.deadline) FILTER (WHERE y.deadline >= $2) AS next_deadline %9$s
                        FROM (SELECT y.household_id, y.id, y.deadline, y.amount, y.months_in_arrears,
                                     hashint8extended(y.id, 0) AS h %10$s
                              FROM %11$s
                              WHERE y.occurred_at >= $2 - %12$s
                              ORDER BY %13$s) y
                        GROUP BY y.household_id) g
                  %14$s OFFSET 0) g OFFSET 0) g OFFSET 0) g
$q$,
                rs.urgent, rs.outreach, rs.watch,
                coalesce(nullif(array_to_string(score, ' + '), ''), '0'),
                coalesce(nullif(array_to_string(fingerprint, ' # '), ''), '0'),
                CASE WHEN p_explain THEN format('(%L || concat_ws(%L, %s) || %L)::jsonb', '[', ',',
                                                coalesce(nullif(array_to_string(parts, ', '), ''), 'NULL'), ']')
                     ELSE 'NULL::jsonb' END,
                coalesce(nullif(array_to_string(fired || total, ', '), ''), 'true AS nothing'),
                CASE WHEN children THEN 'h.children' ELSE 'NULL::integer AS children' END,
                coalesce(', ' || nullif(array_to_string(aggs, ', '), ''), ''),
                coalesce(', ' || nullif(array_to_string(per_signal, ', '), ''), ''),
                CASE WHEN p_scope THEN '(SELECT DISTINCT u FROM unnest($1) u) x(id) JOIN bokvar.signal y '
                                       'ON y.household_id = x.id'
                     ELSE 'bokvar.signal y' END,
                rs.window_days,
                CASE WHEN p_explain THEN 'y.household_id, y.id' ELSE 'y.household_id' END,
                CASE WHEN children THEN 'LEFT JOIN bokvar.household h ON h.id = g.household_id' ELSE '' END);
END;
$$;

-- The score of every household in scope (p_households NULL: every
-- household with a signal in the window) under ruleset p_version, as of
-- p_today: bokvar.score_sql()'s query. Without p_explain the explanation
-- is NULL and only its fingerprint is computed. The sort of the signals
-- takes a few hundred megabytes for a million households; the households
-- are merged with it in order (a hash of the groups costs more).
CREATE OR REPLACE FUNCTION bokvar.score_compute(p_version integer, p_households bigint[], p_today date,
                                                p_explain boolean DEFAULT true)
RETURNS TABLE (household_id bigint, score integer, class bokvar.risk_class, next_deadline date,
               fingerprint bigint, explanation jsonb)
LANGUAGE plpgsql SET work_mem = '512MB' SET random_page_cost = 1.1 SET max_parallel_workers_per_gather = 0
SET enable_hashjoin = off AS $$
BEGIN
        RETURN QUERY EXECUTE bokvar.score_sql(p_version, p_households IS NOT NULL, p_explain)
                USING p_households, p_today;
END;
$$;

-- Households scored per statement when the writes go in chunks, so that a
-- first scoring of a million homes reports its progress every few seconds.
CREATE FUNCTION bokvar.score_chunk() RETURNS integer
LANGUAGE sql IMMUTABLE AS $$ SELECT 50000 $$;

-- Scores the households in scope (NULL: all) under the active ruleset and
-- writes what changed: the current score, and a history row when what
-- explains the class changed (a nearer deadline alone does not); tasks
-- follow (scores_changed). The explanations come with the scores where
-- nearly all change (an ingest's households, a new ruleset, the first
-- scoring); for a daily rescore, where few do, the scores come in short
-- first and only those that changed are explained. Households in scope
-- whose signals all left the window drop to score 0, class none. The
-- scores are computed and compared with the stored ones in one statement;
-- the writes go in chunks of bokvar.score_chunk() households in the order
-- of their ids, and where there is more than one chunk each is followed
-- by a notice "bokvar progress: D of N households" (bokvard shows it, with
-- the time left). Returns how many scores changed.
CREATE OR REPLACE FUNCTION bokvar.score_apply(p_households bigint[], p_today date DEFAULT current_date) RETURNS integer
LANGUAGE plpgsql SET work_mem = '512MB' SET random_page_cost = 1.1 SET max_parallel_workers_per_gather = 0
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        v integer;
        changed integer;
        explained boolean;
        chunk integer := bokvar.score_chunk();
        all_ids bigint[];
        ids bigint[];
        hashjoin text := current_setting('enable_hashjoin');
BEGIN
        SELECT a.version INTO v FROM bokvar.ruleset_active a;
        IF v IS NULL THEN
                RETURN 0;
        END IF;
        explained := p_households IS NOT NULL OR NOT EXISTS (SELECT 1 FROM bokvar.score s WHERE s.ruleset_version = v);

        -- What changed; households scored before but without signals in the
        -- window now drop to none. The new scores come sorted by household,
        -- and so do the stored ones (by their key): a merge, not a hash of
        -- a million explanations.
        PERFORM set_config('enable_hashjoin', 'off', true);
        EXECUTE format($q$
                CREATE TEMP TABLE score_changed ON COMMIT DROP AS
                SELECT coalesce(n.household_id, s.household_id) AS household_id, coalesce(n.score, 0) AS score,
                       coalesce(n.class, 'none') AS class, n.next_deadline, coalesce(n.fingerprint, 0) AS fingerprint,
                       s.household_id IS NULL
                       OR (s.score, s.class, s.ruleset_version, s.fingerprint)
                          IS DISTINCT FROM (coalesce(n.score, 0), coalesce(n.class, 'none'), %1$s,
                                            coalesce(n.fingerprint, 0)) AS explained_differently,
                       n.explanation
                FROM (%2$s) n
                FULL JOIN (%3$s) s ON s.household_id = n.household_id
                WHERE s.household_id IS NULL
                   OR (s.score, s.class, s.ruleset_version, s.next_deadline, s.fingerprint)
                      IS DISTINCT FROM (coalesce(n.score, 0), coalesce(n.class, 'none'), %1$s, n.next_deadline,
                                        coalesce(n.fingerprint, 0))
                $q$, v, bokvar.score_sql(v, p_households IS NOT NULL, explained),
                CASE WHEN p_households IS NULL THEN 'SELECT * FROM bokvar.score'
                     ELSE 'SELECT x.* FROM (SELECT DISTINCT u FROM unnest($1) u) h(id) '
                          'JOIN bokvar.score x ON x.household_id = h.id' END)
                USING p_households, p_today;
        GET DIAGNOSTICS changed = ROW_COUNT;
        PERFORM set_config('enable_hashjoin', hashjoin, true);
        IF changed = 0 THEN
                DROP TABLE score_changed;
                RETURN 0;
        END IF;
        ANALYZE score_changed;

        -- Explanations for the scores whose explanation changed, where the
        -- first pass left them out.
        IF NOT explained THEN
                UPDATE score_changed c SET explanation = e.explanation
                FROM bokvar.score_compute(v, ARRAY(SELECT x.household_id FROM score_changed x
                                                   WHERE x.explained_differently), p_today, true) e
                WHERE e.household_id = c.household_id;
        END IF;

        all_ids := ARRAY(SELECT c.household_id FROM score_changed c ORDER BY 1);
        IF changed > chunk THEN
                CREATE INDEX ON score_changed (household_id);
                RAISE NOTICE 'bokvar progress: 0 of % households', changed;
        END IF;
        FOR lo IN 1..changed BY chunk LOOP
                ids := all_ids[lo:lo + chunk - 1];
                INSERT INTO bokvar.score_history (household_id, scored_at, as_of, score, class, ruleset_version,
                                                  explanation)
                SELECT c.household_id, clock_timestamp(), p_today, c.score, c.class, v, coalesce(c.explanation, '[]')
                FROM score_changed c
                WHERE c.household_id BETWEEN ids[1] AND ids[cardinality(ids)] AND c.explained_differently;

                INSERT INTO bokvar.score AS s (household_id, score, class, ruleset_version, next_deadline,
                                               explanation, fingerprint, as_of, scored_at)
                SELECT c.household_id, c.score, c.class, v, c.next_deadline, coalesce(c.explanation, '[]'),
                       c.fingerprint, p_today, clock_timestamp()
                FROM score_changed c
                WHERE c.household_id BETWEEN ids[1] AND ids[cardinality(ids)]
                ON CONFLICT (household_id) DO UPDATE
                SET score = excluded.score, class = excluded.class, ruleset_version = excluded.ruleset_version,
                    next_deadline = excluded.next_deadline, as_of = excluded.as_of, fingerprint = excluded.fingerprint,
                    explanation = CASE WHEN (s.score, s.class, s.ruleset_version, s.fingerprint)
                                            IS DISTINCT FROM (excluded.score, excluded.class, excluded.ruleset_version,
                                                              excluded.fingerprint)
                                       THEN excluded.explanation ELSE s.explanation END,
                    scored_at = CASE WHEN (s.score, s.class, s.ruleset_version, s.fingerprint)
                                          IS DISTINCT FROM (excluded.score, excluded.class, excluded.ruleset_version,
                                                            excluded.fingerprint)
                                     THEN excluded.scored_at ELSE s.scored_at END;

                PERFORM bokvar.scores_changed(ids, p_today);
                IF changed > chunk THEN
                        RAISE NOTICE 'bokvar progress: % of % households', least(lo + chunk - 1, changed), changed;
                END IF;
        END LOOP;
        DROP TABLE score_changed;
        RETURN changed;
END;
$$;


-- ---------------------------------------------------------------------
-- Tasks: routing by normalised words (C makes them: the teams' from the
-- configuration, the households' from their signals), opening, assigning
-- and their events, each one set-based statement.

ALTER TABLE bokvar.team ADD COLUMN postal_keys text[] NOT NULL DEFAULT '{}',
        ADD COLUMN city_keys text[] NOT NULL DEFAULT '{}', ADD COLUMN landlord_keys text[] NOT NULL DEFAULT '{}',
        ADD COLUMN postal_patterns text[] NOT NULL DEFAULT '{}';

-- A team's postal code prefixes as LIKE patterns ('602' is '602%'), their
-- own % and _ escaped: prefixes of the words, nothing more.
CREATE FUNCTION bokvar.prefix_patterns(p_keys text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT coalesce(array_agg(replace(replace(replace(k, '\', '\\'), '%', '\%'), '_', '\_') || '%' ORDER BY n), '{}')
        FROM unnest(p_keys) WITH ORDINALITY u(k, n)
$$;

-- The teams stored before: their words as 004's route() made them, once.
UPDATE bokvar.team t
SET postal_keys = ARRAY(SELECT k FROM (SELECT bokvar.norm_word(p) AS k FROM unnest(t.postal_codes) p) x WHERE k IS NOT NULL),
    city_keys = ARRAY(SELECT k FROM (SELECT bokvar.norm_word(c) AS k FROM unnest(t.cities) c) x WHERE k IS NOT NULL),
    landlord_keys = ARRAY(SELECT k FROM (SELECT bokvar.norm_word(l) AS k FROM unnest(t.landlords) l) x
                          WHERE k IS NOT NULL);
UPDATE bokvar.team SET postal_patterns = bokvar.prefix_patterns(postal_keys);

-- 004's teams, channels and task settings (under its name of 006), with
-- each team's routing words as bokvard sends them ("postal_keys",
-- "city_keys", "landlord_keys": the postal codes, cities and landlords as
-- normalised words).
CREATE OR REPLACE FUNCTION bokvar.config_sync_outreach(p_config jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_advisory_xact_lock(7243155004);
        DELETE FROM bokvar.team WHERE name NOT IN (SELECT t ->> 'name' FROM jsonb_array_elements(p_config -> 'teams') t);
        -- The default may move to a team listed earlier: clear it first.
        UPDATE bokvar.team SET is_default = false WHERE is_default;
        INSERT INTO bokvar.team AS x (name, position, postal_codes, cities, landlords, is_default, email, caseworkers,
                                      postal_keys, city_keys, landlord_keys, postal_patterns)
        SELECT t ->> 'name', n, coalesce(bokvar.jsonb_text_array(t -> 'postal_codes'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'cities'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'landlords'), '{}'),
               coalesce((t ->> 'default')::boolean, false), t ->> 'email',
               coalesce(bokvar.jsonb_text_array(t -> 'caseworkers'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'postal_keys'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'city_keys'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'landlord_keys'), '{}'),
               bokvar.prefix_patterns(coalesce(bokvar.jsonb_text_array(t -> 'postal_keys'), '{}'))
        FROM jsonb_array_elements(p_config -> 'teams') WITH ORDINALITY a(t, n)
        ON CONFLICT (name) DO UPDATE
        SET position = excluded.position, postal_codes = excluded.postal_codes, cities = excluded.cities,
            landlords = excluded.landlords, is_default = excluded.is_default, email = excluded.email,
            caseworkers = excluded.caseworkers, postal_keys = excluded.postal_keys, city_keys = excluded.city_keys,
            landlord_keys = excluded.landlord_keys, postal_patterns = excluded.postal_patterns;
        -- Events waiting for a channel that is gone cannot be sent: dead
        -- letters, which `bokvarctl outbox retry` sends if it comes back.
        UPDATE bokvar.outbox SET status = 'dead', claimed_until = NULL,
                                 last_error = 'the channel was removed from the configuration'
        WHERE status = 'pending'
          AND channel NOT IN (SELECT c ->> 'name' FROM jsonb_array_elements(p_config -> 'channels') c);
        DELETE FROM bokvar.channel
        WHERE name NOT IN (SELECT c ->> 'name' FROM jsonb_array_elements(p_config -> 'channels') c);
        INSERT INTO bokvar.channel (name, type)
        SELECT c ->> 'name', c ->> 'type' FROM jsonb_array_elements(p_config -> 'channels') c
        ON CONFLICT (name) DO UPDATE SET type = excluded.type;
        UPDATE bokvar.task_settings
        SET lead_days = coalesce((p_config #>> '{tasks,lead_days}')::integer, lead_days),
            service_urgent_days = coalesce((p_config #>> '{tasks,service_urgent_days}')::integer, service_urgent_days),
            service_outreach_days = coalesce((p_config #>> '{tasks,service_outreach_days}')::integer,
                                             service_outreach_days),
            max_attempts = coalesce((p_config #>> '{tasks,max_attempts}')::integer, max_attempts);
END;
$$;

-- The team of each household listed: the first team (in configured order)
-- whose postal code prefixes, cities or landlords match it, else the
-- default team (004's route(), for many households at once, on words).
CREATE FUNCTION bokvar.route_all(p_households bigint[])
RETURNS TABLE (household_id bigint, team text)
LANGUAGE sql STABLE AS $$
        SELECT DISTINCT ON (y.id) y.id, y.name
        FROM (SELECT h.id, t.name, t.position, t.is_default,
                     h.postal_code LIKE ANY (t.postal_patterns) OR h.city_key = ANY (t.city_keys)
                     OR h.landlord_key = ANY (t.landlord_keys) AS matched
              FROM (SELECT DISTINCT u FROM unnest(p_households) u) x(id)
              JOIN bokvar.household h ON h.id = x.id
              CROSS JOIN bokvar.team t) y
        WHERE y.matched OR y.is_default
        ORDER BY y.id, y.matched IS NOT TRUE, y.position
$$;

-- Records events for tasks (set-based): a task_event row each and, for the
-- events that are sent, an outbox row per event and channel with its
-- payload (009's task_payload(), inline: children null when unknown), in
-- the caller's transaction, in
-- one statement; then wakes the dispatchers (at commit). Returns the
-- number of events.
CREATE OR REPLACE FUNCTION bokvar.task_events(p_task_ids bigint[], p_kind text, p_by text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        send boolean := bokvar.event_is_sent(p_kind) AND EXISTS (SELECT 1 FROM bokvar.channel);
        n integer;
        sent integer;
BEGIN
        WITH e AS (
                INSERT INTO bokvar.task_event (task_id, event_id, kind, at, by, class, detail)
                SELECT t.id, 'evt_' || replace(gen_random_uuid()::text, '-', ''), p_kind, clock_timestamp(), p_by,
                       t.class, p_detail
                FROM bokvar.task t WHERE t.id = ANY (p_task_ids)
                RETURNING task_id, event_id, at
        ), o AS (
                INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, recipient, payload)
                SELECT e.event_id, t.id, p_kind, c.name, CASE WHEN c.type = 'smtp' THEN tm.email END,
                       jsonb_build_object(
                               'type', 'task.' || p_kind,
                               'timestamp', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                               'event_id', e.event_id,
                               'data', jsonb_build_object(
                                       'task_id', t.id, 'status', t.status, 'team', t.team, 'assignee', t.assignee,
                                       'class', t.class, 'score', t.score, 'due', t.due, 'deadline', t.deadline,
                                       'children', h.children,
                                       'rules', coalesce((SELECT jsonb_agg(x -> 'rule')
                                                          FROM jsonb_array_elements(s.explanation) x), '[]')))
                FROM e
                JOIN bokvar.task t ON t.id = e.task_id
                JOIN bokvar.household h ON h.id = t.household_id
                LEFT JOIN bokvar.score s ON s.household_id = t.household_id
                LEFT JOIN bokvar.team tm ON tm.name = t.team
                CROSS JOIN bokvar.channel c
                WHERE send AND (c.type <> 'smtp' OR tm.email IS NOT NULL)
                RETURNING 1
        )
        SELECT (SELECT count(*) FROM e), (SELECT count(*) FROM o) INTO n, sent;
        IF sent > 0 THEN
                PERFORM pg_notify('bokvar_outbox', '');
        END IF;
        RETURN n;
END;
$$;

-- Brings the open tasks of the households in scope in line with their
-- scores (004's rules): a household reaching outreach or urgent without an
-- open task gets one, routed and assigned in one statement; a rising class
-- escalates the open task, a falling one is noted on it. Only a person
-- closes a task. A new task takes its household's children (NULL:
-- unknown) and the date up to which an eviction is scheduled (009's
-- eviction_until(): the latest pending) for the worklist's order in the
-- same statement: 007's row trigger (redefined by 009), which looked each
-- one up, goes (this is the one place tasks are opened).
CREATE OR REPLACE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date) RETURNS void
LANGUAGE plpgsql SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        ids bigint[];
BEGIN
        CREATE TEMP TABLE task_scope ON COMMIT DROP AS
        SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
               t.top_class, h.children
        FROM (SELECT DISTINCT u FROM unnest(p_households) u) x(id)
        JOIN bokvar.score s ON s.household_id = x.id
        JOIN bokvar.household h ON h.id = x.id
        LEFT JOIN bokvar.task t ON t.household_id = x.id AND t.status = 'open';
        ANALYZE task_scope;

        -- New tasks, routed and assigned to whoever in the team has the
        -- fewest open tasks, counting the ones this call hands out (each
        -- caseworker's load n, n+1, n+2, ... are slots; the team's new
        -- tasks take its lowest slots in turn). A concurrent creator of the
        -- same household's task makes this one skip it (the unique index
        -- decides).
        WITH new AS (
                SELECT sc.household_id, sc.class, sc.score, sc.next_deadline, sc.children, r.team
                FROM task_scope sc
                LEFT JOIN bokvar.route_all(ARRAY(SELECT household_id FROM task_scope
                                                 WHERE task_id IS NULL AND class IN ('outreach', 'urgent'))) r
                       ON r.household_id = sc.household_id
                WHERE sc.task_id IS NULL AND sc.class IN ('outreach', 'urgent')
        ), numbered AS (
                SELECT n.*, row_number() OVER (PARTITION BY n.team ORDER BY n.class DESC, n.household_id) AS k
                FROM new n
        ), load AS (
                SELECT o.assignee, count(*) AS n FROM bokvar.task o WHERE o.status = 'open' GROUP BY o.assignee
        ), slots AS (
                SELECT tm.name AS team, cw,
                       row_number() OVER (PARTITION BY tm.name ORDER BY coalesce(l.n, 0) + j, cw) AS k
                FROM bokvar.team tm
                CROSS JOIN LATERAL unnest(tm.caseworkers) cw
                LEFT JOIN load l ON l.assignee = cw
                CROSS JOIN LATERAL generate_series(0, (SELECT count(*) FROM new WHERE new.team = tm.name) - 1) j
        ), created AS (
                INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, assignee, deadline,
                                         legal_deadline, due, household_children, eviction_until)
                SELECT n.household_id, n.class, n.class, n.class, n.score, coalesce(n.team, 'unrouted'), sl.cw,
                       n.next_deadline, n.next_deadline,
                       greatest(p_today, least(n.next_deadline - st.lead_days,
                                               p_today + CASE WHEN n.class = 'urgent' THEN st.service_urgent_days
                                                              ELSE st.service_outreach_days END)),
                       n.children, e.until
                FROM numbered n
                CROSS JOIN bokvar.task_settings st
                LEFT JOIN slots sl ON sl.team = n.team AND sl.k = n.k
                LEFT JOIN (SELECT p.household_id, max(p.eviction_date) AS until FROM bokvar.eviction_pending p
                           WHERE p.household_id IN (SELECT household_id FROM new)
                           GROUP BY p.household_id) e ON e.household_id = n.household_id
                ON CONFLICT (household_id) WHERE status = 'open' DO NOTHING
                RETURNING id
        )
        SELECT array_agg(id) INTO ids FROM created;
        IF ids IS NOT NULL THEN
                PERFORM bokvar.task_events(ids, 'created', 'bokvar');
        END IF;

        -- The households had no open task (the first scoring, mostly): no
        -- task to follow.
        IF NOT EXISTS (SELECT 1 FROM task_scope sc WHERE sc.task_id IS NOT NULL) THEN
                DROP TABLE task_scope;
                RETURN;
        END IF;

        -- A higher class than the task has seen: escalate, due sooner. The
        -- conditions read the task as it is now: a person may have closed
        -- it since task_scope was read.
        WITH up AS (
                UPDATE bokvar.task t
                SET class = sc.class, top_class = sc.class, score = sc.score, deadline = sc.next_deadline,
                    legal_deadline = least(t.legal_deadline, sc.next_deadline),
                    due = least(t.due, bokvar.task_due(sc.class, sc.next_deadline, p_today))
                FROM task_scope sc
                WHERE t.id = sc.task_id AND t.status = 'open' AND sc.class > t.top_class
                RETURNING t.id
        )
        SELECT array_agg(id) INTO ids FROM up;
        IF ids IS NOT NULL THEN
                PERFORM bokvar.task_events(ids, 'escalated', 'bokvar');
        END IF;

        -- A lower class: noted on the task, which stays open.
        WITH down AS (
                UPDATE bokvar.task t
                SET class = sc.class, score = sc.score, deadline = sc.next_deadline,
                    legal_deadline = least(t.legal_deadline, sc.next_deadline)
                FROM task_scope sc
                WHERE t.id = sc.task_id AND t.status = 'open' AND sc.class < t.class
                RETURNING t.id
        )
        SELECT array_agg(id) INTO ids FROM down;
        IF ids IS NOT NULL THEN
                PERFORM bokvar.task_events(ids, 'risk_lowered', 'bokvar');
        END IF;

        -- Anything else (back up but no higher than before, a new score or
        -- deadline in the same class): the task follows quietly, due no
        -- later than a nearer deadline asks.
        UPDATE bokvar.task t
        SET class = sc.class, score = sc.score, deadline = sc.next_deadline,
            legal_deadline = least(t.legal_deadline, sc.next_deadline),
            due = least(t.due, bokvar.task_due(sc.class, sc.next_deadline, p_today))
        FROM task_scope sc
        WHERE t.id = sc.task_id AND t.status = 'open' AND sc.class <= t.top_class
          AND (t.class, t.score, t.deadline) IS DISTINCT FROM (sc.class, sc.score, sc.next_deadline);

        DROP TABLE task_scope;
END;
$$;

DROP TRIGGER task_children ON bokvar.task;
DROP FUNCTION bokvar.task_children();
DROP FUNCTION bokvar.route(text, text, text);
DROP FUNCTION bokvar.task_payload(bokvar.task, text, text, timestamptz);
DROP FUNCTION bokvar.norm_word(text);

-- ---------------------------------------------------------------------
-- 009's split, again: the new home's postal code, city and landlord, with
-- the words routing compares, are its home's (the signals there are at its
-- address), each where the person's signals name one; 009 normalised the
-- latest signal's postal code in SQL (norm_word, which is C's now: the
-- ingest's words are made as records are read). The rest is 009's.
CREATE OR REPLACE FUNCTION bokvar.household_split_as(p_household bigint, p_person text, p_by text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        c bigint;
        n integer;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);
        PERFORM 1 FROM bokvar.household WHERE id = p_household FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no household %', p_household USING ERRCODE = 'no_data_found';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM bokvar.signal WHERE household_id = p_household AND person_id = p_person) THEN
                RAISE EXCEPTION 'household % has no signal about anyone with that identity number', p_household
                        USING ERRCODE = 'no_data_found';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM bokvar.signal WHERE household_id = p_household
                                                     AND person_id IS DISTINCT FROM p_person) THEN
                RAISE EXCEPTION 'every signal of household % is about that person: there is nothing to split it from',
                        p_household USING ERRCODE = 'invalid_parameter_value';
        END IF;

        INSERT INTO bokvar.household (postal_code, city, city_key, landlord, landlord_key, first_signal_at,
                                      last_signal_at)
        SELECT CASE WHEN bool_or(s.postal_code IS NOT NULL) THEN h.postal_code END,
               CASE WHEN bool_or(s.city IS NOT NULL) THEN h.city END,
               CASE WHEN bool_or(s.city IS NOT NULL) THEN h.city_key END,
               CASE WHEN bool_or(s.landlord IS NOT NULL) THEN h.landlord END,
               CASE WHEN bool_or(s.landlord IS NOT NULL) THEN h.landlord_key END,
               min(s.occurred_at), max(s.occurred_at)
        FROM bokvar.signal s JOIN bokvar.household h ON h.id = s.household_id
        WHERE s.household_id = p_household AND s.person_id = p_person
        GROUP BY h.id
        RETURNING id INTO c;
        UPDATE bokvar.signal_version v SET household_id = c
        FROM bokvar.signal s
        WHERE s.household_id = p_household AND s.person_id = p_person AND v.feed = s.feed
          AND v.external_id = s.external_id;
        UPDATE bokvar.signal SET household_id = c WHERE household_id = p_household AND person_id = p_person;
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO bokvar.household_person AS hp (person_id, household_id, split_from) VALUES (p_person, c, p_household)
        ON CONFLICT (person_id) DO UPDATE SET household_id = excluded.household_id, split_from = excluded.split_from;
        UPDATE bokvar.household h SET first_signal_at = x.first_at, last_signal_at = x.last_at, updated_at = now()
        FROM (SELECT min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM bokvar.signal
              WHERE household_id = p_household) x
        WHERE h.id = p_household;

        PERFORM bokvar.household_children_settle(ARRAY[p_household, c]);
        PERFORM bokvar.score_apply(ARRAY[p_household, c], current_date);
        PERFORM bokvar.tasks_follow_households(ARRAY[p_household, c]);
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'household.split', p_household::text,
                jsonb_build_object('new_household', c, 'signals', n, 'session_user', session_user));
        RETURN bokvar.household_now(p_household)
               || jsonb_build_object('new', bokvar.household_now(c), 'signals', n);
END;
$$;

-- ---------------------------------------------------------------------
-- Privileges (006's model): an operator's retry of quarantined rows is
-- bokvarctl's work now, through the four functions above. 006's
-- access_grant() (named access_grant_people() since 007, which wraps it)
-- is redefined for that alone: its operator's list is the one change;
-- bokvarctl migrate runs it after every migration.
CREATE OR REPLACE FUNCTION bokvar.access_grant_people(p_function text, p_role name) RETURNS text[]
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

-- 007's access_grant() (access_grant_web since 008, which wraps it), which
-- adds the web's functions, again: a notice registered by hand comes
-- through the web service alone, which reads it by the ingest's rules
-- first (the one change).
CREATE OR REPLACE FUNCTION bokvar.access_grant_web(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        notes text[] := bokvar.access_grant_people(p_function, p_role);
BEGIN
        IF p_function IN ('caseworker', 'coordinator') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.task_follow_up(bigint, date, text), '
                               'bokvar.task_reassign(bigint, text, text), bokvar.task_hand_over(bigint, text, text), '
                               'bokvar.household_children_correct(bigint, integer, text) TO %I', p_role);
        ELSIF p_function = 'web' THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.web_actor(text), bokvar.web_teams(), '
                               'bokvar.web_worklist(text, text, bokvar.risk_class, integer, integer), '
                               'bokvar.web_task_household(bigint), bokvar.web_household_open(bigint), '
                               'bokvar.web_household_persons(bigint), bokvar.web_household_signals(bigint), '
                               'bokvar.web_household_score(bigint), bokvar.web_household_history(bigint), '
                               'bokvar.web_household_tasks(bigint), bokvar.web_household_events(bigint), '
                               'bokvar.web_household_corrections(bigint), bokvar.signal_register(jsonb) TO %I',
                               p_role);
        END IF;
        RETURN notes;
END;
$$;

REVOKE EXECUTE ON FUNCTION bokvar.stage_create(), bokvar.stage_table(), bokvar.signal_register(jsonb),
        bokvar.home_key(text, text),
        bokvar.ingest_quarantine(text, bigint), bokvar.quarantine_retry_rows(text),
        bokvar.quarantine_retry_fetch(text, bokvar.feed_source, bigint, bigint[]), bokvar.quarantine_retried(text, jsonb),
        bokvar.score_chunk(), bokvar.score_sql(integer, boolean, boolean), bokvar.prefix_patterns(text[]), bokvar.route_all(bigint[])
        FROM PUBLIC;
