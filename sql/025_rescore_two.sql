-- SPDX-License-Identifier: GPL-3.0-or-later
-- A full rescore computes its scores on two connections (issue 16's figure
-- "first scoring of 1M households").
--
-- A full rescore spends most of its time in one statement: score_sql()'s
-- query over every signal in the window, grouped by household (10-16 s of
-- a 28-39 s first scoring of a million households). One backend runs it on
-- one core. Split at the middle of the household ids, the two halves took
-- 7.0 and 7.7 s side by side on two connections against 12.8-16.4 s for
-- the whole on one.
--
-- bokvard's pass now runs a full rescore in three steps:
--   rescore_begin()       on the pass's connection: what rescore_all()
--                         did first (today's rescore done? the scoring
--                         state's row lock, the ingest's lock, fresh
--                         statistics), and the query of this rescore, the
--                         range of household ids and its middle, and a run
--                         number;
--   score_part_compute()  on both connections at once: the query over one
--                         half of the range, its rows into score_part under
--                         the run number. The second connection's
--                         statement starts after the first holds the
--                         ingest's lock, and every writer of signals,
--                         households or children takes that lock, so both
--                         halves read the same data. Its rows commit with
--                         its statement; the first connection's stay in
--                         the pass's transaction;
--   rescore_finish()      on the pass's connection, after both: score_apply()
--                         over score_part's rows of the run instead of the
--                         query (the comparison with the stored scores,
--                         the writes, the tasks, the progress, unchanged),
--                         score_part emptied, today's rescore recorded.
-- The second connection cannot read the rules of the pass's transaction
-- (a ruleset just loaded is not committed), so it is given the query's
-- text, which score_sql() wrote there; score_part_compute() runs it. Only
-- the schema's owner may execute it, who may run any statement anyway.
-- If the second connection fails, the first computes both halves.
--
-- score_part is unlogged (its rows live for one pass, a crash of the
-- server empties it) and row-level security keeps it the system's alone.
-- A killed pass leaves the second connection's rows behind; they have
-- another run number, and the next rescore_finish() empties the table.
--
-- rescore_all() is unchanged: one connection, the query read directly.

CREATE UNLOGGED TABLE bokvar.score_part (
        run bigint NOT NULL,
        household_id bigint NOT NULL,
        score integer NOT NULL,
        class bokvar.risk_class NOT NULL,
        next_deadline date,
        fingerprint bigint NOT NULL,
        explanation jsonb
);
ALTER TABLE bokvar.score_part ENABLE ROW LEVEL SECURITY;
ALTER TABLE bokvar.score_part FORCE ROW LEVEL SECURITY;
CREATE POLICY system ON bokvar.score_part USING (bokvar.session_is_system() OR (SELECT bokvar.elevated()))
        WITH CHECK (bokvar.session_is_system() OR (SELECT bokvar.elevated()));

-- 011's score_sql(), which can also read one range of household ids
-- ($3 to $4) of the signals: p_range. The rest is 011's.
DROP FUNCTION bokvar.score_sql(integer, boolean, boolean);
CREATE FUNCTION bokvar.score_sql(p_version integer, p_scope boolean, p_explain boolean,
                                 p_range boolean DEFAULT false) RETURNS text
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
                              WHERE %15$sy.occurred_at >= $2 - %12$s
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
                CASE WHEN children THEN 'LEFT JOIN bokvar.household h ON h.id = g.household_id' ELSE '' END,
                CASE WHEN p_range THEN 'y.household_id BETWEEN $3 AND $4 AND ' ELSE '' END);
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.score_sql(integer, boolean, boolean, boolean) FROM PUBLIC;

-- 013's score_apply(), which can take the new scores from score_part's
-- rows of a run (p_run) instead of computing them. The rest is 013's.
DROP FUNCTION bokvar.score_apply(bigint[], date);
CREATE FUNCTION bokvar.score_apply(p_households bigint[], p_today date DEFAULT current_date,
                                   p_run bigint DEFAULT NULL) RETURNS integer
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
        -- Its callers hold the ingest's lock already; so does every other
        -- writer of scores, which lets the writes below be plain.
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT a.version INTO v FROM bokvar.ruleset_active a;
        IF v IS NULL THEN
                RETURN 0;
        END IF;
        PERFORM bokvar.stats_refresh(ARRAY['bokvar.signal', 'bokvar.household', 'bokvar.score',
                                           'bokvar.task']::regclass[]);
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
                       s.household_id IS NOT NULL AS stored,
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
                $q$, v,
                CASE WHEN p_run IS NULL THEN bokvar.score_sql(v, p_households IS NOT NULL, explained)
                     ELSE 'SELECT p.household_id, p.score, p.class, p.next_deadline, p.fingerprint, p.explanation '
                          'FROM bokvar.score_part p WHERE p.run = $3' END,
                CASE WHEN p_households IS NULL THEN 'SELECT * FROM bokvar.score'
                     ELSE 'SELECT x.* FROM (SELECT DISTINCT u FROM unnest($1) u) h(id) '
                          'JOIN bokvar.score x ON x.household_id = h.id' END)
                USING p_households, p_today, p_run;
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

                UPDATE bokvar.score s
                SET score = c.score, class = c.class, ruleset_version = v, next_deadline = c.next_deadline,
                    as_of = p_today, fingerprint = c.fingerprint,
                    explanation = CASE WHEN c.explained_differently THEN coalesce(c.explanation, '[]')
                                       ELSE s.explanation END,
                    scored_at = CASE WHEN c.explained_differently THEN clock_timestamp() ELSE s.scored_at END
                FROM score_changed c
                WHERE c.household_id BETWEEN ids[1] AND ids[cardinality(ids)] AND c.stored
                  AND s.household_id = c.household_id;

                INSERT INTO bokvar.score (household_id, score, class, ruleset_version, next_deadline, explanation,
                                          fingerprint, as_of, scored_at)
                SELECT c.household_id, c.score, c.class, v, c.next_deadline, coalesce(c.explanation, '[]'),
                       c.fingerprint, p_today, clock_timestamp()
                FROM score_changed c
                WHERE c.household_id BETWEEN ids[1] AND ids[cardinality(ids)] AND NOT c.stored
                ORDER BY c.household_id;

                PERFORM bokvar.scores_changed(ids, p_today);
                IF changed > chunk THEN
                        RAISE NOTICE 'bokvar progress: % of % households', least(lo + chunk - 1, changed), changed;
                END IF;
        END LOOP;
        DROP TABLE score_changed;
        RETURN changed;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.score_apply(bigint[], date, bigint) FROM PUBLIC;

-- The first step of a full rescore: NULL (no row) when today's is done
-- and none is forced; otherwise the run's number, the range of household
-- ids and its middle, the day, and the query (NULL without an active
-- ruleset: nothing to compute).
CREATE FUNCTION bokvar.rescore_begin(p_force boolean DEFAULT false, p_today date DEFAULT current_date)
RETURNS TABLE (run bigint, first_id bigint, middle_id bigint, last_id bigint, today date, query text)
LANGUAGE plpgsql AS $$
DECLARE
        v integer;
BEGIN
        PERFORM 1 FROM bokvar.scoring_state FOR UPDATE;
        IF NOT p_force AND (SELECT s.full_rescore_as_of FROM bokvar.scoring_state s) = p_today THEN
                RETURN;
        END IF;
        -- As rescore_all(): ingests score what they touch under this lock.
        PERFORM pg_advisory_xact_lock(7243155002);
        run := txid_current();
        today := p_today;
        SELECT a.version INTO v FROM bokvar.ruleset_active a;
        IF v IS NOT NULL THEN
                PERFORM bokvar.stats_refresh(ARRAY['bokvar.signal', 'bokvar.household', 'bokvar.score',
                                                   'bokvar.task']::regclass[]);
                SELECT min(h.id), max(h.id) INTO first_id, last_id FROM bokvar.household h;
                middle_id := first_id + (last_id - first_id) / 2;
                -- With explanations where score_apply() would compute them
                -- in its first pass.
                query := bokvar.score_sql(v, false,
                                          NOT EXISTS (SELECT 1 FROM bokvar.score s WHERE s.ruleset_version = v), true);
        END IF;
        RETURN NEXT;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.rescore_begin(boolean, date) FROM PUBLIC;

-- The scores of the households p_first to p_last by rescore_begin()'s
-- query, into score_part under the run's number. Returns their number.
CREATE FUNCTION bokvar.score_part_compute(p_run bigint, p_query text, p_first bigint, p_last bigint, p_today date)
RETURNS bigint
LANGUAGE plpgsql SET work_mem = '512MB' SET random_page_cost = 1.1 SET max_parallel_workers_per_gather = 0
SET plan_cache_mode = force_custom_plan SET enable_hashjoin = off AS $$
DECLARE
        n bigint;
BEGIN
        EXECUTE format('INSERT INTO bokvar.score_part (run, household_id, score, class, next_deadline, fingerprint, '
                       'explanation) SELECT $5, n.household_id, n.score, n.class, n.next_deadline, n.fingerprint, '
                       'n.explanation FROM (%s) n', p_query)
                USING NULL::bigint[], p_today, p_first, p_last, p_run;
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.score_part_compute(bigint, text, bigint, bigint, date) FROM PUBLIC;

-- The last step: the scores of the run applied, score_part emptied (the
-- second connection has committed; rows of killed passes go too), the
-- day's rescore recorded. Returns the number of scores changed.
CREATE FUNCTION bokvar.rescore_finish(p_run bigint, p_today date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);
        n := bokvar.score_apply(NULL, p_today, p_run);
        TRUNCATE bokvar.score_part;
        UPDATE bokvar.scoring_state SET full_rescore_at = now(), full_rescore_as_of = p_today;
        RETURN n;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.rescore_finish(bigint, date) FROM PUBLIC;
