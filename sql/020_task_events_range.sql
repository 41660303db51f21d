-- SPDX-License-Identifier: GPL-3.0-or-later
-- Opening tasks reads ranges where it probed an index per row (issue
-- 16's figures "opening 100 000 tasks in one call" and the first
-- scoring).
--
-- task_events() read its tasks with t.id = ANY (p_task_ids): where the
-- ids are many, the planner scans every task and tests each against the
-- array (an index scan would probe task_pkey once per id). The tasks a
-- call opens take one block of the sequence: their ids fill the range
-- from the least to the greatest, and the condition is then that range
-- alone (the test folds to true in the plan), an index scan of task_pkey
-- over it. Other sets of ids are read as before, within their range. The
-- first scoring's 19 calls, one for the tasks of each chunk of 50 000
-- households, scanned every task opened before (up to 760 000), and the
-- call of tools/bench score that opens 100 000 tasks scanned 310 000.
--
-- tasks_sync() read the scores of the households given, and the
-- evictions pending for the new tasks, by one index probe per household.
-- Where the households are dense in their range (at least a quarter of
-- it: a scoring's chunk of 50 000 consecutive households, the 100 000 of
-- tools/bench score among the first 322 000), it reads the range instead,
-- once, and filters it: score_pkey from lo to hi, the households' array
-- a filter; signal_eviction from lo to hi. The flag is a constant in the
-- plan (force_custom_plan), so the other branch folds away; a sparse set
-- (10 000 households of a million) is probed as before.

-- 016's task_events(), its tasks read within the span of their ids. The
-- rest is 016's.
CREATE OR REPLACE FUNCTION bokvar.task_events(p_task_ids bigint[], p_kind text, p_by text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        send boolean := bokvar.event_is_sent(p_kind) AND EXISTS (SELECT 1 FROM bokvar.channel);
        n integer;
        sent integer;
        lo bigint;
        hi bigint;
        k bigint;
BEGIN
        -- The tasks a call opened fill their range of ids: read as a range.
        SELECT min(u), max(u), count(DISTINCT u) INTO lo, hi, k FROM unnest(p_task_ids) u;
        WITH e AS (
                INSERT INTO bokvar.task_event (task_id, event_id, kind, at, by, class, detail)
                SELECT t.id, bokvar.event_id(), p_kind, clock_timestamp(), p_by,
                       t.class, p_detail
                FROM bokvar.task t WHERE t.id BETWEEN lo AND hi AND (k = hi - lo + 1 OR t.id = ANY (p_task_ids))
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

-- 016's tasks_sync(), the scores and the evictions of a dense set of
-- households read by their range. The rest is 016's.
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
                           WHERE p.household_id BETWEEN lo AND hi
                             AND (dense OR p.household_id IN (SELECT household_id FROM new))
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

