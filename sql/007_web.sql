-- SPDX-License-Identifier: GPL-3.0-or-later
-- The caseworkers' web (bokvar-web): what its pages read and what they do.
--
-- bokvar-web connects as a login of this database's web group role and
-- begins every page's transaction with bokvar.web_actor(login), which
-- states whom it acts for (bokvar.act_for); everything after runs under
-- that person's row-level security. The reads are SECURITY DEFINER
-- functions with bokvar.elevated off (held to the person's rows), granted
-- to the web role only; the actions are granted to caseworkers and
-- coordinators, who may call them from any client.
--
-- Also here: notices registered by hand (bokvar.signal_register), entered
-- through the feeds' own ingest with source manual; the number of children
-- as a caseworker corrects it; a task's follow-up date, reassignment and
-- hand-over; and the worklist's order kept on the task itself, so that a
-- page of it is read from one index.

ALTER TYPE bokvar.feed_source ADD VALUE 'manual';

-- ---------------------------------------------------------------------
-- The worklist's order, on the task: class, households with children, the
-- nearest deadline, the score (bokvar.worklist's order). household_children
-- follows the household's children: set when a task opens, and by every
-- ingest (ingest_done below) and correction that changes it.

ALTER TABLE bokvar.task ADD COLUMN household_children integer NOT NULL DEFAULT 0 CHECK (household_children >= 0);
ALTER TABLE bokvar.task ADD COLUMN follow_up date;
UPDATE bokvar.task t SET household_children = h.children FROM bokvar.household h
WHERE h.id = t.household_id AND t.status = 'open' AND h.children > 0;
CREATE INDEX task_worklist ON bokvar.task (team, class DESC, (household_children > 0) DESC, deadline ASC NULLS LAST,
                                           score DESC, id)
        WHERE status = 'open';

CREATE FUNCTION bokvar.task_children() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
        NEW.household_children := coalesce((SELECT h.children FROM bokvar.household h WHERE h.id = NEW.household_id),
                                           0);
        RETURN NEW;
END;
$$;

CREATE TRIGGER task_children
        BEFORE INSERT ON bokvar.task
        FOR EACH ROW EXECUTE FUNCTION bokvar.task_children();

-- An ingest scores the households it touched, and their open tasks take
-- the number of children the signals gave.
CREATE OR REPLACE FUNCTION bokvar.ingest_done() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM bokvar.score_apply(ARRAY(SELECT DISTINCT household_id FROM pg_temp.ingest_home), current_date);
        UPDATE bokvar.task t SET household_children = coalesce(h.children, 0)
        FROM pg_temp.ingest_home_facts f
        JOIN bokvar.household h ON h.id = f.household_id
        WHERE f.children IS NOT NULL AND t.household_id = f.household_id AND t.status = 'open'
          AND t.household_children <> coalesce(h.children, 0);
END;
$$;

ALTER TABLE bokvar.task_event DROP CONSTRAINT task_event_kind_check;
ALTER TABLE bokvar.task_event ADD CONSTRAINT task_event_kind_check
        CHECK (kind IN ('created', 'escalated', 'risk_lowered', 'overdue', 'acknowledged', 'contacted', 'closed',
                        'follow_up', 'reassigned', 'handed_over', 'children_corrected'));

-- A notice registered by hand is a fetch of the manual feed, by a person.
ALTER TABLE bokvar.fetch ADD COLUMN entered_by text;

-- The number of children as caseworkers corrected it: who, when, the value
-- before and after, why. Goes with its household.
CREATE TABLE bokvar.children_correction (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        household_id bigint NOT NULL REFERENCES bokvar.household (id) ON DELETE CASCADE,
        at timestamptz NOT NULL DEFAULT now(),
        by text NOT NULL,
        old_children integer,
        new_children integer NOT NULL CHECK (new_children >= 0),
        note text CHECK (length(note) <= 2000)
);
CREATE INDEX children_correction_household ON bokvar.children_correction (household_id, at);
ALTER TABLE bokvar.children_correction ENABLE ROW LEVEL SECURITY;
ALTER TABLE bokvar.children_correction FORCE ROW LEVEL SECURITY;
CREATE POLICY system ON bokvar.children_correction
        USING (bokvar.session_is_system() OR (SELECT bokvar.elevated()))
        WITH CHECK (bokvar.session_is_system() OR (SELECT bokvar.elevated()));
CREATE POLICY team ON bokvar.children_correction FOR SELECT
        USING ((SELECT bokvar.actor_function()) = 'coordinator' OR household_id IN (SELECT x.household_id FROM bokvar.task x));

-- ---------------------------------------------------------------------
-- Who is asking: the first statement of every page.

-- States that the web service acts for p_login in this transaction (an
-- error, 42501, when bokvar does not know that person) and says what they
-- are: their function and, for a caseworker, their teams (comma-separated;
-- team names hold no comma). act_for has checked the login: reading its
-- own actor row is all this does besides.
CREATE FUNCTION bokvar.web_actor(p_login text, OUT function text, OUT teams text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        PERFORM bokvar.act_for(p_login);
        SELECT a.function::text, array_to_string(a.teams, ',') INTO function, teams
        FROM bokvar.actor a WHERE a.login = p_login;
END;
$$;

-- What the actor is, for the functions below: one lookup of the session's
-- actor where bokvar.actor_function() and bokvar.actor_teams() would each
-- make their own.
CREATE FUNCTION bokvar.web_me(OUT coordinator boolean, OUT teams text[])
LANGUAGE sql STABLE AS $$
        SELECT coalesce(a.function = 'coordinator', false),
               coalesce(CASE WHEN a.function = 'caseworker' THEN a.teams END, '{}')
        FROM (SELECT bokvar.current_actor()) me(login) LEFT JOIN bokvar.actor a ON a.login = me.login
$$;

-- Every team, with its caseworkers (comma-separated) and whether the actor
-- sees its tasks: the worklist's filters and where a task can go.
CREATE FUNCTION bokvar.web_teams() RETURNS TABLE (name text, caseworkers text, visible boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        RETURN QUERY
        SELECT t.name, array_to_string(t.caseworkers, ','), me.coordinator OR t.name = ANY (me.teams)
        FROM bokvar.web_me() me, bokvar.team t
        ORDER BY t.position;
END;
$$;

-- ---------------------------------------------------------------------
-- The worklist: a page of the open tasks the actor sees, in priority
-- order, filtered by team, assignee and class. Each team's tasks come in
-- order from task_worklist, so a page costs its rows, not the backlog.
-- Only the teams whose tasks the actor sees are walked (row-level
-- security decides what is shown either way; an index walk through a team
-- whose every row it hides would read the whole team to show nothing).
CREATE FUNCTION bokvar.web_worklist(p_team text, p_assignee text, p_class bokvar.risk_class, p_offset integer,
                                    p_limit integer)
RETURNS TABLE (task_id bigint, household_id bigint, team text, assignee text, class bokvar.risk_class, score integer,
               children integer, deadline date, days_left integer, due date, overdue boolean, acknowledged boolean,
               contacted boolean, follow_up date)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
AS $$
#variable_conflict use_column
BEGIN
        RETURN QUERY
        SELECT k.id, k.household_id, k.team, k.assignee, k.class, k.score, k.household_children, k.deadline,
               k.deadline - current_date, k.due, k.due < current_date, k.acknowledged_at IS NOT NULL,
               k.first_contact_at IS NOT NULL, k.follow_up
        FROM bokvar.web_me() me
        CROSS JOIN LATERAL (SELECT t.name FROM bokvar.team t WHERE t.name = ANY (me.teams) OR me.coordinator
                            UNION ALL SELECT 'unrouted' WHERE me.coordinator) tm(name)
        CROSS JOIN LATERAL (
                SELECT x.* FROM bokvar.task x
                WHERE x.team = tm.name AND x.status = 'open'
                  AND (p_assignee IS NULL OR x.assignee = p_assignee) AND (p_class IS NULL OR x.class = p_class)
                ORDER BY x.class DESC, x.household_children > 0 DESC, x.deadline ASC NULLS LAST, x.score DESC, x.id
                LIMIT p_offset + p_limit) k
        WHERE p_team IS NULL OR tm.name = p_team
        ORDER BY k.class DESC, k.household_children > 0 DESC, k.deadline ASC NULLS LAST, k.score DESC, k.id
        OFFSET p_offset LIMIT p_limit;
END;
$$;

-- The household of a task the actor sees; 42501 for any other.
CREATE FUNCTION bokvar.web_task_household(p_task bigint) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        h bigint;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'see a task', false);
        SELECT t.household_id INTO h FROM bokvar.task t WHERE t.id = p_task;
        IF h IS NULL THEN
                RAISE EXCEPTION 'there is no task % that you may see', p_task USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN h;
END;
$$;

-- ---------------------------------------------------------------------
-- The household page. web_household_open checks that the actor may see
-- the household, writes the access-log row and marks the household read
-- in this transaction; the functions that read its personal data refuse
-- unless it was (web_household_read), so that no read goes unlogged.

CREATE FUNCTION bokvar.web_household_read(p_household bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
        IF coalesce(current_setting('bokvar.web_read', true), '') <> txid_current()::text || ':' || p_household THEN
                RAISE EXCEPTION 'household % was not opened (and logged) in this transaction', p_household
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
END;
$$;

-- The household as a whole: its facts, its address as the latest signal
-- gave it, its open task. Logs the read.
CREATE FUNCTION bokvar.web_household_open(p_household bigint)
RETURNS TABLE (household_id bigint, children integer, children_at date, postal_code text, city text, landlord text,
               address text, apartment text, first_signal_at date, last_signal_at date, open_task bigint)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
        h bokvar.household;
        t bigint;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'see a household', false);
        SELECT * INTO h FROM bokvar.household x WHERE x.id = p_household;
        IF h.id IS NULL THEN
                RAISE EXCEPTION 'there is no household % that you may see', p_household
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT x.id INTO t FROM bokvar.task x WHERE x.household_id = p_household AND x.status = 'open';
        PERFORM bokvar.access_logged(p_household, t, 'web.household', NULL);
        PERFORM set_config('bokvar.web_read', txid_current()::text || ':' || p_household, true);
        RETURN QUERY
        SELECT h.id, h.children, h.children_at, h.postal_code, h.city, h.landlord, a.address, a.apartment,
               h.first_signal_at, h.last_signal_at, t
        FROM (SELECT NULL) x
        LEFT JOIN LATERAL (SELECT s.address, s.apartment FROM bokvar.signal s
                           WHERE s.household_id = p_household AND s.address IS NOT NULL
                           ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1) a ON true;
END;
$$;

-- Who lives there: every identity number known for the household, with
-- the name the latest signal about that person gave (NULL: unknown).
CREATE FUNCTION bokvar.web_household_persons(p_household bigint)
RETURNS TABLE (person_id text, name text, last_seen date)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT p.person_id::text, n.name, n.occurred_at
        FROM bokvar.household_person p
        LEFT JOIN LATERAL (SELECT s.name, s.occurred_at FROM bokvar.signal s
                           WHERE s.household_id = p_household AND s.person_id = p.person_id
                           ORDER BY s.name IS NULL, s.occurred_at DESC, s.id DESC LIMIT 1) n ON true
        WHERE p.household_id = p_household
        ORDER BY p.person_id;
END;
$$;

-- Every signal about the household, newest first, with where it came from
-- (a feed, or who registered it by hand).
CREATE FUNCTION bokvar.web_household_signals(p_household bigint)
RETURNS TABLE (signal_id bigint, occurred_at date, kind bokvar.signal_kind, source bokvar.feed_source, feed text,
               entered_by text, deadline date, name text, amount numeric, months_in_arrears integer,
               children integer, landlord text, received_at timestamptz, version integer)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT s.id, s.occurred_at, s.kind, s.source, s.feed::text, f.entered_by, s.deadline, s.name, s.amount,
               s.months_in_arrears, s.children, s.landlord, s.received_at, s.version
        FROM bokvar.signal s LEFT JOIN bokvar.fetch f ON f.id = s.fetch_id AND s.feed = 'manual'
        WHERE s.household_id = p_household
        ORDER BY s.occurred_at DESC, s.id DESC;
END;
$$;

-- The score now, rule by rule: what each rule says, the points it gave and
-- the signals it fired on (their ids, comma-separated), with the class,
-- the total and the ruleset version on every row (one row with rule NULL
-- when no rule fired).
CREATE FUNCTION bokvar.web_household_score(p_household bigint)
RETURNS TABLE (score integer, class bokvar.risk_class, ruleset_version integer, scored_at timestamptz, as_of date,
               next_deadline date, rule text, description text, points integer, signals text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT s.score, s.class, s.ruleset_version, s.scored_at, s.as_of, s.next_deadline, e ->> 'rule',
               e ->> 'description', (e ->> 'points')::integer,
               (SELECT string_agg(i, ',') FROM jsonb_array_elements_text(e -> 'signals') i)
        FROM bokvar.score s
        LEFT JOIN LATERAL jsonb_array_elements(s.explanation) WITH ORDINALITY x(e, n) ON true
        WHERE s.household_id = p_household
        ORDER BY x.n;
END;
$$;

-- The score's history: each differing score, newest first, with the rules
-- that gave it.
CREATE FUNCTION bokvar.web_household_history(p_household bigint)
RETURNS TABLE (scored_at timestamptz, as_of date, score integer, class bokvar.risk_class, ruleset_version integer,
               rules text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT h.scored_at, h.as_of, h.score, h.class, h.ruleset_version,
               (SELECT string_agg((e ->> 'rule') || ' ' || (e ->> 'points'), ', ')
                FROM jsonb_array_elements(h.explanation) e)
        FROM bokvar.score_history h WHERE h.household_id = p_household
        ORDER BY h.scored_at DESC LIMIT 100;
END;
$$;

-- The household's tasks the actor sees, the open one first.
CREATE FUNCTION bokvar.web_household_tasks(p_household bigint)
RETURNS TABLE (task_id bigint, status text, team text, assignee text, class bokvar.risk_class, score integer,
               deadline date, due date, overdue boolean, follow_up date, created_at timestamptz,
               acknowledged_at timestamptz, acknowledged_by text, first_contact_at timestamptz, closed_at timestamptz,
               closed_by text, outcome bokvar.task_outcome, note text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT t.id, t.status, t.team, t.assignee, t.class, t.score, t.deadline, t.due,
               t.status = 'open' AND t.due < current_date, t.follow_up, t.created_at, t.acknowledged_at,
               t.acknowledged_by, t.first_contact_at, t.closed_at, t.closed_by, t.outcome, t.note
        FROM bokvar.task t WHERE t.household_id = p_household
        ORDER BY t.status = 'open' DESC, t.created_at DESC;
END;
$$;

-- What happened to those tasks, and the contacts made, oldest first.
CREATE FUNCTION bokvar.web_household_events(p_household bigint)
RETURNS TABLE (task_id bigint, at timestamptz, kind text, by text, class bokvar.risk_class, channel text,
               reached boolean, outcome text, follow_up text, from_value text, to_value text, note text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT e.task_id, e.at, e.kind, e.by, e.class, coalesce(c.channel::text, e.detail ->> 'channel'),
               coalesce(c.reached, (e.detail ->> 'reached')::boolean), e.detail ->> 'outcome', e.detail ->> 'date',
               coalesce(e.detail ->> 'from', e.detail ->> 'from_team'), coalesce(e.detail ->> 'to', e.detail ->> 'to_team'),
               coalesce(c.note, e.detail ->> 'reason', e.detail ->> 'note')
        FROM bokvar.task_event e
        JOIN bokvar.task t ON t.id = e.task_id
        LEFT JOIN LATERAL (SELECT x.channel, x.reached, x.note FROM bokvar.contact x
                           WHERE e.kind = 'contacted' AND x.task_id = e.task_id AND x.at <= e.at
                           ORDER BY x.at DESC, x.id DESC LIMIT 1) c ON true
        WHERE t.household_id = p_household
        ORDER BY e.at, e.id;
END;
$$;

-- Corrections of the number of children.
CREATE FUNCTION bokvar.web_household_corrections(p_household bigint)
RETURNS TABLE (at timestamptz, by text, old_children integer, new_children integer, note text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.web_household_read(p_household);
        RETURN QUERY
        SELECT c.at, c.by, c.old_children, c.new_children, c.note FROM bokvar.children_correction c
        WHERE c.household_id = p_household ORDER BY c.at DESC, c.id DESC;
END;
$$;

-- ---------------------------------------------------------------------
-- More of what caseworkers do with a task: the actor from the session.
-- Each checks the task is one the actor may act on (their team's, open)
-- as bokvar.task_ack does, and records an event. A value that is wrong is
-- refused with 22023 and the parameter's name (without p_) in COLUMN, so
-- that a form can say which field.

-- The open task p_task, locked, if the actor may act on it: as
-- bokvar.task_ack says it, 22023 for a task of theirs that is closed,
-- P0002 for a task they do not see.
CREATE FUNCTION bokvar.task_for_action(p_task bigint) RETURNS bokvar.task
LANGUAGE plpgsql AS $$
DECLARE
        t bokvar.task;
BEGIN
        SELECT * INTO t FROM bokvar.task WHERE id = p_task AND status = 'open' FOR UPDATE;
        IF NOT FOUND THEN
                IF EXISTS (SELECT 1 FROM bokvar.task WHERE id = p_task) THEN
                        RAISE EXCEPTION 'task % is closed', p_task USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        RETURN t;
END;
$$;

CREATE FUNCTION bokvar.task_follow_up(p_task bigint, p_date date, p_note text DEFAULT NULL) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'set a follow-up date', false);
        t bokvar.task := bokvar.task_for_action(p_task);
BEGIN
        PERFORM bokvar.check_text('the note', p_note, 2000);
        IF p_date IS NULL OR p_date < current_date OR p_date > current_date + 366 THEN
                RAISE EXCEPTION 'a follow-up date is today or later, within a year'
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'date';
        END IF;
        UPDATE bokvar.task SET follow_up = p_date WHERE id = p_task RETURNING * INTO t;
        PERFORM bokvar.task_events(ARRAY[p_task], 'follow_up', who,
                                   jsonb_strip_nulls(jsonb_build_object('date', p_date, 'note', p_note)));
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (who, 'task.follow_up', p_task::text, jsonb_build_object('date', p_date, 'session_user', session_user));
        RETURN t;
END;
$$;

-- To another caseworker of the task's team.
CREATE FUNCTION bokvar.task_reassign(p_task bigint, p_assignee text, p_reason text DEFAULT NULL) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'reassign a task', false);
        t bokvar.task := bokvar.task_for_action(p_task);
        before text := t.assignee;
BEGIN
        PERFORM bokvar.check_text('the reason', p_reason, 2000);
        IF NOT EXISTS (SELECT 1 FROM bokvar.team m WHERE m.name = t.team AND p_assignee = ANY (m.caseworkers)) THEN
                RAISE EXCEPTION '% is not a caseworker of team %', p_assignee, t.team
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'assignee';
        END IF;
        UPDATE bokvar.task SET assignee = p_assignee WHERE id = p_task RETURNING * INTO t;
        PERFORM bokvar.task_events(ARRAY[p_task], 'reassigned', who,
                                   jsonb_strip_nulls(jsonb_build_object('from', before, 'to', p_assignee,
                                                                        'reason', p_reason)));
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (who, 'task.reassign', p_task::text,
                jsonb_strip_nulls(jsonb_build_object('from', before, 'to', p_assignee, 'session_user', session_user)));
        RETURN t;
END;
$$;

-- Moves the task to another team; the new team's caseworkers take it from
-- there (no assignee). The actor then no longer sees it, which row-level
-- security would refuse to write: the move itself runs elevated, after
-- task_hand_over has checked as the actor.
CREATE FUNCTION bokvar.task_move_team(p_task bigint, p_team text, p_who text, p_reason text) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        t bokvar.task;
        before text;
BEGIN
        SELECT team INTO before FROM bokvar.task WHERE id = p_task;
        UPDATE bokvar.task SET team = p_team, assignee = NULL WHERE id = p_task RETURNING * INTO t;
        PERFORM bokvar.task_events(ARRAY[p_task], 'handed_over', p_who,
                                   jsonb_build_object('from_team', before, 'to_team', p_team, 'reason', p_reason));
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_who, 'task.hand_over', p_task::text,
                jsonb_build_object('from_team', before, 'to_team', p_team, 'session_user', session_user));
        RETURN t;
END;
$$;

CREATE FUNCTION bokvar.task_hand_over(p_task bigint, p_team text, p_reason text) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'hand a task over to another team', false);
        t bokvar.task := bokvar.task_for_action(p_task);
BEGIN
        IF btrim(coalesce(p_reason, '')) = '' THEN
                RAISE EXCEPTION 'handing a task over needs a reason'
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'reason';
        END IF;
        PERFORM bokvar.check_text('the reason', p_reason, 2000);
        IF NOT EXISTS (SELECT 1 FROM bokvar.team m WHERE m.name = p_team) THEN
                RAISE EXCEPTION 'there is no team %', p_team USING ERRCODE = 'invalid_parameter_value', COLUMN = 'team';
        END IF;
        IF p_team = t.team THEN
                RAISE EXCEPTION 'task % is already team %''s', p_task, p_team
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'team';
        END IF;
        RETURN bokvar.task_move_team(p_task, p_team, who, p_reason);
END;
$$;

-- The number of children a caseworker found, over what the signals said:
-- kept, with the value before, as of today (a later signal that says
-- otherwise counts again). The household is scored anew, and its open
-- task follows (elevated: scores and households are the system's to write,
-- after household_children_correct has checked as the actor).
CREATE FUNCTION bokvar.household_children_set(p_household bigint, p_children integer, p_who text, p_note text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        before integer;
        t bigint;
BEGIN
        SELECT children INTO before FROM bokvar.household WHERE id = p_household FOR UPDATE;
        INSERT INTO bokvar.children_correction (household_id, by, old_children, new_children, note)
        VALUES (p_household, p_who, before, p_children, p_note);
        UPDATE bokvar.household SET children = p_children, children_at = current_date, updated_at = now()
        WHERE id = p_household;
        UPDATE bokvar.task SET household_children = p_children WHERE household_id = p_household AND status = 'open'
        RETURNING id INTO t;
        PERFORM bokvar.score_apply(ARRAY[p_household], current_date);
        IF t IS NOT NULL THEN
                PERFORM bokvar.task_events(ARRAY[t], 'children_corrected', p_who,
                                           jsonb_strip_nulls(jsonb_build_object('from', before::text, 'to', p_children::text,
                                                                                'note', p_note)));
        END IF;
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_who, 'household.children', p_household::text,
                jsonb_build_object('from', before, 'to', p_children, 'session_user', session_user));
END;
$$;

CREATE FUNCTION bokvar.household_children_correct(p_household bigint, p_children integer, p_note text DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'correct the number of children', false);
BEGIN
        IF p_children IS NULL OR p_children < 0 OR p_children > 30 THEN
                RAISE EXCEPTION 'the number of children is a whole number from 0 to 30'
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'children';
        END IF;
        PERFORM bokvar.check_text('the note', p_note, 2000);
        IF NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = p_household) THEN
                RAISE EXCEPTION 'there is no household % that you may see', p_household
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM bokvar.household_children_set(p_household, p_children, who, p_note);
END;
$$;

-- ---------------------------------------------------------------------
-- Notices registered by hand: a letter from a landlord, an e-mail from the
-- enforcement agency. One entry point for every client (bokvar-web now,
-- `bokvarctl signal add` later): the fields as typed, validated exactly as
-- a feed's row is, by the feed's own ingest (bokvar.ingest_rows), matched,
-- scored and given a task the same way, with source manual.

-- The manual feed's mapping: each canonical field at its own key; dates as
-- YYYY-MM-DD (what a date field sends), amounts the Nordic way (12 345,50).
CREATE FUNCTION bokvar.signal_mapping() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT jsonb_build_object('source', 'manual', 'format', 'json', 'decimal_comma', true,
                                  'date_format', 'YYYY-MM-DD',
                                  'fields', (SELECT jsonb_object_agg(f, jsonb_build_object('path', jsonb_build_array(f)))
                                             FROM unnest(bokvar.canonical_fields()) f))
$$;

-- Why the signal p_signal was refused, field by field: each field that was
-- given is tried alone in a row that is otherwise valid, through the same
-- ingest, in a subtransaction rolled back afterwards. A refusal that no
-- single field explains (nothing to match the home by) is given with field
-- NULL.
CREATE FUNCTION bokvar.signal_problems(p_signal jsonb, p_whole text)
RETURNS TABLE (field text, problem text)
LANGUAGE plpgsql SET client_min_messages = warning AS $$
#variable_conflict use_column
DECLARE
        base jsonb := jsonb_build_object('kind', 'arrears', 'occurred_at', to_char(current_date, 'YYYY-MM-DD'),
                                         'address', 'x', 'postal_code', '0');
        fid bigint;
        found jsonb := '{}';
BEGIN
        BEGIN
                PERFORM bokvar.ingest_cleanup();
                INSERT INTO bokvar.fetch (feed, url, started_at) VALUES ('manual', 'manual', now()) RETURNING id INTO fid;
                CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text)
                        ON COMMIT DROP;
                -- One row per field given (blank is not given, as in a feed's
                -- row); a required field left out is tried as empty.
                INSERT INTO stage (seq, doc)
                SELECT row_number() OVER (ORDER BY k)::integer,
                       base || jsonb_build_object(k, v, 'external_id', k)
                FROM (SELECT key, value FROM jsonb_each(p_signal)
                      WHERE jsonb_typeof(value) = 'string' AND (btrim(value #>> '{}') <> '' OR key IN ('kind', 'occurred_at'))
                      UNION ALL
                      SELECT r, '""' FROM unnest(ARRAY['kind', 'occurred_at']) r WHERE NOT p_signal ? r) x(k, v);
                PERFORM bokvar.ingest_rows('manual', bokvar.signal_mapping(), NULL, fid, current_date);
                SELECT coalesce(jsonb_object_agg(r.external_id, regexp_replace(r.problem, '^person_id: ', '')), '{}')
                INTO found
                FROM pg_temp.ingest_row r WHERE r.problem <> '';
                RAISE EXCEPTION USING ERRCODE = 'BVPRB';
        EXCEPTION WHEN SQLSTATE 'BVPRB' THEN
                NULL;
        END;
        IF found = '{}' THEN
                RETURN QUERY SELECT NULL::text, p_whole;
        ELSE
                RETURN QUERY SELECT key, value FROM jsonb_each_text(found) ORDER BY key;
        END IF;
END;
$$;

-- Registers a notice: p_signal holds its fields as text, under the names
-- of the canonical fields (kind, occurred_at, deadline, person_id, name,
-- address, postal_code, city, apartment, children, amount,
-- months_in_arrears, landlord). Either one row with the new signal, its
-- household, and the household's open task and its team (if any), or one
-- row per field that is wrong (field NULL for what is wrong with the whole)
-- and nothing stored. p_check_only: only the mistakes, nothing stored
-- either way (a form that has others already). Elevated: matching must see
-- every household, as a feed's ingest does.
CREATE FUNCTION bokvar.signal_register(p_signal jsonb, p_check_only boolean DEFAULT false)
RETURNS TABLE (signal_id bigint, household_id bigint, task_id bigint, team text, field text, problem text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated"
SET client_min_messages = warning AS $$
#variable_conflict use_column
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'register a notice', false);
        allowed text[] := array_remove(bokvar.canonical_fields(), 'external_id');
        fid bigint;
        sid bigint;
        hid bigint;
        whole text;
        r record;
BEGIN
        IF jsonb_typeof(p_signal) IS DISTINCT FROM 'object' THEN
                RAISE EXCEPTION 'a notice is a JSON object of its fields' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        RETURN QUERY
        SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, k.key,
               CASE WHEN NOT k.key = ANY (allowed) THEN 'is not a field of a notice' ELSE 'is not text' END
        FROM jsonb_each(p_signal) k
        WHERE NOT k.key = ANY (allowed) OR jsonb_typeof(k.value) NOT IN ('string', 'null')
        ORDER BY k.key;
        IF FOUND THEN
                RETURN;
        END IF;

        INSERT INTO bokvar.feed (name, source) VALUES ('manual', 'manual') ON CONFLICT (name) DO NOTHING;
        PERFORM 1 FROM bokvar.feed f WHERE f.name = 'manual' AND f.source = 'manual' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'feed "manual" is not the feed of notices registered by hand; rename that feed'
                        USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;

        BEGIN
                PERFORM bokvar.ingest_cleanup();
                INSERT INTO bokvar.fetch (feed, url, started_at, entered_by) VALUES ('manual', 'manual', now(), who)
                RETURNING id INTO fid;
                CREATE TEMP TABLE stage (seq integer, line integer, fields text[], doc jsonb, raw text, error text)
                        ON COMMIT DROP;
                INSERT INTO stage (seq, doc)
                VALUES (1, jsonb_strip_nulls(p_signal) || jsonb_build_object('external_id', 'manual-' || fid));
                SELECT * INTO r FROM bokvar.ingest_rows('manual', bokvar.signal_mapping(), NULL, fid, current_date);
                IF r.quarantined > 0 THEN
                        SELECT x.problem INTO whole FROM pg_temp.ingest_row x;
                        RAISE EXCEPTION USING ERRCODE = 'BVREJ';
                END IF;
                IF p_check_only THEN
                        RAISE EXCEPTION USING ERRCODE = 'BVDRY';
                END IF;
                SELECT s.id, s.household_id INTO sid, hid FROM bokvar.signal s
                WHERE s.feed = 'manual' AND s.external_id = 'manual-' || fid;
                UPDATE bokvar.fetch SET rows_read = 1, accepted = 1, finished_at = clock_timestamp() WHERE id = fid;
                UPDATE bokvar.feed
                SET last_attempt_at = now(), last_success_at = now(), last_rows_read = 1, last_accepted = 1,
                    last_updated = 0, last_duplicate = 0, last_quarantined = 0, total_rows_read = total_rows_read + 1,
                    total_accepted = total_accepted + 1, total_fetches = total_fetches + 1
                WHERE name = 'manual';
                INSERT INTO bokvar.audit_log (actor, action, subject, detail)
                VALUES (who, 'signal.register', sid::text,
                        jsonb_build_object('fetch', fid, 'household', hid, 'session_user', session_user));
                PERFORM bokvar.ingest_cleanup();
        EXCEPTION
                WHEN SQLSTATE 'BVREJ' THEN
                        RETURN QUERY SELECT NULL::bigint, NULL::bigint, NULL::bigint, NULL::text, p.field, p.problem
                                     FROM bokvar.signal_problems(p_signal, whole) p;
                        RETURN;
                WHEN SQLSTATE 'BVDRY' THEN
                        RETURN;
        END;
        RETURN QUERY
        SELECT sid, hid, t.id, t.team, NULL::text, NULL::text
        FROM (SELECT NULL) x LEFT JOIN bokvar.task t ON t.household_id = hid AND t.status = 'open';
END;
$$;

-- ---------------------------------------------------------------------
-- Privileges. The reads are the web service's alone; the actions any
-- caseworker's or coordinator's (the web service is a member of their
-- roles). access_grant (005) keeps doing the rest.

REVOKE EXECUTE ON FUNCTION bokvar.task_children(), bokvar.web_actor(text), bokvar.web_me(), bokvar.web_teams(),
        bokvar.web_worklist(text, text, bokvar.risk_class, integer, integer), bokvar.web_task_household(bigint),
        bokvar.web_household_read(bigint), bokvar.web_household_open(bigint), bokvar.web_household_persons(bigint),
        bokvar.web_household_signals(bigint), bokvar.web_household_score(bigint),
        bokvar.web_household_history(bigint), bokvar.web_household_tasks(bigint), bokvar.web_household_events(bigint),
        bokvar.web_household_corrections(bigint), bokvar.task_for_action(bigint),
        bokvar.task_follow_up(bigint, date, text), bokvar.task_reassign(bigint, text, text),
        bokvar.task_move_team(bigint, text, text, text), bokvar.task_hand_over(bigint, text, text),
        bokvar.household_children_set(bigint, integer, text, text),
        bokvar.household_children_correct(bigint, integer, text), bokvar.signal_mapping(),
        bokvar.signal_problems(jsonb, text), bokvar.signal_register(jsonb, boolean) FROM PUBLIC;

ALTER FUNCTION bokvar.access_grant(text, name) RENAME TO access_grant_people;

CREATE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        notes text[] := bokvar.access_grant_people(p_function, p_role);
BEGIN
        IF p_function IN ('caseworker', 'coordinator') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.task_follow_up(bigint, date, text), '
                               'bokvar.task_reassign(bigint, text, text), bokvar.task_hand_over(bigint, text, text), '
                               'bokvar.household_children_correct(bigint, integer, text), '
                               'bokvar.signal_register(jsonb, boolean) TO %I', p_role);
        ELSIF p_function = 'web' THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.web_actor(text), bokvar.web_teams(), '
                               'bokvar.web_worklist(text, text, bokvar.risk_class, integer, integer), '
                               'bokvar.web_task_household(bigint), bokvar.web_household_open(bigint), '
                               'bokvar.web_household_persons(bigint), bokvar.web_household_signals(bigint), '
                               'bokvar.web_household_score(bigint), bokvar.web_household_history(bigint), '
                               'bokvar.web_household_tasks(bigint), bokvar.web_household_events(bigint), '
                               'bokvar.web_household_corrections(bigint) TO %I', p_role);
        END IF;
        RETURN notes;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.access_grant(text, name) FROM PUBLIC;
