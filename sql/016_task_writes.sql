-- SPDX-License-Identifier: GPL-3.0-or-later
-- Opening tasks and writing scores with less work (issue 16's figures
-- "opening 100 000 tasks in one call", "rescore after an ingest of 10 000
-- signals", and the first scoring, which writes 915 000 scores and opens
-- 310 000 tasks).
--
-- Event ids in the order they are made. An event id was 'evt_' and 32
-- random hex digits: each new event entered task_event_event_id_key (and
-- the outbox's key) at a random leaf, so a call that opens many tasks
-- touched nearly every leaf of the index, each the first time after a
-- checkpoint with a full-page image. Now its first 14 hex digits are the
-- microseconds since 1970 (clock_timestamp()), the other 18 random (72
-- bits of random(), which the server seeds from a strong source per
-- session; an id is not a secret, and gen_random_uuid() took 2.5 times as
-- long per id): the same shape (evt_ and 32 hex digits; receivers
-- deduplicate on it and see nothing else change), unique as before (the
-- index still says so), and new ids go to the index's right edge.
--
-- tasks_sync() takes the ingest's lock itself. Every caller held it
-- already (013, "Keys"): the one who opens tasks is alone, so the insert
-- needs no ON CONFLICT and its speculative insertion per row.
--
-- task_created (created_at, read by the yearly report's ranges) becomes a
-- BRIN index: tasks are inserted in the order of created_at, and a BRIN
-- entry is updated once per 128 pages instead of a B-tree leaf per task.
--
-- Measured on copies of tools/bench score's database after a checkpoint,
-- against 015 in the same minutes (load 3.4 to 4.3, so the backend's CPU
-- time, not the wall clock): opening 100 000 tasks in one call, 4.50 and
-- 3.78 s before, 3.13 and 3.23 s after; 2 960 full-page images and 105 MB
-- of WAL before, 147 and 88 MB after. The first scoring of 1 000 000
-- households (bokvard --once), the CPU time of its backends: 35.4 s
-- before, 28.3 s after; 1.19 GB of WAL before, 1.08 GB after.

CREATE FUNCTION bokvar.event_id() RETURNS text
LANGUAGE sql VOLATILE PARALLEL SAFE AS $$
        SELECT 'evt_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000000)::bigint), 14, '0')
                      || lpad(to_hex((random() * 4503599627370496)::bigint), 13, '0')
                      || lpad(to_hex((random() * 1048576)::bigint), 5, '0')
$$;
REVOKE EXECUTE ON FUNCTION bokvar.event_id() FROM PUBLIC;

DROP INDEX bokvar.task_created;
CREATE INDEX task_created ON bokvar.task USING brin (created_at);

-- Scores. score_priority (class, next_deadline, score) served 003's order
-- of households; since 009 the order is priority_key() over the household
-- and its score, which no index of score serves, and nothing reads it.
-- Each score written entered it at a random leaf, and each rescore's
-- update, changing score and class, could not stay on its page (HOT).
-- Without it, and with room kept on new pages (fillfactor 85), a changed
-- score is a HOT update. Rescoring the 10 000 households of tools/bench
-- score's incremental step, after a checkpoint (load 4): 9 150 updates,
-- none HOT before and all HOT after; 18 467 full-page images and 148 MB
-- of WAL before, 16 841 and 123 MB after.
DROP INDEX bokvar.score_priority;
ALTER TABLE bokvar.score SET (fillfactor = 85);

-- 010's task_events(), its event ids from event_id(). The rest is 010's.
CREATE OR REPLACE FUNCTION bokvar.task_events(p_task_ids bigint[], p_kind text, p_by text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        send boolean := bokvar.event_is_sent(p_kind) AND EXISTS (SELECT 1 FROM bokvar.channel);
        n integer;
        sent integer;
BEGIN
        WITH e AS (
                INSERT INTO bokvar.task_event (task_id, event_id, kind, at, by, class, detail)
                SELECT t.id, bokvar.event_id(), p_kind, clock_timestamp(), p_by,
                       t.class, p_detail
                FROM bokvar.task t WHERE t.id = ANY (p_task_ids)
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

-- 013's tasks_sync(), under the ingest's lock, its insert without ON
-- CONFLICT. It reads the scores, open tasks and households of the range
-- the households given span: a merge over that range of each index where
-- the households are a contiguous run (a large scoring's chunk of 50 000),
-- where 013's read probed the indexes once per household, and the merge
-- with the households read household_pkey from its start up to the
-- chunk's last, again for every chunk (the first scoring's 20 chunks read
-- 10 million index entries for 310 000 tasks). The rest is 013's.
CREATE OR REPLACE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date) RETURNS void
LANGUAGE plpgsql SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan SET work_mem = '64MB' AS $$
DECLARE
        ids bigint[];
        lo bigint;
        hi bigint;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT min(u), max(u) INTO lo, hi FROM unnest(p_households) u;
        CREATE TEMP TABLE task_scope ON COMMIT DROP AS
        SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
               t.top_class
        FROM bokvar.score s
        LEFT JOIN bokvar.task t ON t.household_id = s.household_id AND t.status = 'open'
                                AND t.household_id BETWEEN lo AND hi
        WHERE s.household_id = ANY (p_households) AND s.household_id BETWEEN lo AND hi
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
                           WHERE p.household_id IN (SELECT household_id FROM new)
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


-- 006's purge (009 renamed it purge_run_households), its choice of
-- households first by the household's own date. 006 joined every
-- household with its score and with every task grouped by household, each
-- day: 2 to 4 s of a first scoring of 1 000 000 households (bokvard
-- --once purges as the daemon does daily), where nothing was due. The
-- same households are chosen (the household's date is the first of the
-- two that greatest() compares, so a household it keeps out was never
-- due; a household's tasks are all closed long enough ago exactly when
-- none is open or closed since); the same statement in a copy of that
-- database: 9.8 s before, 2.0 s after (load 7). The rest is 006's.
CREATE OR REPLACE FUNCTION bokvar.purge_run_households(p_today date) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        r bokvar.retention;
        c jsonb := '{}';
        n bigint;
        yr integer;
BEGIN
        -- No ingest matches a signal to a household while it is deleted.
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT * INTO r FROM bokvar.retention;

        -- A household is due when its last signal (or the nearest deadline
        -- still ahead) is older than the retention of signals, and it has
        -- no task, or none open and the last closed long enough ago (a
        -- task not open is closed, with its closing time: 004's CHECK).
        -- The household's own date comes first, so that only the
        -- households it lets through are looked up in scores and tasks.
        CREATE TEMP TABLE purge_home ON COMMIT DROP AS
        SELECT h.id, NOT EXISTS (SELECT 1 FROM bokvar.task t WHERE t.household_id = h.id) AS without_task
        FROM bokvar.household h
        LEFT JOIN bokvar.score s ON s.household_id = h.id
        WHERE coalesce(h.last_signal_at, h.created_at::date) < (p_today - r.signals_without_task)::date
          AND greatest(coalesce(h.last_signal_at, h.created_at::date), s.next_deadline)
                      < (p_today - r.signals_without_task)::date
          AND NOT EXISTS (SELECT 1 FROM bokvar.task t
                          WHERE t.household_id = h.id
                            AND (t.status = 'open' OR t.closed_at >= p_today - r.households_with_tasks));
        CREATE TEMP TABLE purge_task ON COMMIT DROP AS
        SELECT t.id FROM bokvar.task t JOIN purge_home p ON p.id = t.household_id;

        -- The years these households count in, with their figures now.
        CREATE TEMP TABLE purge_year ON COMMIT DROP AS
        SELECT x.y AS year, bokvar.report_parts(x.y) AS before
        FROM (SELECT DISTINCT extract(year FROM s.occurred_at)::integer FROM bokvar.signal s
              JOIN purge_home p ON p.id = s.household_id
              UNION SELECT extract(year FROM t.created_at)::integer FROM bokvar.task t JOIN purge_task x ON x.id = t.id
              UNION SELECT extract(year FROM t.closed_at)::integer FROM bokvar.task t JOIN purge_task x ON x.id = t.id
              WHERE t.closed_at IS NOT NULL) x(y);

        c := c || jsonb_build_object('households_without_task', (SELECT count(*) FROM purge_home WHERE without_task),
                                     'households_with_tasks', (SELECT count(*) FROM purge_home WHERE NOT without_task));

        DELETE FROM bokvar.outbox o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('outbox', n);
        DELETE FROM bokvar.contact o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('contact', n);
        DELETE FROM bokvar.task_event o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('task_event', n);
        DELETE FROM bokvar.task o USING purge_task x WHERE o.id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('task', n);
        DELETE FROM bokvar.score_history o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('score_history', n);
        DELETE FROM bokvar.score o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('score', n);
        -- Earlier versions may have been matched elsewhere: by household and
        -- by the signal they are versions of.
        DELETE FROM bokvar.signal_version v
        WHERE v.household_id IN (SELECT id FROM purge_home)
           OR (v.external_id, v.feed) IN (SELECT s.external_id, s.feed FROM bokvar.signal s
                                          JOIN purge_home p ON p.id = s.household_id);
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('signal_version', n);
        DELETE FROM bokvar.signal o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('signal', n);
        DELETE FROM bokvar.household_person o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('household_person', n);
        DELETE FROM bokvar.household o USING purge_home p WHERE o.id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('household', n);
        -- Who read them stays, for the access log's own time; why they said
        -- they did is free text, and goes with the household.
        UPDATE bokvar.access_log a SET reason = NULL FROM purge_home p WHERE a.household_id = p.id AND a.reason IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('access_log_reasons_cleared', n);

        DELETE FROM bokvar.quarantine WHERE last_seen_at < p_today - r.quarantine;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('quarantine', n);
        DELETE FROM bokvar.access_log WHERE at < p_today - r.access_log;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('access_log', n);
        DELETE FROM bokvar.audit_log WHERE at < p_today - r.audit_log;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('audit_log', n);

        -- What the deleted rows counted, kept per year.
        FOR yr IN SELECT year FROM purge_year ORDER BY year LOOP
                INSERT INTO bokvar.report_purged AS p (year, figures)
                SELECT yr, bokvar.report_combine(x.before, bokvar.report_parts(yr), -1) FROM purge_year x
                WHERE x.year = yr
                ON CONFLICT (year) DO UPDATE
                SET figures = bokvar.report_combine(p.figures, excluded.figures, 1), updated_at = now();
        END LOOP;

        DROP TABLE purge_home, purge_task, purge_year;
        RETURN c;
END;
$$;
