-- SPDX-License-Identifier: GPL-3.0-or-later
-- New tasks meet their caseworkers' slots by their number alone (issue 16:
-- opening tasks routed and assigned in one statement, at any size).
--
-- tasks_sync() gives a team's new tasks, in order, the team's slots in
-- order (each caseworker's load n, n+1, ... sorted). It joined the two on
-- the team and the number within it. Estimating the new tasks from
-- task_scope at a twentieth of what they were (914 against 17 000 in a
-- chunk of a first scoring), the planner merged them on the team alone and
-- tested the number as a filter: every new task against every slot of its
-- team, which grows with the square of a team's new tasks. The first
-- scoring of 1M households with five teams and twelve caseworkers took 383
-- s before 024 and 397 s after it (25 s a chunk of 50 000 households),
-- against 20-40 s without teams.
--
-- The join's one key is now the number: the team is compared with IS NOT
-- DISTINCT FROM, which the planner cannot merge or hash on, so a merge or
-- hash join matches each number to at most one slot a team (a team's
-- number is unique, and there are a few teams). A key of team and number
-- in one text did the same at 10 % more for 100 000 tasks in one call.

-- 024's tasks_sync(), the slots joined on their number. The rest is 024's.
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
               t.top_class, t.score AS task_score, t.deadline AS task_deadline
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
                LEFT JOIN LATERAL bokvar.route_team(h.postal_code, h.city_key, h.landlord_key) r ON true
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
                -- (Joined on the number alone: see the head of this file.)
                LEFT JOIN slots sl ON sl.k = n.k AND sl.team IS NOT DISTINCT FROM n.team
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
                WHERE sc.class > sc.top_class
                  AND t.id = sc.task_id AND t.status = 'open' AND sc.class > t.top_class
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
                WHERE sc.class < sc.task_class
                  AND t.id = sc.task_id AND t.status = 'open' AND sc.class < t.class
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
        WHERE sc.class <= sc.top_class AND sc.class >= sc.task_class
          AND (sc.task_class, sc.task_score, sc.task_deadline) IS DISTINCT FROM (sc.class, sc.score, sc.next_deadline)
          AND t.id = sc.task_id AND t.status = 'open' AND sc.class <= t.top_class
          AND (t.class, t.score, t.deadline) IS DISTINCT FROM (sc.class, sc.score, sc.next_deadline);

        DROP TABLE task_scope;
END;
$$;
