-- SPDX-License-Identifier: GPL-3.0-or-later
-- Events of tasks read their tasks by the span of the ids given (issue
-- 16's figures "opening 100 000 tasks in one call" and the first
-- scoring).
--
-- task_events() read its tasks with t.id = ANY (p_task_ids): where the
-- ids are many, the planner scans every task and tests each against the
-- array (an index scan would probe task_pkey once per id). The tasks a
-- call opens take one block of the sequence: their ids fill the range
-- from the least to the greatest, and the condition is then that range
-- alone (the test folds to true in the plan), an index scan of
-- task_pkey over it. Other sets of ids are read as before, within their
-- range. The first scoring's 20 calls, each for the
-- tasks of a chunk of 50 000 households, scanned every task opened
-- before (20 scans growing to 760 000 tasks), and the call of tools/bench
-- score that opens 100 000 tasks scanned 310 000.

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
