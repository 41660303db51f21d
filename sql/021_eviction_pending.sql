-- SPDX-License-Identifier: GPL-3.0-or-later
-- The evictions pending, found in one pass over a household's eviction
-- signals (issue 16's figures "opening 100 000 tasks in one call" and
-- "rescore after an ingest of 10 000 signals").
--
-- 009's eviction_pending tested each eviction date against the
-- household's cancellations and evictions with a NOT EXISTS: an anti-join
-- that probed signal_eviction again, and read the rows it found, once per
-- date. A date is pending where nothing cancelled or carried out an
-- eviction on or after the day it was scheduled, that is where the
-- household's latest cancellation or eviction is older than it, or there
-- is none: a window over the household's eviction signals, read once.
-- The rows are the same (occurred_at is never NULL). A condition on the
-- household alone still reaches the index (it is the window's partition).
--
-- 020 read the evictions for tasks_sync()'s dense sets of households by
-- their range, and wrote the condition for both kinds of set as one: the
-- range, and then "dense OR household IN (the new tasks' households)". A
-- subquery under an OR is not made a join (PostgreSQL pulls up only a
-- WHERE's top-level IN, before the flag is folded), so a sparse set, the
-- 10 000 households of a rescore among a million, scanned signal_eviction
-- over its whole range (145 000 entries and their rows) and tested each
-- against a hash of the new tasks: 233 ms of that rescore. A join would
-- not reach into the window either. Now a sparse set's evictions are
-- those of the new tasks' households, as an array the index is probed
-- with (a condition on the window's partition, so it reaches the index);
-- a dense set's are its range, as in 020 (the flag is a constant in the
-- plan, and one of the two conditions is left).

CREATE OR REPLACE VIEW bokvar.eviction_pending AS
SELECT x.household_id, x.deadline AS eviction_date
FROM (SELECT y.household_id, y.kind, y.deadline, y.occurred_at,
             max(y.occurred_at) FILTER (WHERE y.kind IN ('eviction_cancelled', 'eviction_executed'))
                     OVER (PARTITION BY y.household_id) AS ended
      FROM bokvar.signal y
      WHERE y.kind IN ('eviction_scheduled', 'eviction_cancelled', 'eviction_executed')) x
WHERE x.kind = 'eviction_scheduled' AND x.deadline IS NOT NULL AND (x.ended IS NULL OR x.ended < x.occurred_at);

-- 020's tasks_sync(), the pending evictions of a sparse set read for the
-- new tasks' households alone. The rest is 020's.
CREATE OR REPLACE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date) RETURNS void
LANGUAGE plpgsql SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan SET work_mem = '64MB' AS $$
DECLARE
        ids bigint[];
        lo bigint;
        hi bigint;
        dense boolean;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);
        -- Dense: the households given are at least a quarter of their
        -- range (a scoring's chunk, a large ingest's). Their scores and
        -- evictions are then read as the range, filtered, where one index
        -- probe per household read the same pages over and over.
        SELECT min(u), max(u), max(u) - min(u) < 4 * count(*) INTO lo, hi, dense FROM unnest(p_households) u;
        CREATE TEMP TABLE task_scope ON COMMIT DROP AS
        SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
               t.top_class
        FROM bokvar.score s
        LEFT JOIN bokvar.task t ON t.household_id = s.household_id AND t.status = 'open'
                                AND t.household_id BETWEEN lo AND hi
        WHERE s.household_id BETWEEN lo AND hi
          -- (IS TRUE keeps the array out of the index condition.)
          AND CASE WHEN dense THEN (s.household_id = ANY (p_households)) IS TRUE
                   ELSE s.household_id = ANY (p_households) END
          AND (t.id IS NOT NULL OR s.class IN ('outreach', 'urgent'));
        ANALYZE task_scope;

        -- New tasks, routed and assigned to whoever in the team has the
        -- fewest open tasks, counting the ones this call hands out (each
        -- caseworker's load n, n+1, n+2, ... are slots; the team's new
        -- tasks take its lowest slots in turn). Nobody else opens a task
        -- while this call holds the ingest's lock, so task_scope, read
        -- after it, knows every open task (task_one_open still refuses a
        -- second one).
        WITH new AS (
                SELECT sc.household_id, sc.class, sc.score, sc.next_deadline, h.children, r.team
                FROM task_scope sc
                JOIN bokvar.household h ON h.id = sc.household_id AND h.id BETWEEN lo AND hi
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
                           WHERE CASE WHEN dense THEN p.household_id BETWEEN lo AND hi
                                      ELSE p.household_id = ANY (ARRAY(SELECT household_id FROM new)) END
                           GROUP BY p.household_id) e ON e.household_id = n.household_id
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

