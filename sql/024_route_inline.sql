-- SPDX-License-Identifier: GPL-3.0-or-later
-- New tasks are routed from the household row their INSERT already reads
-- (issue 16's figure "opening 100 000 tasks in one call").
--
-- tasks_sync() joined each new task's household for its children, and
-- routed it with route_all(), which took the households' ids, read each
-- household again by its key (an index probe a household), joined every
-- team and sorted the lot to keep each household's first team. Routing
-- needs only the household's postal code, city and landlord words, which
-- the join has in hand: route_team() takes them and returns the first
-- team, and the planner inlines it (one SQL SELECT, STABLE, not STRICT)
-- as a LIMIT 1 over the team table beside each household. The rule is
-- route_all()'s: the first team in configured order whose postal code
-- prefixes, cities or landlords match, else the default team, else none
-- ("unrouted"). route_all() goes; route_team() is its one definition.

-- The team of a household with these words: the first team (in
-- configured order) whose postal code patterns, city words or landlord
-- words match, else the default team; no row when neither exists.
CREATE FUNCTION bokvar.route_team(p_postal_code text, p_city_key text, p_landlord_key text)
RETURNS TABLE (team text)
LANGUAGE sql STABLE AS $$
        SELECT t.name
        FROM bokvar.team t
        WHERE p_postal_code LIKE ANY (t.postal_patterns) OR p_city_key = ANY (t.city_keys)
              OR p_landlord_key = ANY (t.landlord_keys) OR t.is_default
        ORDER BY (p_postal_code LIKE ANY (t.postal_patterns) OR p_city_key = ANY (t.city_keys)
                  OR p_landlord_key = ANY (t.landlord_keys)) IS NOT TRUE, t.position
        LIMIT 1
$$;
REVOKE EXECUTE ON FUNCTION bokvar.route_team(text, text, text) FROM PUBLIC;

-- 023's tasks_sync(), its new tasks routed by route_team() over the
-- household row the statement joins. The rest is 023's.
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

DROP FUNCTION bokvar.route_all(bigint[]);
