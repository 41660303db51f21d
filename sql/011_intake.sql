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
-- deadline. ruleset_load (003) is wrapped; score_sql (010) is
-- redefined: a copy of 010's, changed where "after" is written (the
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

-- 010's score_sql(), with a rule's after_points for a household whose
-- signals of it are all past their deadline without a following
-- after_unless signal; the explanation marks such a rule with
-- "after_deadline": true.
CREATE OR REPLACE FUNCTION bokvar.score_sql(p_version integer, p_scope boolean, p_explain boolean) RETURNS text
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
        pts text;
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
                        -- after_deadline: whether any of its signals still
                        -- holds the rule up (its deadline not passed, or a
                        -- signal of the after_unless kinds on or after it).
                        IF r.after_points IS NOT NULL THEN
                                per_signal := per_signal || format(
                                        '(y.deadline IS NULL OR y.deadline >= $2 OR EXISTS (SELECT 1 FROM bokvar.signal f '
                                        'WHERE f.household_id = y.household_id AND f.kind = ANY (%L::bokvar.signal_kind[]) '
                                        'AND f.occurred_at >= y.occurred_at)) AS l%s', r.after_unless, n);
                                aggs := aggs || format('bool_or(y.l%1$s) FILTER (WHERE y.c%1$s) AS l%1$s', n);
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
                pts := CASE WHEN r.after_points IS NOT NULL AND on_signals
                            THEN format('(CASE WHEN g.l%s THEN %s ELSE %s END)', n, r.points, r.after_points)
                            ELSE r.points::text END;
                total := total || CASE WHEN x IS NULL THEN format('%s AS t%s', pts, n)
                                  ELSE format('%s + coalesce((sign(%L::integer::numeric) * least(abs(%L::integer), '
                                              'abs(%L::integer) * floor((%s / %L::numeric(14, 2))::numeric)))::integer, '
                                              '0) AS t%s',
                                              pts, r.per_points, r.per_max, r.per_points, x, r.per_step, n)
                                  END;
                score := score || format('CASE WHEN f%1$s THEN t%1$s ELSE 0 END', n);
                fingerprint := fingerprint || format('CASE WHEN f%1$s THEN hashint8extended(%2$s * 1000003 + t%1$s, '
                                                     '%3$s) ELSE 0 END', n, r.position,
                                                     CASE WHEN on_signals THEN format('coalesce(s%s, 0)', n)
                                                          ELSE '0' END);
                -- The rule's part of the explanation, as JSON text: all of
                -- it is parsed once, as the household's jsonb.
                parts := parts || format('CASE WHEN f%s THEN %L || t%s || %L%s || %L%s END', n,
                                         format('{"rule": %s, "description": %s, "points": ', to_json(r.name),
                                                coalesce(to_json(r.description)::text, 'null')),
                                         n, ', "signals": [',
                                         CASE WHEN on_signals THEN format(' || array_to_string(i%s, %L)', n, ',')
                                              ELSE '' END,
                                         ']',
                                         CASE WHEN r.after_points IS NOT NULL AND on_signals
                                              THEN format(' || CASE WHEN l%s THEN %L ELSE %L END', n, '}',
                                                          ', "after_deadline": true}')
                                              ELSE ' || ''}''' END);
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

-- ---------------------------------------------------------------------
-- Notices registered by hand from bokvarctl (signal add) as from the web
-- form: the same C reads and validates the fields (src/ingest/notice.c),
-- in the caseworker's or coordinator's own bokvarctl, which calls
-- bokvar.signal_register() (010) as the person's own login. It records
-- who entered the notice (fetch.entered_by, the audit log) whichever way
-- it came. 010's access_grant() is renamed and wrapped, as 007 did; the
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
