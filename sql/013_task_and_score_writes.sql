-- SPDX-License-Identifier: GPL-3.0-or-later
-- A task's household and an event's task, checked once per statement.
--
-- 004 made them foreign keys. A foreign key checks each inserted row on its
-- own, and locks the row it refers to (FOR KEY SHARE): a lock is a heap
-- write with its WAL record, on the household's page for each new task and
-- on the task just inserted for each of its events. Opening 100 000 tasks
-- in one call (tools/bench score's setup, auto_explain with log_triggers)
-- spent 2.0 s of 10.8 s in the household's check and 3.0 s in the task's,
-- and the backend's CPU time of the call was 7.6 and 8.1 s in two runs,
-- against 4.8 and 4.3 s with both checks gone (load 4.2). Signals and scores,
-- the larger tables, refer to households without a foreign key since 002.
--
-- The same rules hold now, each checked by an AFTER ... FOR EACH STATEMENT
-- trigger over the statement's transition table (one anti-join for all its
-- rows, foreign_key_violation as before): a task's household exists when
-- tasks are inserted or moved; an event's task exists when events are
-- written; no household with a task and no task with events is deleted.
-- What the row locks did for concurrency, the writers' own locks do:
-- every statement that inserts a task or changes its household
-- (tasks_sync, under the scoring of an ingest, a rescore, a merge or a
-- caseworker's correction; a merge) and every one that deletes a household
-- (the purge, a merge) holds the ingest's lock (7243155002); every writer
-- of a task's events has inserted or updated the task in its transaction
-- (a row lock), and only the purge deletes tasks, only closed ones, and
-- its check, run after it waited for such a lock, sees the events written
-- under it. A deleted household's check reads the tasks once for the
-- statement (004's key had no index on task.household_id, so it read them
-- once for each household deleted).
--
-- The checks are elevated (they see every row, whoever's statement fires
-- them) and nobody may call them.

ALTER TABLE bokvar.task DROP CONSTRAINT task_household_id_fkey;
ALTER TABLE bokvar.task_event DROP CONSTRAINT task_event_task_id_fkey;

CREATE FUNCTION bokvar.task_household_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF EXISTS (SELECT 1 FROM task_new n
                   WHERE NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = n.household_id)) THEN
                RAISE EXCEPTION 'a task refers to a household that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE FUNCTION bokvar.event_task_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF EXISTS (SELECT 1 FROM event_new n
                   WHERE NOT EXISTS (SELECT 1 FROM bokvar.task t WHERE t.id = n.task_id)) THEN
                RAISE EXCEPTION 'a task event refers to a task that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE FUNCTION bokvar.household_without_tasks() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF EXISTS (SELECT 1 FROM household_old o JOIN bokvar.task t ON t.household_id = o.id) THEN
                RAISE EXCEPTION 'a household that has tasks cannot be deleted'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE FUNCTION bokvar.task_without_events() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF EXISTS (SELECT 1 FROM task_old o JOIN bokvar.task_event e ON e.task_id = o.id) THEN
                RAISE EXCEPTION 'a task that has events cannot be deleted'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

-- A key that changes: rarely (a merge moves a household's tasks), so
-- checked row by row, and only where it changed. Ids are never renumbered.
CREATE FUNCTION bokvar.task_household_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = NEW.household_id) THEN
                RAISE EXCEPTION 'a task refers to a household that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE FUNCTION bokvar.event_task_moved() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM bokvar.task t WHERE t.id = NEW.task_id) THEN
                RAISE EXCEPTION 'a task event refers to a task that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE FUNCTION bokvar.id_renumbered() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        RAISE EXCEPTION 'the id of a % does not change', replace(TG_TABLE_NAME, '_', ' ')
              USING ERRCODE = 'foreign_key_violation';
END;
$$;

REVOKE EXECUTE ON FUNCTION bokvar.task_household_exists(), bokvar.event_task_exists(),
        bokvar.household_without_tasks(), bokvar.task_without_events(), bokvar.task_household_moved(),
        bokvar.event_task_moved(), bokvar.id_renumbered() FROM PUBLIC;

CREATE TRIGGER task_household AFTER INSERT ON bokvar.task
        REFERENCING NEW TABLE AS task_new FOR EACH STATEMENT EXECUTE FUNCTION bokvar.task_household_exists();
CREATE TRIGGER task_household_moved AFTER UPDATE OF household_id ON bokvar.task
        FOR EACH ROW WHEN (OLD.household_id IS DISTINCT FROM NEW.household_id) EXECUTE FUNCTION bokvar.task_household_moved();
CREATE TRIGGER event_task AFTER INSERT ON bokvar.task_event
        REFERENCING NEW TABLE AS event_new FOR EACH STATEMENT EXECUTE FUNCTION bokvar.event_task_exists();
CREATE TRIGGER event_task_moved AFTER UPDATE OF task_id ON bokvar.task_event
        FOR EACH ROW WHEN (OLD.task_id IS DISTINCT FROM NEW.task_id) EXECUTE FUNCTION bokvar.event_task_moved();
CREATE TRIGGER household_deleted AFTER DELETE ON bokvar.household
        REFERENCING OLD TABLE AS household_old FOR EACH STATEMENT EXECUTE FUNCTION bokvar.household_without_tasks();
CREATE TRIGGER household_renumbered AFTER UPDATE OF id ON bokvar.household
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION bokvar.id_renumbered();
CREATE TRIGGER task_deleted AFTER DELETE ON bokvar.task
        REFERENCING OLD TABLE AS task_old FOR EACH STATEMENT EXECUTE FUNCTION bokvar.task_without_events();
CREATE TRIGGER task_renumbered AFTER UPDATE OF id ON bokvar.task
        FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id) EXECUTE FUNCTION bokvar.id_renumbered();

-- 010's tasks_sync(), which read every household in scope three times
-- (its score, the household, an open task): a household below outreach
-- without an open task has nothing to follow, so only the others are kept
-- in task_scope, and the household (its children) is read for the new
-- tasks alone. A first scoring of 1 000 000 households, 310 000 of them
-- given a task, read the households 915 000 times for it; now 310 000.
-- Its sorts and hashes of up to a chunk of households (50 000; the 100 000
-- tasks' call spilled two sorts to disk) get the memory to stay in memory.
-- The rest is 010's.
CREATE OR REPLACE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date) RETURNS void
LANGUAGE plpgsql SET random_page_cost = 1.1 SET plan_cache_mode = force_custom_plan SET work_mem = '64MB' AS $$
DECLARE
        ids bigint[];
BEGIN
        CREATE TEMP TABLE task_scope ON COMMIT DROP AS
        SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
               t.top_class
        FROM (SELECT DISTINCT u FROM unnest(p_households) u) x(id)
        JOIN bokvar.score s ON s.household_id = x.id
        LEFT JOIN bokvar.task t ON t.household_id = x.id AND t.status = 'open'
        WHERE t.id IS NOT NULL OR s.class IN ('outreach', 'urgent');
        ANALYZE task_scope;

        -- New tasks, routed and assigned to whoever in the team has the
        -- fewest open tasks, counting the ones this call hands out (each
        -- caseworker's load n, n+1, n+2, ... are slots; the team's new
        -- tasks take its lowest slots in turn). A concurrent creator of the
        -- same household's task makes this one skip it (the unique index
        -- decides).
        WITH new AS (
                SELECT sc.household_id, sc.class, sc.score, sc.next_deadline, h.children, r.team
                FROM task_scope sc
                JOIN bokvar.household h ON h.id = sc.household_id
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
                ON CONFLICT (household_id) WHERE status = 'open' DO NOTHING
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

-- ---------------------------------------------------------------------
-- Statistics the planner can trust before a large scoring. A table whose
-- statistics say it has no rows while it has pages (a vacuum after a
-- rolled-back load leaves it so: a fetch killed mid-ingest, say) is
-- planned as empty, however many rows it holds: a first scoring of
-- 1 000 000 households in such a database (tools/bench score's, its
-- reltuples set to 0) had done 150 000 households after 5 minutes, where
-- it takes under a minute. So is a table that has grown far past what its
-- statistics saw, as an ingest's own uncommitted rows make it (autovacuum
-- sees them only after the commit). Such tables are analyzed in the
-- caller's transaction (ANALYZE counts the transaction's own rows), which
-- a rollback undoes with the rest. Returns how many were analyzed.
CREATE FUNCTION bokvar.stats_refresh(p_tables regclass[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        t regclass;
        n integer := 0;
BEGIN
        FOR t IN SELECT c.oid::regclass FROM pg_catalog.pg_class c
                 WHERE c.oid = ANY (p_tables)
                   AND pg_catalog.pg_relation_size(c.oid) / current_setting('block_size')::integer
                       > CASE WHEN c.reltuples <= 0 THEN 10 ELSE 2 * c.relpages + 1000 END
                 ORDER BY c.oid
        LOOP
                EXECUTE format('ANALYZE %s', t);
                n := n + 1;
        END LOOP;
        RETURN n;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.stats_refresh(regclass[]) FROM PUBLIC;

-- ---------------------------------------------------------------------
-- 010's score_apply(), whose writes were one INSERT ... ON CONFLICT DO
-- UPDATE: a speculative insertion for every score, new or not. The
-- comparison already knows which households have a stored score, so the
-- stored ones are updated and the new ones inserted, each a plain
-- statement: 915 000 scores written both ways into an empty copy of the
-- score table took 7.7 and 6.1 s with ON CONFLICT, 4.5 and 4.4 s without
-- (load 3 to 4.5). A plain INSERT may meet a score another session wrote
-- meanwhile only if that session scored without the ingest's lock, which
-- no writer of scores does: score_apply takes it too (callers have it:
-- a second take in one transaction is free). The explanation and scored_at
-- change where the comparison said the explanation did
-- (explained_differently: 010's CASE, compared once). The rest is 010's.
CREATE OR REPLACE FUNCTION bokvar.score_apply(p_households bigint[], p_today date DEFAULT current_date) RETURNS integer
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
                $q$, v, bokvar.score_sql(v, p_households IS NOT NULL, explained),
                CASE WHEN p_households IS NULL THEN 'SELECT * FROM bokvar.score'
                     ELSE 'SELECT x.* FROM (SELECT DISTINCT u FROM unnest($1) u) h(id) '
                          'JOIN bokvar.score x ON x.household_id = h.id' END)
                USING p_households, p_today;
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
