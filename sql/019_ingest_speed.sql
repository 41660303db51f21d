-- SPDX-License-Identifier: GPL-3.0-or-later
-- The matching of a large delivery in fewer passes over its keys (tools/bench
-- ingest).
--
-- match_households() is 017's, with the same rules and the same results,
-- and less work between the keys and the new homes:
--   - the new homes' ids are numbered as the keys' homes are made
--     (ingest_home: a rank in the order of the groups), not in a table of
--     the groups joined back (ingest_new_home goes);
--   - each home's keys are counted there too, in the same sort: a home of
--     one key takes its key's values without the aggregate over the homes
--     that found the others;
--   - the new homes are inserted from ingest_home_facts alone (it carries
--     the group, the new home's address);
--   - each person's home is read from their latest key with an address
--     (ingest_home1, which now carries what the identity number's row said)
--     and their one key without an address, without an aggregate over every
--     key by person: those values are the same for each key of a person.

-- 017's, with the steps above.
CREATE OR REPLACE FUNCTION bokvar.match_households() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        first_id bigint;
        n_new bigint;
        from_earlier_postal boolean;
        from_earlier_landlord boolean;
        from_earlier_children boolean;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);

        -- What the rows say, per identity number and address: the latest
        -- values, each from the latest row that has one ((date, seq) packed
        -- in one bigint makes "latest" a max()); and where the key could go:
        -- the home at its address, the person's home and what of it counts.
        -- The latest row of a key most often has every value: the values
        -- are read from it in one join to the stage, and only the keys
        -- whose latest postal code, children or landlord came in an
        -- earlier row read that row (015 joined the stage three times).
        CREATE TEMP TABLE ingest_keys ON COMMIT DROP AS
        SELECT a.k, a.person_id, a.address_key, coalesce(h.id, al.household_id) AS at_address,
               hp.household_id AS person_home, hp.split_from, hp.person_id IS NOT NULL AS known_person,
               ph.id IS NOT NULL AND ph.address_key IS NULL AS person_home_unaddressed,
               ph.last_signal_at AS person_home_last, ph.landlord AS person_home_landlord,
               ph.landlord_key AS person_home_landlord_key, a.first_at, a.last_at,
               CASE WHEN a.latest_postal = a.latest THEN r.postal_key END AS postal_code,
               CASE WHEN a.latest_postal = a.latest THEN r.city END AS city,
               CASE WHEN a.latest_postal = a.latest THEN r.city_key END AS city_key,
               CASE WHEN a.latest_landlord = a.latest THEN r.landlord END AS landlord,
               CASE WHEN a.latest_landlord = a.latest THEN r.landlord_key END AS landlord_key,
               CASE WHEN a.latest_landlord = a.latest THEN r.occurred_at END AS landlord_at,
               CASE WHEN a.latest_children = a.latest THEN r.children END AS children,
               CASE WHEN a.latest_children = a.latest THEN r.occurred_at END AS children_at,
               nullif(a.latest_postal, a.latest) AS earlier_postal,
               nullif(a.latest_landlord, a.latest) AS earlier_landlord,
               nullif(a.latest_children, a.latest) AS earlier_children
        FROM (SELECT bokvar.home_key(s.person_id, s.address_key) AS k, min(s.person_id) AS person_id,
                     min(s.address_key) AS address_key, min(s.occurred_at) AS first_at, max(s.occurred_at) AS last_at,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq) AS latest,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.postal_code IS NOT NULL) AS latest_postal,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.children IS NOT NULL) AS latest_children,
                     max((s.occurred_at - DATE '2000-01-01')::bigint << 32 | s.seq)
                         FILTER (WHERE s.landlord IS NOT NULL) AS latest_landlord
              FROM pg_temp.stage s
              GROUP BY 1) a
        JOIN pg_temp.stage r ON r.seq = (a.latest & 4294967295)::integer
        LEFT JOIN bokvar.household_person hp ON hp.person_id = a.person_id
        LEFT JOIN bokvar.household ph ON ph.id = hp.household_id
        LEFT JOIN bokvar.household h ON h.address_key = a.address_key
        LEFT JOIN bokvar.household_alias al ON al.address_key = a.address_key;
        SELECT bool_or(earlier_postal IS NOT NULL), bool_or(earlier_landlord IS NOT NULL),
               bool_or(earlier_children IS NOT NULL)
        INTO from_earlier_postal, from_earlier_landlord, from_earlier_children FROM ingest_keys;
        IF from_earlier_postal THEN
                UPDATE ingest_keys k SET postal_code = p.postal_key, city = p.city, city_key = p.city_key
                FROM pg_temp.stage p
                WHERE k.earlier_postal IS NOT NULL AND p.seq = (k.earlier_postal & 4294967295)::integer;
        END IF;
        IF from_earlier_landlord THEN
                UPDATE ingest_keys k SET landlord = l.landlord, landlord_key = l.landlord_key, landlord_at = l.occurred_at
                FROM pg_temp.stage l
                WHERE k.earlier_landlord IS NOT NULL AND l.seq = (k.earlier_landlord & 4294967295)::integer;
        END IF;
        IF from_earlier_children THEN
                UPDATE ingest_keys k SET children = c.children, children_at = c.occurred_at
                FROM pg_temp.stage c
                WHERE k.earlier_children IS NOT NULL AND c.seq = (k.earlier_children & 4294967295)::integer;
        END IF;
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
        SELECT k.k, k.person_id, k.address_key, k.last_at, k.known_person, k.person_home, k.person_home_last,
               CASE WHEN k.at_address IS NULL THEN a.household_id
                    WHEN k.split_from = k.at_address THEN k.person_home
                    ELSE k.at_address END AS household_id
        FROM ingest_keys k LEFT JOIN ingest_address a ON a.address_key = k.address_key
        WHERE k.address_key IS NOT NULL;

        -- Each person's latest row with an address.
        CREATE TEMP TABLE ingest_home1 ON COMMIT DROP AS
        SELECT DISTINCT ON (person_id) k, person_id, address_key, household_id, last_at, known_person, person_home,
               person_home_last
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
        -- their groups (g, their addresses): ids and address keys then both
        -- grow together, and both unique indexes take the new homes at
        -- their right edge. Numbered in one pass over the keys (a rank in
        -- g's order), without 017's table of the groups and its join.
        IF EXISTS (SELECT 1 FROM ingest_home2 WHERE g IS NOT NULL) THEN
                first_id := nextval(pg_get_serial_sequence('bokvar.household', 'id'));
        END IF;
        CREATE TEMP TABLE ingest_home ON COMMIT DROP AS
        SELECT k, coalesce(household_id, first_id - 1 + CASE WHEN g IS NOT NULL THEN dense_rank() OVER (ORDER BY g) END)
                   AS household_id,
               g, count(*) OVER (PARTITION BY g, household_id) AS keys
        FROM ingest_home2;
        SELECT coalesce(max(household_id) - first_id + 1, 0) INTO n_new FROM ingest_home WHERE g IS NOT NULL;
        IF n_new > 0 THEN
                PERFORM setval(pg_get_serial_sequence('bokvar.household', 'id'), first_id + n_new - 1);
        END IF;
        ANALYZE ingest_home;

        -- Per home, what its rows say, merged over its keys: each value the
        -- latest one given. A home of one key (most) takes that key's values
        -- as they are: the ordered aggregates sort each home's rows apart,
        -- seven sorts a home. Each home's keys were counted as the ids were
        -- given (017 counted them here, in an aggregate over the homes).
        CREATE TEMP TABLE ingest_home_facts ON COMMIT DROP AS
        SELECT h.household_id, h.g, k.first_at, k.last_at, k.postal_code, k.city,
               CASE WHEN k.city IS NOT NULL THEN k.city_key END AS city_key, k.landlord,
               CASE WHEN k.landlord IS NOT NULL THEN k.landlord_key END AS landlord_key, k.children, k.children_at
        FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
        WHERE h.keys = 1
        UNION ALL
        SELECT h.household_id, min(h.g), min(k.first_at), max(k.last_at),
               (array_agg(k.postal_code ORDER BY k.last_at DESC) FILTER (WHERE k.postal_code IS NOT NULL))[1],
               (array_agg(k.city ORDER BY k.last_at DESC) FILTER (WHERE k.city IS NOT NULL))[1],
               (array_agg(k.city_key ORDER BY k.last_at DESC) FILTER (WHERE k.city IS NOT NULL))[1],
               (array_agg(k.landlord ORDER BY k.landlord_at DESC) FILTER (WHERE k.landlord IS NOT NULL))[1],
               (array_agg(k.landlord_key ORDER BY k.landlord_at DESC) FILTER (WHERE k.landlord IS NOT NULL))[1],
               (array_agg(k.children ORDER BY k.children_at DESC) FILTER (WHERE k.children IS NOT NULL))[1],
               max(k.children_at)
        FROM ingest_home h JOIN ingest_keys k ON k.k = h.k
        WHERE h.keys > 1
        GROUP BY h.household_id;

        INSERT INTO bokvar.household (id, address_key, postal_code, city, city_key, landlord, landlord_key, children,
                                      children_at, first_signal_at, last_signal_at)
        SELECT f.household_id, CASE WHEN f.g LIKE 'p:%' THEN NULL ELSE f.g END, f.postal_code, f.city, f.city_key,
               f.landlord, f.landlord_key, f.children, f.children_at, f.first_at, f.last_at
        FROM ingest_home_facts f
        WHERE f.household_id >= first_id
        ORDER BY f.household_id;

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
        -- A person's keys all say the same of their known home (the
        -- identity number's row): a person with an address takes it from
        -- their latest key with one (ingest_home1), a person without from
        -- their one key without an address, with no aggregate over the keys.
        -- A person's keys all say the same of their known home (the
        -- identity number's row): a person with an address takes it from
        -- their latest key with one (ingest_home1), and their one key
        -- without an address gives their own home; no aggregate over the
        -- keys (a full join: never a loop over one side for each row of
        -- the other).
        WITH person AS (
                SELECT coalesce(l.person_id, u.person_id) AS person_id,
                       coalesce(l.known_person, u.known_person) AS known,
                       coalesce(l.person_home, u.person_home) AS person_home,
                       coalesce(l.person_home_last, u.person_home_last) AS person_home_last,
                       l.k AS latest_k, l.last_at AS latest_at, u.household_id AS own
                FROM ingest_home1 l
                FULL JOIN (SELECT k.person_id, k.known_person, k.person_home, k.person_home_last, h.household_id
                           FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                           WHERE k.address_key IS NULL AND k.person_id IS NOT NULL) u ON u.person_id = l.person_id
        ), target AS (
                SELECT p.person_id, p.known,
                       coalesce(CASE WHEN p.latest_k IS NOT NULL
                                      AND (p.person_home IS NULL OR p.latest_at >= p.person_home_last)
                                     THEN lh.household_id END,
                                p.person_home, p.own) AS household_id
                FROM person p
                LEFT JOIN ingest_home lh ON lh.k = p.latest_k
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
