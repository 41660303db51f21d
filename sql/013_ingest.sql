-- SPDX-License-Identifier: GPL-3.0-or-later
-- The merge of a large delivery with less work (issue 16's ingest figure).
--
-- ingest_rows(): a delivery of which no record is known to the feed
-- inserts its signals without testing each against the known records:
-- the planner, told the known records are none, tested each staged row
-- against them in a nested loop (1 000 000 rescans of an empty table in
-- tools/bench ingest). The rules are 010's, unchanged.

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

        -- Nothing known (a new feed, or only new records): no test per row.
        IF known_same + known_changed = 0 THEN
                INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, deadline, person_id, name, address,
                                           postal_code, city, apartment, children, amount, months_in_arrears, landlord,
                                           household_id, fetch_id, line)
                SELECT p_feed, s.external_id, src, s.kind, s.occurred_at, s.deadline, s.person_id, s.name, s.address,
                       s.postal_code, s.city, s.apartment, s.children, s.amount, s.months_in_arrears, s.landlord,
                       h.household_id, p_fetch_id, s.line
                FROM pg_temp.stage s
                JOIN ingest_home h ON h.k = bokvar.home_key(s.person_id, s.address_key);
        ELSE
                INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, deadline, person_id, name, address,
                                           postal_code, city, apartment, children, amount, months_in_arrears, landlord,
                                           household_id, fetch_id, line)
                SELECT p_feed, s.external_id, src, s.kind, s.occurred_at, s.deadline, s.person_id, s.name, s.address,
                       s.postal_code, s.city, s.apartment, s.children, s.amount, s.months_in_arrears, s.landlord,
                       h.household_id, p_fetch_id, s.line
                FROM pg_temp.stage s
                JOIN ingest_home h ON h.k = bokvar.home_key(s.person_id, s.address_key)
                WHERE NOT EXISTS (SELECT 1 FROM ingest_known k WHERE k.seq = s.seq);
        END IF;
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
