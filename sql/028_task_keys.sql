-- SPDX-License-Identifier: GPL-3.0-or-later
-- A task's household checked by merging the two, new tasks met by their
-- slots on one number (issue 16: opening 100 000 tasks in one call, and
-- the first scoring's calls), and tasks that follow a rescore read its
-- scores from its own table of them (the rescore of 10 000 households).
--
-- The household check: 022 counted the inserted tasks without a
-- household in the statement's stretch of household ids. An anti join
-- hashes the side that may lack rows, the households: for 100 000 tasks
-- opened among 322 000 households, a hash of 322 000 keys (16 MB, 78 ms of
-- the check's 115 ms). Counting the tasks that find their household (a
-- household's id is unique, so a task finds one or none) and comparing
-- with all of them asks the same; the planner still hashed the households,
-- so the check merges the tasks, sorted, with household_pkey read in
-- order: 65 ms. A check of a few tasks still probes the index per task.
--
-- The slots: 026 joined each new task to its slot on the number within its
-- team, the team compared with IS NOT DISTINCT FROM. A merge on a number
-- that every team repeats rereads, for each number, the slots of all teams
-- that have it (424 000 rows read for 100 000 slots, 83 ms), and the two
-- sides were sorted by team name in the database's collation (80 ms for
-- the new tasks). Each team now has a number in the call (its order by
-- name), and a task's or a slot's key is the team's number times 2^32 plus
-- its number within the team: unique, so any join reads each slot once,
-- and the partitions sort on an integer. Tasks without a team (none
-- routes them, no default team) have no key and no slot, as before.
--
-- The same tasks go to the same caseworkers, routed the same (checked on a
-- private cluster: 100 000 tasks reopened, and 310 000 opened in calls of
-- 50 000 households, identical row for row).
--
-- The scope: tasks follow a rescore's scores from the rescore's own table
-- of them (issue 16: the rescore after an ingest of 10 000 signals, < 1 s).
-- score_apply() writes the scores that changed from its temporary table
-- score_changed, then calls scores_changed(), and tasks_sync() read the
-- same households' scores back from bokvar.score: for the 10 000
-- households of tools/bench's rescore, 10 000 probes of score_pkey, each
-- on a page of its own in a table of 370 MB that shared buffers do not
-- hold (7 000 reads, 63 ms of task_scope's 104 ms). score_changed holds
-- the same scores, in this session's memory: task_scope read from it took
-- 43 ms (auto_explain, one run each; the task probes remain).
--
-- scores_changed() is score_apply()'s alone, so it says so: tasks_sync()
-- takes p_scored, true when the caller's score_changed holds the
-- households' new scores. Its other callers (tools/bench, the tests) read
-- bokvar.score as before.

CREATE OR REPLACE FUNCTION bokvar.task_household_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated"
SET plan_cache_mode = force_custom_plan SET enable_hashjoin = off AS $$
DECLARE
        lo bigint;
        hi bigint;
        n bigint;
BEGIN
        SELECT min(household_id), max(household_id), count(*) INTO lo, hi, n FROM task_new;
        IF (SELECT count(*) FROM task_new t
            JOIN bokvar.household h ON h.id = t.household_id AND h.id BETWEEN lo AND hi) <> n THEN
                RAISE EXCEPTION 'a task refers to a household that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

DROP FUNCTION bokvar.tasks_sync(bigint[], date);

-- 027's tasks_sync(), with the teams' numbers and the slots' key, and
-- task_scope read from score_changed when p_scored. The rest is 027's.
CREATE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date,
                                  p_scored boolean DEFAULT false) RETURNS void
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
        IF p_scored THEN
                -- The scores just written, from score_apply()'s table of
                -- them (in this session's memory), where bokvar.score's
                -- rows are one random page each.
                CREATE TEMP TABLE task_scope ON COMMIT DROP AS
                SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
                       t.top_class, t.score AS task_score, t.deadline AS task_deadline
                FROM score_changed s
                LEFT JOIN bokvar.task t ON t.household_id = s.household_id AND t.status = 'open'
                                        AND t.household_id BETWEEN lo AND hi
                -- (IS TRUE: the range is the index condition, where
                -- score_apply() made one for a large rescore.)
                WHERE s.household_id BETWEEN lo AND hi AND (s.household_id = ANY (p_households)) IS TRUE
                  AND (t.id IS NOT NULL OR s.class IN ('outreach', 'urgent'));
        ELSE
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
        END IF;
        ANALYZE task_scope;

        -- New tasks, routed and assigned to whoever in the team has the
        -- fewest open tasks, counting the ones this call hands out (each
        -- caseworker's load n, n+1, n+2, ... are slots; the team's new
        -- tasks take its lowest slots in turn). Nobody else opens a task
        -- while this call holds the ingest's lock, so task_scope, read
        -- after it, knows every open task (task_one_open still refuses a
        -- second one).
        WITH candidate AS (
                SELECT sc.household_id, sc.class, sc.score, sc.next_deadline, h.children, h.postal_code, h.city_key,
                       h.landlord_key, format('%L %L %L', h.postal_code, h.city_key, h.landlord_key) AS words
                FROM task_scope sc
                JOIN bokvar.household h ON h.id = sc.household_id AND h.id BETWEEN lo AND hi
                WHERE sc.task_id IS NULL AND sc.class IN ('outreach', 'urgent')
        ), teams AS (
                SELECT t.name, row_number() OVER (ORDER BY t.name) AS no FROM bokvar.team t
        ), route AS (
                -- Each different set of words routed once (their text, each
                -- quoted or NULL, is one key: a hash join, NULLs included).
                SELECT w.words, r.team, tt.no AS team_no
                FROM (SELECT c.words, min(c.postal_code) AS postal_code, min(c.city_key) AS city_key,
                             min(c.landlord_key) AS landlord_key
                      FROM candidate c GROUP BY c.words) w
                LEFT JOIN LATERAL bokvar.route_team(w.postal_code, w.city_key, w.landlord_key) r ON true
                LEFT JOIN teams tt ON tt.name = r.team
        ), new AS (
                SELECT c.household_id, c.class, c.score, c.next_deadline, c.children, r.team, r.team_no
                FROM candidate c JOIN route r ON r.words = c.words
        ), numbered AS (
                SELECT n.*, n.team_no * 4294967296
                            + row_number() OVER (PARTITION BY n.team_no ORDER BY n.class DESC, n.household_id) AS key
                FROM new n
        ), load AS (
                SELECT o.assignee, count(*) AS n FROM bokvar.task o WHERE o.status = 'open' GROUP BY o.assignee
        ), staff AS (
                -- Each caseworker of a team with new tasks: their load, the
                -- team's highest, its size and its new tasks.
                SELECT tt.no AS team_no, cw, coalesce(l.n, 0) AS n, max(coalesce(l.n, 0)) OVER w AS top,
                       count(*) OVER w AS size, tn.k AS tasks
                FROM bokvar.team tm
                JOIN (SELECT new.team, count(*) AS k FROM new GROUP BY new.team) tn ON tn.team = tm.name
                JOIN teams tt ON tt.name = tm.name
                CROSS JOIN LATERAL unnest(tm.caseworkers) cw
                LEFT JOIN load l ON l.assignee = cw
                WINDOW w AS (PARTITION BY tt.no)
        ), slots AS (
                -- Each caseworker's slots up to the team's highest load
                -- plus its share of the new tasks (rounded up), less one,
                -- and no more than the team's new tasks: the team's
                -- lowest slots are among them (see the head of this file).
                SELECT s.cw, s.team_no * 4294967296
                             + row_number() OVER (PARTITION BY s.team_no ORDER BY s.n + j, s.cw) AS key
                FROM staff s
                CROSS JOIN LATERAL generate_series(0, least(s.tasks, s.top - s.n + (s.tasks + s.size - 1) / s.size) - 1)
                        AS j
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
                -- (One key, the team's number and the task's: see the head.)
                LEFT JOIN slots sl ON sl.key = n.key
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

REVOKE EXECUTE ON FUNCTION bokvar.tasks_sync(bigint[], date, boolean) FROM PUBLIC;

-- Scores that changed bring their tasks along, in the same transaction:
-- score_apply() calls this with score_changed holding the new scores.
CREATE OR REPLACE FUNCTION bokvar.scores_changed(p_households bigint[], p_today date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM bokvar.tasks_sync(p_households, p_today, true);
END;
$$;
