-- SPDX-License-Identifier: GPL-3.0-or-later
-- Opening many tasks reads a task's household and an event's task as a
-- range, and a household's evictions from their index alone (issue 16's
-- figures "opening 100 000 tasks in one call" and the first scoring).
--
-- 013's checks asked whether any inserted row lacks its household (or
-- task) with EXISTS (... NOT EXISTS ...). The planner plans an EXISTS for
-- its first row, so it chose the plan that starts cheapest: one probe of
-- household_pkey (task_pkey) per row, 100 000 index descents for 100 000
-- tasks (0.22 s and 0.18 s of that call; 0.72 s and 0.73 s of a first
-- scoring's). Now they count the rows that lack it, which the planner
-- plans for all rows, and the key is bounded by the least and greatest of
-- the statement's (a custom plan: the bounds are constants): the tasks a
-- scoring opens, or the events of the tasks it opened, are read against
-- that stretch of the index in one pass, a join of the two; a few rows are
-- still probed one by one. The same rows raise the same error. Measured
-- with auto_explain (one run each, this machine): 0.17 s and 0.07 s of the
-- 100 000 tasks' call, 0.37 s and 0.19 s of a first scoring's, the bounds
-- included.
--
-- signal_eviction carries the columns eviction_pending reads (kind, the
-- day, the date set): the view's window over a household's eviction
-- signals is read from the index without visiting the signals (an
-- index-only scan where the pages are all-visible, as vacuum leaves them).
-- Opening 100 000 tasks read 48 000 eviction signals from their pages in
-- 108-137 ms, from the index in 31-45 ms.

CREATE OR REPLACE FUNCTION bokvar.task_household_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated"
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        lo bigint;
        hi bigint;
BEGIN
        SELECT min(household_id), max(household_id) INTO lo, hi FROM task_new;
        IF (SELECT count(*) FROM task_new n
            WHERE NOT EXISTS (SELECT 1 FROM bokvar.household h
                              WHERE h.id = n.household_id AND h.id BETWEEN lo AND hi)) > 0 THEN
                RAISE EXCEPTION 'a task refers to a household that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION bokvar.event_task_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated"
SET plan_cache_mode = force_custom_plan AS $$
DECLARE
        lo bigint;
        hi bigint;
BEGIN
        SELECT min(task_id), max(task_id) INTO lo, hi FROM event_new;
        IF (SELECT count(*) FROM event_new n
            WHERE NOT EXISTS (SELECT 1 FROM bokvar.task t WHERE t.id = n.task_id AND t.id BETWEEN lo AND hi)) > 0 THEN
                RAISE EXCEPTION 'a task event refers to a task that does not exist'
                      USING ERRCODE = 'foreign_key_violation';
        END IF;
        RETURN NULL;
END;
$$;

CREATE INDEX signal_eviction_read ON bokvar.signal (household_id) INCLUDE (kind, occurred_at, deadline)
WHERE kind IN ('eviction_scheduled', 'eviction_cancelled', 'eviction_executed');
DROP INDEX bokvar.signal_eviction;
ALTER INDEX bokvar.signal_eviction_read RENAME TO signal_eviction;
