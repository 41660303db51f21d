-- SPDX-License-Identifier: GPL-3.0-or-later
-- Notices as they really arrive: regional feeds, deadlines by
-- jurisdiction with Norway's law, and the decay of a notice whose window
-- closed.
--
-- What a feed's rows are is read in C (src/ingest/): the deadlines by
-- jurisdiction (src/ingest/deadline.c), a regional feed's area
-- (src/ingest/region.c) and the new canonical fields notified_at and
-- municipality_code, which C reads and the database never stores. Here:
-- the words those rules need, the count of rows a regional feed left out,
-- and after_deadline in the rules.

-- ---------------------------------------------------------------------
-- The vocabulary (sql/vocabulary.py gives C the same words).

-- NAV, Norway's labour and welfare administration, warns the municipality
-- of a household at risk of losing its home: neither a landlord, an
-- enforcement agency nor a utility.
ALTER TYPE bokvar.feed_source ADD VALUE 'welfare';
-- The landlord's warning before enforcement (tvangsfullbyrdelsesloven
-- § 4-18): pay within 14 days or the landlord may ask the namsmann for
-- forced eviction. No Swedish kind is this: a termination_notice ends the
-- lease with a right to regain it by paying, an eviction_application is
-- made to the agency; this warning precedes both and has its own window.
-- (The request itself, begjæring om fravikelse, is an eviction_application;
-- the day of the forced eviction, tvangsfravikelse, an eviction_scheduled.)
ALTER TYPE bokvar.signal_kind ADD VALUE 'eviction_warning';
-- A warning from the welfare office (NAV) about a household's housing: it
-- reports a concern, not a step of a landlord or an agency, and no law
-- gives it a window.
ALTER TYPE bokvar.signal_kind ADD VALUE 'welfare_warning';

-- ---------------------------------------------------------------------
-- Regional feeds (only: in bokvar.yaml). Rows outside a feed's area are
-- read and counted, never staged: rows read = accepted + updated +
-- duplicate + quarantined + filtered.

ALTER TABLE bokvar.fetch ADD COLUMN filtered integer NOT NULL DEFAULT 0 CHECK (filtered >= 0);
ALTER TABLE bokvar.feed ADD COLUMN last_filtered integer NOT NULL DEFAULT 0,
                        ADD COLUMN total_filtered bigint NOT NULL DEFAULT 0;

-- bokvar.ingest_fetch() (002) for a fetch of which C left p_filtered
-- records out: they count as read and as filtered, in the fetch and in the
-- feed's totals. Returns ingest_fetch()'s counts with filtered.
CREATE FUNCTION bokvar.ingest_fetch_filtered(p_feed text, p_mapping jsonb, p_fetch jsonb, p_filtered integer)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        r jsonb := bokvar.ingest_fetch(p_feed, p_mapping, p_fetch);
BEGIN
        IF coalesce((r ->> 'not_modified')::boolean, false) THEN
                UPDATE bokvar.feed SET last_filtered = 0 WHERE name = p_feed;
                RETURN r || '{"filtered": 0}';
        END IF;
        UPDATE bokvar.fetch SET rows_read = rows_read + p_filtered, filtered = p_filtered
        WHERE id = (r ->> 'fetch_id')::bigint;
        UPDATE bokvar.feed
        SET last_rows_read = last_rows_read + p_filtered, last_filtered = p_filtered,
            total_rows_read = total_rows_read + p_filtered, total_filtered = total_filtered + p_filtered
        WHERE name = p_feed;
        RETURN r || jsonb_build_object('rows_read', (r ->> 'rows_read')::integer + p_filtered, 'filtered', p_filtered);
END;
$$;

-- A quarantined row of a regional feed that a retry, under a mended
-- mapping, now places outside the feed's area (only:): it leaves the
-- quarantine and counts as filtered, in its fetch and in the feed's
-- totals, as it would have when it came. p_ids: those rows of fetch
-- p_fetch_id, as bokvarctl quarantine retry found them. Returns how many.
CREATE FUNCTION bokvar.quarantine_outside(p_feed text, p_fetch_id bigint, p_ids bigint[]) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        gone integer;
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'retry quarantined rows', true);
        PERFORM 1 FROM bokvar.feed f WHERE f.name = p_feed FOR UPDATE;
        DELETE FROM bokvar.quarantine q WHERE q.feed = p_feed AND q.fetch_id = p_fetch_id AND q.id = ANY (p_ids);
        GET DIAGNOSTICS gone = ROW_COUNT;
        IF gone <> cardinality(p_ids) THEN
                RAISE EXCEPTION 'of % rows to leave the quarantine, % were there', cardinality(p_ids), gone
                        USING ERRCODE = 'internal_error';
        END IF;
        UPDATE bokvar.fetch SET quarantined = quarantined - gone, filtered = filtered + gone WHERE id = p_fetch_id;
        UPDATE bokvar.feed SET total_quarantined = total_quarantined - gone, total_filtered = total_filtered + gone
        WHERE name = p_feed;
        RETURN gone;
END;
$$;

-- ---------------------------------------------------------------------
-- Drop folders (a feed whose url names a directory, with pattern:): each
-- ready file is a fetch of its own, and the files ingested are kept here
-- by their content's SHA-256, so that a file seen again (a crash between
-- the commit and the move to done/, an sftp folder that keeps its files,
-- the same file delivered under another name) is never ingested twice.
-- A file's name is the sender's, and no personal data.

CREATE TABLE bokvar.feed_file (
        feed text NOT NULL REFERENCES bokvar.feed (name) ON UPDATE CASCADE ON DELETE CASCADE,
        sha256 text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
        name text NOT NULL,
        size bigint NOT NULL CHECK (size >= 0),
        fetch_id bigint REFERENCES bokvar.fetch (id) ON DELETE SET NULL,
        ingested_at timestamptz NOT NULL DEFAULT now(),
        -- sftp: the file as the folder's listing showed it (size and time),
        -- so that a file left there is not fetched again to be recognised.
        seen_as text,
        PRIMARY KEY (feed, sha256)
);

-- bokvar.ingest_fetch_filtered() for one file of a drop folder, p_file:
-- {name, size, sha256, seen_as}. A file whose content the feed ingested before is
-- not ingested again (known: true, and no fetch is recorded); else it is,
-- and remembered. The caller holds the feed's row lock.
CREATE FUNCTION bokvar.ingest_file(p_feed text, p_mapping jsonb, p_fetch jsonb, p_filtered integer, p_file jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        r jsonb;
BEGIN
        UPDATE bokvar.feed_file f SET seen_as = coalesce(p_file ->> 'seen_as', f.seen_as)
        WHERE f.feed = p_feed AND f.sha256 = p_file ->> 'sha256';
        IF FOUND THEN
                RETURN '{"rows_read": 0, "accepted": 0, "updated": 0, "duplicate": 0, "quarantined": 0, '
                       '"filtered": 0, "known": true}';
        END IF;
        r := bokvar.ingest_fetch_filtered(p_feed, p_mapping, p_fetch, p_filtered);
        INSERT INTO bokvar.feed_file (feed, sha256, name, size, fetch_id, seen_as)
        VALUES (p_feed, p_file ->> 'sha256', p_file ->> 'name', (p_file ->> 'size')::bigint,
                (r ->> 'fetch_id')::bigint, p_file ->> 'seen_as');
        RETURN r || '{"known": false}';
END;
$$;

-- ---------------------------------------------------------------------
-- after_deadline in rules.yaml: a rule whose signals' deadlines have all
-- passed, with none of the after_unless kinds (by default an
-- eviction_application) following any of them in the household, gives
-- after_points instead of its points: a termination notice whose three
-- weeks ran out without the landlord going to the enforcement agency is
-- most likely settled. A daily rescore applies it the day after the
-- deadline. ruleset_load (003) is wrapped; score_compute (008) is
-- redefined: a copy of 008's, changed where "after" is written (the
-- change is inside its one pass over the signals).

ALTER TABLE bokvar.rule ADD COLUMN after_points integer, ADD COLUMN after_unless bokvar.signal_kind[],
        ADD CHECK ((after_points IS NULL) = (after_unless IS NULL));

-- 003's ruleset_load() is renamed and wrapped: a new version's rules get
-- their after_deadline ({points, unless}) from the same document.
ALTER FUNCTION bokvar.ruleset_load(jsonb, text, text, text, boolean) RENAME TO ruleset_load_rules;

CREATE FUNCTION bokvar.ruleset_load(p_rules jsonb, p_source_text text, p_source_file text, p_actor text,
                                    p_activate boolean DEFAULT true, OUT version integer, OUT new boolean)
LANGUAGE plpgsql AS $$
BEGIN
        SELECT l.version, l.new INTO version, new
        FROM bokvar.ruleset_load_rules(p_rules, p_source_text, p_source_file, p_actor, p_activate) l;
        IF new THEN
                UPDATE bokvar.rule r
                SET after_points = (x.j #>> '{after_deadline,points}')::integer,
                    after_unless = coalesce((SELECT array_agg(k::bokvar.signal_kind)
                                             FROM jsonb_array_elements_text(x.j #> '{after_deadline,unless}') k),
                                            '{eviction_application}')
                FROM jsonb_array_elements(p_rules -> 'rules') WITH ORDINALITY x(j, n)
                WHERE r.version = ruleset_load.version AND r.position = x.n AND x.j ? 'after_deadline';
        END IF;
END;
$$;

-- 008's, with a rule's after_points for a household whose signals of it are
-- all past their deadline without a following after_unless signal; the
-- explanation marks such a rule with "after_deadline": true.
CREATE OR REPLACE FUNCTION bokvar.score_compute(p_version integer, p_households bigint[], p_today date,
                                                p_explain boolean DEFAULT true)
RETURNS TABLE (household_id bigint, score integer, class bokvar.risk_class, next_deadline date,
               fingerprint bigint, explanation jsonb)
LANGUAGE plpgsql SET work_mem = '256MB' SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan
SET max_parallel_workers_per_gather = 0 AS $$
DECLARE
        rs bokvar.ruleset;
BEGIN
        SELECT * INTO rs FROM bokvar.ruleset r WHERE r.version = p_version;

        -- The rules that look at signals, one row per kind they look at, so
        -- that a signal meets only the rules of its kind; and the rules,
        -- each once, with what fires and counts them.
        CREATE TEMP TABLE score_rule_kind ON COMMIT DROP AS
        SELECT r.position, k.kind, r.sources, r.within_days, r.deadline_within_days, r.deadline_passed,
               r.amount_at_least, r.months_at_least, r.after_points, r.after_unless
        FROM bokvar.rule r, unnest(coalesce(r.kinds, enum_range(NULL::bokvar.signal_kind))) k(kind)
        WHERE r.version = p_version
          AND (r.kinds IS NOT NULL OR r.sources IS NOT NULL OR r.within_days IS NOT NULL
               OR r.deadline_within_days IS NOT NULL OR r.deadline_passed IS NOT NULL
               OR r.count_at_least IS NOT NULL OR r.amount_at_least IS NOT NULL OR r.months_at_least IS NOT NULL);
        CREATE TEMP TABLE score_rule ON COMMIT DROP AS
        SELECT r.*, r.position IN (SELECT rk.position FROM score_rule_kind rk) AS on_signals
        FROM bokvar.rule r WHERE r.version = p_version;
        ANALYZE score_rule_kind, score_rule;

        -- One pass. Sorted by household, rule and signal, the ids of a
        -- rule's signals come in order into their array, and the two
        -- levels of grouping are one sorted aggregation.
        CREATE TEMP TABLE score_agg ON COMMIT DROP AS
        SELECT x.household_id, x.position, GROUPING(x.position) = 1 AS home, count(x.position)::integer AS n,
               max(x.amount) AS amount, max(x.months) AS months,
               min(x.deadline) FILTER (WHERE x.deadline >= p_today) AS next_deadline,
               bool_or(x.live) AS live,
               bit_xor(hashint8extended(x.id, 0)) FILTER (WHERE x.position IS NOT NULL) AS signal_set,
               array_agg(x.id) FILTER (WHERE p_explain AND x.position IS NOT NULL) AS signals
        FROM (SELECT s.id, s.household_id, rk.position, s.amount, s.months_in_arrears AS months, s.deadline,
                     -- after_deadline (009): a signal whose deadline passed
                     -- with none of the rule's after_unless kinds following
                     -- it in its household no longer holds the rule up.
                     (rk.after_points IS NULL OR s.deadline IS NULL OR s.deadline >= p_today
                      OR EXISTS (SELECT 1 FROM bokvar.signal f
                                 WHERE f.household_id = s.household_id AND f.kind = ANY (rk.after_unless)
                                   AND f.occurred_at >= s.occurred_at)) AS live
              FROM (SELECT y.id, y.household_id, y.kind, y.source, y.occurred_at, y.deadline, y.amount,
                           y.months_in_arrears
                    FROM bokvar.signal y
                    WHERE p_households IS NULL AND y.occurred_at >= p_today - rs.window_days
                    UNION ALL
                    SELECT y.id, y.household_id, y.kind, y.source, y.occurred_at, y.deadline, y.amount,
                           y.months_in_arrears
                    FROM (SELECT DISTINCT u FROM unnest(p_households) u) h(id)
                    JOIN bokvar.signal y ON y.household_id = h.id
                    WHERE p_households IS NOT NULL AND y.occurred_at >= p_today - rs.window_days) s
              LEFT JOIN score_rule_kind rk
                     ON rk.kind = s.kind
                    AND (rk.sources IS NULL OR s.source = ANY (rk.sources))
                    AND (rk.within_days IS NULL OR s.occurred_at >= p_today - rk.within_days)
                    AND (rk.deadline_within_days IS NULL
                         OR (s.deadline >= p_today AND s.deadline <= p_today + rk.deadline_within_days))
                    AND (rk.deadline_passed IS NULL OR (s.deadline < p_today) = rk.deadline_passed)
                    AND (rk.amount_at_least IS NULL OR s.amount >= rk.amount_at_least)
                    AND (rk.months_at_least IS NULL OR s.months_in_arrears >= rk.months_at_least)
              ORDER BY s.household_id, rk.position, s.id) x
        GROUP BY GROUPING SETS ((x.household_id, x.position), (x.household_id));
        ANALYZE score_agg;

        -- The households in scope, with what rules may ask of them.
        CREATE TEMP TABLE score_home ON COMMIT DROP AS
        SELECT a.household_id, a.next_deadline, h.children
        FROM score_agg a JOIN bokvar.household h ON h.id = a.household_id
        WHERE a.home;
        ANALYZE score_home;

        RETURN QUERY
        WITH fired AS (
                -- Rules on signals that fire, and rules on the household alone
                -- for every household with a signal in the window.
                SELECT m.household_id, r.position, m.n, m.amount, m.months, m.signal_set, m.signals, r.name,
                       r.description, CASE WHEN m.live THEN r.points ELSE r.after_points END AS points,
                       NOT m.live AS after_deadline, r.per_unit, r.per_step, r.per_points, r.per_max, r.amount_at_least,
                       r.months_at_least, r.count_at_least, r.children_at_least, h.children
                FROM score_agg m
                JOIN score_rule r ON r.position = m.position
                JOIN score_home h ON h.household_id = m.household_id
                WHERE NOT m.home AND m.n >= coalesce(r.count_at_least, 1)
                  AND (r.children_at_least IS NULL OR h.children >= r.children_at_least)
                UNION ALL
                SELECT h.household_id, r.position, NULL, NULL, NULL, NULL, NULL, r.name, r.description, r.points,
                       false, r.per_unit, r.per_step, r.per_points, r.per_max, r.amount_at_least, r.months_at_least,
                       r.count_at_least, r.children_at_least, h.children
                FROM score_home h
                JOIN score_rule r ON NOT r.on_signals
                WHERE r.children_at_least IS NULL OR h.children >= r.children_at_least
        ), points AS (
                -- The rule's points, and its increments: one per step beyond
                -- the condition's own threshold, together at most max points
                -- in the direction of the per points. In numeric: an amount
                -- may make billions of steps.
                SELECT f.*, f.points + CASE WHEN f.per_unit IS NULL THEN 0 ELSE coalesce((sign(f.per_points::numeric)
                        * least(abs(f.per_max), abs(f.per_points) * floor(
                        CASE f.per_unit
                        WHEN 'amount' THEN (f.amount - coalesce(f.amount_at_least, 0)) / f.per_step
                        WHEN 'child' THEN (f.children - coalesce(f.children_at_least, 0)) / f.per_step
                        WHEN 'signal' THEN (f.n - coalesce(f.count_at_least, 1)) / f.per_step
                        WHEN 'month' THEN (f.months - coalesce(f.months_at_least, 0)) / f.per_step
                        END::numeric)))::integer, 0) END AS total
                FROM fired f
        ), per_home AS (
                -- The explanation in rule order: the rows sorted once, not
                -- each household's on its own.
                SELECT p.household_id, sum(p.total)::integer AS score,
                       bit_xor(hashint8extended(p.position * 1000003 + p.total,
                                                coalesce(p.signal_set, 0))) AS fingerprint,
                       jsonb_agg(jsonb_build_object('rule', p.name, 'description', p.description, 'points', p.total,
                                                    'signals', coalesce(to_jsonb(p.signals), '[]'))
                                 || CASE WHEN p.after_deadline THEN '{"after_deadline": true}'::jsonb
                                         ELSE '{}'::jsonb END)
                           FILTER (WHERE p_explain) AS explanation
                FROM (SELECT * FROM points ORDER BY household_id, position) p
                GROUP BY p.household_id
        )
        SELECT o.household_id, coalesce(x.score, 0),
               CASE WHEN coalesce(x.score, 0) >= rs.urgent THEN 'urgent'
                    WHEN coalesce(x.score, 0) >= rs.outreach THEN 'outreach'
                    WHEN coalesce(x.score, 0) >= rs.watch THEN 'watch'
                    ELSE 'none' END::bokvar.risk_class,
               o.next_deadline, coalesce(x.fingerprint, 0),
               CASE WHEN p_explain THEN coalesce(x.explanation, '[]') END
        FROM score_home o
        LEFT JOIN per_home x ON x.household_id = o.household_id;

        DROP TABLE score_rule_kind, score_rule, score_agg, score_home;
END;
$$;


-- ---------------------------------------------------------------------
-- Notices registered by hand from bokvarctl (signal add) as from the web
-- form: the same C reads and validates the fields (src/ingest/notice.c),
-- in the caseworker's or coordinator's own bokvarctl, which calls
-- bokvar.signal_register() (008) as the person's own login. It records
-- who entered the notice (fetch.entered_by, the audit log) whichever way
-- it came. 008's access_grant() is renamed and wrapped, as 007 did; the
-- wrapper also lets operators read which files drop folders ingested.
ALTER FUNCTION bokvar.access_grant(text, name) RENAME TO access_grant_speed;

CREATE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        notes text[] := bokvar.access_grant_speed(p_function, p_role);
BEGIN
        IF p_function IN ('caseworker', 'coordinator') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.signal_register(jsonb) TO %I', p_role);
        ELSIF p_function = 'operator' THEN
                EXECUTE format('GRANT SELECT ON bokvar.feed_file TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.quarantine_outside(text, bigint, bigint[]) TO %I',
                               p_role);
        END IF;
        RETURN notes;
END;
$$;

REVOKE EXECUTE ON FUNCTION bokvar.access_grant(text, name), bokvar.access_grant_speed(text, name),
        bokvar.ruleset_load(jsonb, text, text, text, boolean),
        bokvar.ingest_fetch_filtered(text, jsonb, jsonb, integer), bokvar.ingest_file(text, jsonb, jsonb, integer, jsonb),
        bokvar.quarantine_outside(text, bigint, bigint[]) FROM PUBLIC;
