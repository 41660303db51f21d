-- SPDX-License-Identifier: GPL-3.0-or-later
-- Outreach: one open task per household at risk, routed to a team, with a
-- due date from the legal deadline; every task event written to an outbox
-- in the same transaction; delivery state per event and channel; what
-- caseworkers did (contacts, outcomes); and the yearly report.

CREATE TYPE bokvar.task_outcome AS ENUM ('kept_home', 'payment_plan', 'referred', 'declined', 'not_reached', 'moved',
                                         'evicted', 'duplicate', 'other');
CREATE TYPE bokvar.contact_channel AS ENUM ('letter', 'phone', 'home_visit', 'digital');

-- Teams and channels as configured, kept in step with bokvar.yaml by the
-- daemon (bokvar.config_sync): routing and events are computed here.
CREATE TABLE bokvar.team (
        name text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
        position integer NOT NULL,          -- routing tries teams in this order
        postal_codes text[] NOT NULL DEFAULT '{}',   -- prefixes of the normalised postal code
        cities text[] NOT NULL DEFAULT '{}',
        landlords text[] NOT NULL DEFAULT '{}',
        is_default boolean NOT NULL DEFAULT false,
        email text,
        caseworkers text[] NOT NULL DEFAULT '{}'
);
CREATE UNIQUE INDEX team_one_default ON bokvar.team (is_default) WHERE is_default;

CREATE TABLE bokvar.channel (
        name text PRIMARY KEY CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
        type text NOT NULL CHECK (type IN ('webhook', 'smtp'))
);

CREATE TABLE bokvar.task_settings (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        lead_days integer NOT NULL DEFAULT 3,           -- due this long before the legal deadline
        service_urgent_days integer NOT NULL DEFAULT 2,  -- or this long after creation, whichever comes first
        service_outreach_days integer NOT NULL DEFAULT 7,
        max_attempts integer NOT NULL DEFAULT 20         -- deliveries tried before a dead letter
);
INSERT INTO bokvar.task_settings DEFAULT VALUES;

CREATE TABLE bokvar.task (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        household_id bigint NOT NULL REFERENCES bokvar.household (id),
        status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        class bokvar.risk_class NOT NULL,       -- the household's class now (an open task follows it)
        opened_class bokvar.risk_class NOT NULL,
        top_class bokvar.risk_class NOT NULL,   -- the highest it reached
        score integer NOT NULL,
        team text NOT NULL,
        assignee text,
        deadline date,                          -- the household's next legal deadline, as last updated
        legal_deadline date,                    -- the nearest deadline seen while open (for the report)
        due date NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        acknowledged_at timestamptz,
        acknowledged_by text,
        first_contact_at timestamptz,
        overdue_noted date,                     -- the due date the overdue event was sent for
        closed_at timestamptz,
        closed_by text,
        outcome bokvar.task_outcome,
        note text,
        CHECK ((status = 'closed') = (closed_at IS NOT NULL AND outcome IS NOT NULL))
);
-- One open task per household, whatever the concurrency.
CREATE UNIQUE INDEX task_one_open ON bokvar.task (household_id) WHERE status = 'open';
CREATE INDEX task_team_open ON bokvar.task (team) WHERE status = 'open';
CREATE INDEX task_created ON bokvar.task (created_at);
CREATE INDEX task_closed ON bokvar.task (closed_at);

-- Everything that happened to a task, by the system or a person.
CREATE TABLE bokvar.task_event (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        task_id bigint NOT NULL REFERENCES bokvar.task (id),
        event_id text NOT NULL UNIQUE,         -- the idempotency key receivers see
        kind text NOT NULL CHECK (kind IN ('created', 'escalated', 'risk_lowered', 'overdue', 'acknowledged',
                                           'contacted', 'closed')),
        at timestamptz NOT NULL DEFAULT now(),
        by text,
        class bokvar.risk_class,
        detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX task_event_task ON bokvar.task_event (task_id, id);

CREATE TABLE bokvar.contact (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        task_id bigint NOT NULL REFERENCES bokvar.task (id),
        at timestamptz NOT NULL DEFAULT now(),
        by text NOT NULL,
        channel bokvar.contact_channel NOT NULL,
        reached boolean NOT NULL,
        note text
);
CREATE INDEX contact_task ON bokvar.contact (task_id, at);

-- The transactional outbox: one row per event and channel, written in the
-- transaction that changed the task. The dispatcher claims rows with a lease
-- (claimed_until) under FOR UPDATE SKIP LOCKED, so several daemons never
-- send a row at once; a lease that runs out (a crash) lets the row be sent
-- again, always with the same event_id.
CREATE TABLE bokvar.outbox (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id text NOT NULL,
        task_id bigint NOT NULL,
        kind text NOT NULL,
        channel text NOT NULL,
        recipient text,                         -- e-mail: the team's address
        payload jsonb NOT NULL,                 -- what is sent, fixed when the event happened
        status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
        created_at timestamptz NOT NULL DEFAULT now(),
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        claimed_until timestamptz,
        claimed_by text,
        attempts integer NOT NULL DEFAULT 0,
        last_attempt_at timestamptz,
        last_status integer,
        last_error text,
        delivered_at timestamptz,
        UNIQUE (event_id, channel)
);
CREATE INDEX outbox_due ON bokvar.outbox (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX outbox_dead ON bokvar.outbox (id) WHERE status = 'dead';

-- ---------------------------------------------------------------------

-- Takes teams, channels and task settings from the configuration:
-- {"teams": [{name, postal_codes, cities, landlords, default, email,
-- caseworkers}], "channels": [{name, type}], "tasks": {lead_days,
-- service_urgent_days, service_outreach_days, max_attempts}}.
CREATE FUNCTION bokvar.config_sync(p_config jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_advisory_xact_lock(7243155004);
        DELETE FROM bokvar.team WHERE name NOT IN (SELECT t ->> 'name' FROM jsonb_array_elements(p_config -> 'teams') t);
        -- The default may move to a team listed earlier: clear it first.
        UPDATE bokvar.team SET is_default = false WHERE is_default;
        INSERT INTO bokvar.team AS x (name, position, postal_codes, cities, landlords, is_default, email, caseworkers)
        SELECT t ->> 'name', n, coalesce(bokvar.jsonb_text_array(t -> 'postal_codes'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'cities'), '{}'),
               coalesce(bokvar.jsonb_text_array(t -> 'landlords'), '{}'),
               coalesce((t ->> 'default')::boolean, false), t ->> 'email',
               coalesce(bokvar.jsonb_text_array(t -> 'caseworkers'), '{}')
        FROM jsonb_array_elements(p_config -> 'teams') WITH ORDINALITY a(t, n)
        ON CONFLICT (name) DO UPDATE
        SET position = excluded.position, postal_codes = excluded.postal_codes, cities = excluded.cities,
            landlords = excluded.landlords, is_default = excluded.is_default, email = excluded.email,
            caseworkers = excluded.caseworkers;
        -- Events waiting for a channel that is gone cannot be sent: dead
        -- letters, which `bokvarctl outbox retry` sends if it comes back.
        UPDATE bokvar.outbox SET status = 'dead', claimed_until = NULL,
                                 last_error = 'the channel was removed from the configuration'
        WHERE status = 'pending'
          AND channel NOT IN (SELECT c ->> 'name' FROM jsonb_array_elements(p_config -> 'channels') c);
        DELETE FROM bokvar.channel
        WHERE name NOT IN (SELECT c ->> 'name' FROM jsonb_array_elements(p_config -> 'channels') c);
        INSERT INTO bokvar.channel (name, type)
        SELECT c ->> 'name', c ->> 'type' FROM jsonb_array_elements(p_config -> 'channels') c
        ON CONFLICT (name) DO UPDATE SET type = excluded.type;
        UPDATE bokvar.task_settings
        SET lead_days = coalesce((p_config #>> '{tasks,lead_days}')::integer, lead_days),
            service_urgent_days = coalesce((p_config #>> '{tasks,service_urgent_days}')::integer, service_urgent_days),
            service_outreach_days = coalesce((p_config #>> '{tasks,service_outreach_days}')::integer,
                                             service_outreach_days),
            max_attempts = coalesce((p_config #>> '{tasks,max_attempts}')::integer, max_attempts);
END;
$$;

-- The team a household belongs to: the first team (in configured order)
-- whose postal code prefixes, cities or landlords match it, else the
-- default team.
CREATE FUNCTION bokvar.route(p_postal_code text, p_city text, p_landlord text) RETURNS text
LANGUAGE sql STABLE AS $$
        SELECT name FROM (
                SELECT t.name, t.position, 0 AS pass FROM bokvar.team t
                WHERE EXISTS (SELECT 1 FROM unnest(t.postal_codes) p
                              WHERE bokvar.norm_word(p_postal_code) LIKE bokvar.norm_word(p) || '%')
                   OR EXISTS (SELECT 1 FROM unnest(t.cities) c WHERE bokvar.norm_word(c) = bokvar.norm_word(p_city))
                   OR EXISTS (SELECT 1 FROM unnest(t.landlords) l
                              WHERE bokvar.norm_word(l) = bokvar.norm_word(p_landlord))
                UNION ALL
                SELECT t.name, t.position, 1 FROM bokvar.team t WHERE t.is_default
        ) x ORDER BY pass, position LIMIT 1
$$;

-- A task's due date: the legal deadline minus the lead time, or the class's
-- service time from p_from, whichever comes first; never before p_from.
CREATE FUNCTION bokvar.task_due(p_class bokvar.risk_class, p_deadline date, p_from date) RETURNS date
LANGUAGE sql STABLE AS $$
        SELECT greatest(p_from, least(p_deadline - s.lead_days,
                                      p_from + CASE WHEN p_class = 'urgent' THEN s.service_urgent_days
                                                    ELSE s.service_outreach_days END))
        FROM bokvar.task_settings s
$$;

-- What a receiver is told of a task, in the Standard Webhooks shape (type,
-- timestamp, data): no identity number, no name, no address.
CREATE FUNCTION bokvar.task_payload(t bokvar.task, p_kind text, p_event_id text, p_at timestamptz) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
                'type', 'task.' || p_kind,
                'timestamp', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'event_id', p_event_id,
                'data', jsonb_build_object(
                        'task_id', t.id, 'status', t.status, 'team', t.team, 'assignee', t.assignee,
                        'class', t.class, 'score', t.score, 'due', t.due, 'deadline', t.deadline,
                        'children', coalesce(h.children, 0),
                        'rules', coalesce((SELECT jsonb_agg(e -> 'rule') FROM jsonb_array_elements(s.explanation) e),
                                          '[]')))
        FROM bokvar.household h LEFT JOIN bokvar.score s ON s.household_id = h.id
        WHERE h.id = t.household_id
$$;

-- The e-mail for an event: a subject and a plain text body, from the
-- payload alone, so it carries nothing the webhook does not.
CREATE FUNCTION bokvar.mail_subject(p jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT format('bokvar: task %s %s (%s, team %s)', p #>> '{data,task_id}',
                      CASE p ->> 'type' WHEN 'task.created' THEN 'opened' WHEN 'task.escalated' THEN 'escalated'
                                        WHEN 'task.risk_lowered' THEN 'risk lowered' WHEN 'task.overdue' THEN 'overdue'
                                        ELSE p ->> 'type' END,
                      p #>> '{data,class}', p #>> '{data,team}')
$$;

CREATE FUNCTION bokvar.mail_text(p jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT concat_ws(E'\n',
                CASE p ->> 'type'
                        WHEN 'task.created' THEN format('A household reached the %s class: task %s is open for team %s.',
                                                        d ->> 'class', d ->> 'task_id', d ->> 'team')
                        WHEN 'task.escalated' THEN format('Task %s is escalated: the household is now %s.',
                                                          d ->> 'task_id', d ->> 'class')
                        WHEN 'task.risk_lowered' THEN format('Task %s: the household''s risk fell to %s. The task stays '
                                                             'open until someone closes it.', d ->> 'task_id',
                                                             d ->> 'class')
                        WHEN 'task.overdue' THEN format('Task %s is overdue: it was due %s and nobody has closed it.',
                                                        d ->> 'task_id', d ->> 'due')
                END,
                '',
                'Class:           ' || (d ->> 'class'),
                'Score:           ' || (d ->> 'score'),
                'Due:             ' || (d ->> 'due'),
                'Legal deadline:  ' || coalesce(d ->> 'deadline', 'none known'),
                'Children:        ' || (d ->> 'children'),
                'Rules that fired: ' || coalesce((SELECT string_agg(r, ', ') FROM jsonb_array_elements_text(d -> 'rules') r),
                                                 ''),
                'Assigned to:     ' || coalesce(d ->> 'assignee', 'the team'),
                '',
                'The household, its signals and the score explained:',
                '    bokvarctl task show ' || (d ->> 'task_id'),
                '',
                '-- ',
                'bokvar sends no names, identity numbers or addresses by e-mail.',
                'Event ' || (p ->> 'event_id'))
        FROM (SELECT p -> 'data') x(d)
$$;

-- Events that go out to the channels: what the system noticed. What people
-- did (acknowledged, contacted, closed) is recorded but not sent back.
CREATE FUNCTION bokvar.event_is_sent(p_kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
        SELECT p_kind IN ('created', 'escalated', 'risk_lowered', 'overdue')
$$;

-- Records events for tasks (set-based): a task_event row each and, for the
-- events that are sent, an outbox row per event and channel, in the
-- caller's transaction; then wakes the dispatchers (at commit).
CREATE FUNCTION bokvar.task_events(p_task_ids bigint[], p_kind text, p_by text, p_detail jsonb DEFAULT '{}')
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer;
BEGIN
        CREATE TEMP TABLE task_new_event ON COMMIT DROP AS
        SELECT t.id AS task_id, 'evt_' || replace(gen_random_uuid()::text, '-', '') AS event_id, t.class,
               clock_timestamp() AS at
        FROM bokvar.task t WHERE t.id = ANY (p_task_ids);
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO bokvar.task_event (task_id, event_id, kind, at, by, class, detail)
        SELECT e.task_id, e.event_id, p_kind, e.at, p_by, e.class, p_detail FROM task_new_event e;
        IF n > 0 AND bokvar.event_is_sent(p_kind) THEN
                INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, recipient, payload)
                SELECT e.event_id, t.id, p_kind, c.name, CASE WHEN c.type = 'smtp' THEN tm.email END,
                       bokvar.task_payload(t, p_kind, e.event_id, e.at)
                FROM task_new_event e
                JOIN bokvar.task t ON t.id = e.task_id
                LEFT JOIN bokvar.team tm ON tm.name = t.team
                CROSS JOIN bokvar.channel c
                WHERE c.type <> 'smtp' OR tm.email IS NOT NULL;
                IF FOUND THEN
                        PERFORM pg_notify('bokvar_outbox', '');
                END IF;
        END IF;
        DROP TABLE task_new_event;
        RETURN n;
END;
$$;

-- Brings the open tasks of the households in scope in line with their
-- scores: a household reaching outreach or urgent without an open task
-- gets one; a rising class escalates the open task, a falling one is noted
-- on it. Only a person closes a task.
CREATE FUNCTION bokvar.tasks_sync(p_households bigint[], p_today date DEFAULT current_date) RETURNS void
LANGUAGE plpgsql SET random_page_cost = 1.1 AS $$
DECLARE
        ids bigint[];
BEGIN
        CREATE TEMP TABLE task_scope ON COMMIT DROP AS
        SELECT s.household_id, s.class, s.score, s.next_deadline, t.id AS task_id, t.class AS task_class,
               t.top_class
        FROM (SELECT DISTINCT u FROM unnest(p_households) u) x(id)
        JOIN bokvar.score s ON s.household_id = x.id
        LEFT JOIN bokvar.task t ON t.household_id = x.id AND t.status = 'open';
        ANALYZE task_scope;

        -- New tasks, routed and assigned to whoever in the team has the
        -- fewest open tasks, counting the ones this call hands out (each
        -- caseworker's load n, n+1, n+2, ... are slots; the team's new
        -- tasks take its lowest slots in turn). A concurrent creator of the
        -- same household's task makes this one skip it (the unique index
        -- decides).
        WITH new AS (
                SELECT sc.household_id, sc.class, sc.score, sc.next_deadline,
                       bokvar.route(h.postal_code, h.city, h.landlord) AS team
                FROM task_scope sc JOIN bokvar.household h ON h.id = sc.household_id
                WHERE sc.task_id IS NULL AND sc.class IN ('outreach', 'urgent')
        ), numbered AS (
                SELECT n.*, row_number() OVER (PARTITION BY n.team ORDER BY n.class DESC, n.household_id) AS k
                FROM new n
        ), slots AS (
                SELECT tm.name AS team, cw,
                       row_number() OVER (PARTITION BY tm.name ORDER BY o.n + j, cw) AS k
                FROM bokvar.team tm
                CROSS JOIN LATERAL unnest(tm.caseworkers) cw
                CROSS JOIN LATERAL (SELECT count(*) AS n FROM bokvar.task o
                                    WHERE o.status = 'open' AND o.assignee = cw) o
                CROSS JOIN LATERAL generate_series(0, (SELECT count(*) FROM new WHERE new.team = tm.name) - 1) j
        ), created AS (
                INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, assignee, deadline,
                                         legal_deadline, due)
                SELECT n.household_id, n.class, n.class, n.class, n.score, coalesce(n.team, 'unrouted'), sl.cw,
                       n.next_deadline, n.next_deadline, bokvar.task_due(n.class, n.next_deadline, p_today)
                FROM numbered n LEFT JOIN slots sl ON sl.team = n.team AND sl.k = n.k
                ON CONFLICT (household_id) WHERE status = 'open' DO NOTHING
                RETURNING id
        )
        SELECT array_agg(id) INTO ids FROM created;
        IF ids IS NOT NULL THEN
                PERFORM bokvar.task_events(ids, 'created', 'bokvar');
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

-- Open tasks past their due date get one overdue event per due date.
CREATE FUNCTION bokvar.tasks_overdue(p_today date DEFAULT current_date) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        ids bigint[];
BEGIN
        WITH o AS (
                UPDATE bokvar.task SET overdue_noted = due
                WHERE status = 'open' AND due < p_today AND overdue_noted IS DISTINCT FROM due
                RETURNING id
        )
        SELECT array_agg(id) INTO ids FROM o;
        IF ids IS NULL THEN
                RETURN 0;
        END IF;
        RETURN bokvar.task_events(ids, 'overdue', 'bokvar');
END;
$$;

-- Scores that changed bring their tasks along, in the same transaction.
CREATE OR REPLACE FUNCTION bokvar.scores_changed(p_households bigint[], p_today date) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM bokvar.tasks_sync(p_households, p_today);
END;
$$;

-- ---------------------------------------------------------------------
-- What caseworkers do, from bokvarctl or a case system. Each records who
-- and when, and is an event like the others.

CREATE FUNCTION bokvar.task_ack(p_task bigint, p_by text) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        t bokvar.task;
BEGIN
        UPDATE bokvar.task SET acknowledged_at = coalesce(acknowledged_at, now()),
                               acknowledged_by = coalesce(acknowledged_by, p_by)
        WHERE id = p_task AND status = 'open' RETURNING * INTO t;
        IF NOT FOUND THEN
                IF EXISTS (SELECT 1 FROM bokvar.task WHERE id = p_task) THEN
                        RAISE EXCEPTION 'task % is closed', p_task USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM bokvar.task_events(ARRAY[p_task], 'acknowledged', p_by);
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'task.ack', p_task::text, jsonb_build_object('session_user', session_user));
        RETURN t;
END;
$$;

CREATE FUNCTION bokvar.task_contact(p_task bigint, p_by text, p_channel bokvar.contact_channel, p_reached boolean,
                                    p_note text DEFAULT NULL) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        t bokvar.task;
BEGIN
        PERFORM 1 FROM bokvar.task WHERE id = p_task;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM 1 FROM bokvar.task WHERE id = p_task AND status = 'open' FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'task % is closed', p_task USING ERRCODE = 'invalid_parameter_value';
        END IF;
        INSERT INTO bokvar.contact (task_id, by, channel, reached, note) VALUES (p_task, p_by, p_channel, p_reached, p_note);
        UPDATE bokvar.task SET first_contact_at = coalesce(first_contact_at, now()),
                               acknowledged_at = coalesce(acknowledged_at, now()),
                               acknowledged_by = coalesce(acknowledged_by, p_by)
        WHERE id = p_task RETURNING * INTO t;
        PERFORM bokvar.task_events(ARRAY[p_task], 'contacted', p_by,
                                   jsonb_build_object('channel', p_channel, 'reached', p_reached));
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'task.contact', p_task::text, jsonb_build_object('channel', p_channel, 'reached', p_reached,
                                                                      'session_user', session_user));
        RETURN t;
END;
$$;

CREATE FUNCTION bokvar.task_close(p_task bigint, p_by text, p_outcome bokvar.task_outcome, p_note text DEFAULT NULL)
RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        t bokvar.task;
BEGIN
        UPDATE bokvar.task SET status = 'closed', closed_at = now(), closed_by = p_by, outcome = p_outcome,
                               note = coalesce(p_note, note)
        WHERE id = p_task AND status = 'open' RETURNING * INTO t;
        IF NOT FOUND THEN
                IF EXISTS (SELECT 1 FROM bokvar.task WHERE id = p_task) THEN
                        RAISE EXCEPTION 'task % is already closed', p_task USING ERRCODE = 'invalid_parameter_value';
                END IF;
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM bokvar.task_events(ARRAY[p_task], 'closed', p_by, jsonb_build_object('outcome', p_outcome));
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'task.close', p_task::text, jsonb_build_object('outcome', p_outcome,
                                                                    'session_user', session_user));
        RETURN t;
END;
$$;

-- The worklist, in priority order: class, households with children, the
-- nearest deadline, the score.
CREATE VIEW bokvar.worklist AS
SELECT row_number() OVER (ORDER BY t.class DESC, coalesce(h.children, 0) > 0 DESC, t.deadline ASC NULLS LAST,
                                   t.score DESC, t.id) AS priority,
       t.id AS task_id, t.team, t.assignee, t.class, t.score, coalesce(h.children, 0) AS children, t.deadline,
       t.due, t.due < current_date AS overdue, t.created_at, t.acknowledged_at, t.first_contact_at,
       t.household_id,
       (SELECT string_agg(e ->> 'rule', ', ') FROM bokvar.score s, jsonb_array_elements(s.explanation) e
        WHERE s.household_id = t.household_id) AS rules
FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id
WHERE t.status = 'open';

-- ---------------------------------------------------------------------
-- The dispatcher's side of the outbox.

-- One round trip of a dispatcher: gives back rows it will not send
-- (p_release, see outbox_release), records the outcome of the sends it
-- finished (p_done, see outbox_done), then claims up to p_limit rows due
-- for sending, for p_lease seconds, on the channels it can send to
-- (p_channels; NULL: all). Each returns what goes on the wire: the
-- payload for a webhook; subject and text for an e-mail (recipient set).
CREATE FUNCTION bokvar.outbox_claim(p_claimer text, p_limit integer, p_lease integer, p_done jsonb DEFAULT '[]',
                                    p_channels text[] DEFAULT NULL, p_release bigint[] DEFAULT NULL)
RETURNS TABLE (id bigint, event_id text, channel text, recipient text, body text, subject text, attempts integer)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
        IF cardinality(p_release) > 0 THEN
                PERFORM bokvar.outbox_release(p_claimer, p_release);
        END IF;
        IF jsonb_array_length(p_done) > 0 THEN
                PERFORM bokvar.outbox_done(p_done, p_claimer);
        END IF;
        IF p_limit <= 0 THEN
                RETURN;
        END IF;
        RETURN QUERY
        WITH claimed AS (
                UPDATE bokvar.outbox o
                SET claimed_until = now() + make_interval(secs => p_lease), claimed_by = p_claimer,
                    attempts = o.attempts + 1, last_attempt_at = now()
                WHERE o.id IN (SELECT x.id FROM bokvar.outbox x
                               WHERE x.status = 'pending' AND x.next_attempt_at <= now()
                                 AND (x.claimed_until IS NULL OR x.claimed_until < now())
                                 AND (p_channels IS NULL OR x.channel = ANY (p_channels))
                               ORDER BY x.next_attempt_at, x.id
                               LIMIT p_limit
                               FOR UPDATE SKIP LOCKED)
                RETURNING o.id, o.event_id, o.channel, o.recipient, o.payload, o.attempts
        )
        SELECT c.id, c.event_id, c.channel, c.recipient,
               CASE WHEN c.recipient IS NULL THEN c.payload::text ELSE bokvar.mail_text(c.payload) END,
               CASE WHEN c.recipient IS NOT NULL THEN bokvar.mail_subject(c.payload) END, c.attempts
        FROM claimed c;
END;
$$;

-- Records the outcome of sends (set-based): p_results [{id, ok, retry,
-- status, error, retry_after}]. A retry waits 2^attempts seconds (at most
-- an hour) with ±25% jitter, or as long as the receiver asked
-- (Retry-After, at most a day); a send that may not be retried, or the
-- last attempt, makes a dead letter. A failure is only recorded by the
-- claimer holding the row (p_claimer; NULL: anyone): after a lease ran out
-- and another dispatcher took the row, that one's outcome counts.
CREATE FUNCTION bokvar.outbox_done(p_results jsonb, p_claimer text DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
        UPDATE bokvar.outbox o
        SET status = CASE WHEN (r ->> 'ok')::boolean THEN 'delivered'
                          WHEN NOT (r ->> 'retry')::boolean OR o.attempts >= s.max_attempts THEN 'dead'
                          ELSE 'pending' END,
            delivered_at = CASE WHEN (r ->> 'ok')::boolean THEN now() END,
            last_status = (r ->> 'status')::integer,
            last_error = r ->> 'error',
            claimed_until = NULL,
            next_attempt_at = now() + make_interval(secs => greatest(
                    least(3600, 2 ^ least(o.attempts, 12)) * (0.75 + random() / 2),
                    least(86400, coalesce((r ->> 'retry_after')::integer, 0))))
        FROM jsonb_array_elements(p_results) r, bokvar.task_settings s
        WHERE o.id = (r ->> 'id')::bigint AND o.status = 'pending'
          AND ((r ->> 'ok')::boolean OR p_claimer IS NULL OR o.claimed_by = p_claimer)
$$;

-- Rows a dispatcher claimed but will not send (it is stopping): free at
-- once for any dispatcher, the attempt not counted.
CREATE FUNCTION bokvar.outbox_release(p_claimer text, p_ids bigint[]) RETURNS integer
LANGUAGE sql AS $$
        WITH r AS (
                UPDATE bokvar.outbox SET claimed_until = NULL, attempts = greatest(attempts - 1, 0)
                WHERE id = ANY (p_ids) AND claimed_by = p_claimer AND status = 'pending'
                RETURNING 1
        )
        SELECT count(*)::integer FROM r
$$;

-- When the next row falls due (NULL: nothing waits).
CREATE FUNCTION bokvar.outbox_next_due() RETURNS timestamptz
LANGUAGE sql STABLE AS $$
        SELECT min(greatest(next_attempt_at, coalesce(claimed_until, next_attempt_at)))
        FROM bokvar.outbox WHERE status = 'pending'
$$;

-- Dead letters back into the queue, by an operator.
CREATE FUNCTION bokvar.outbox_retry(p_id bigint, p_actor text) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer;
BEGIN
        UPDATE bokvar.outbox SET status = 'pending', next_attempt_at = now(), attempts = 0, claimed_until = NULL
        WHERE status = 'dead' AND (p_id IS NULL OR id = p_id);
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n > 0 THEN
                PERFORM pg_notify('bokvar_outbox', '');
                INSERT INTO bokvar.audit_log (actor, action, subject, detail)
                VALUES (p_actor, 'outbox.retry', coalesce(p_id::text, 'all dead letters'), jsonb_build_object('rows', n));
        END IF;
        RETURN n;
END;
$$;

-- ---------------------------------------------------------------------
-- The yearly report a social services committee publishes.

-- Outcomes that mean the household kept its home.
CREATE FUNCTION bokvar.kept_home(o bokvar.task_outcome) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
        SELECT o IN ('kept_home', 'payment_plan')
$$;

-- The first signal of the story a task answers: the household's earliest
-- signal received since its previous task was closed.
CREATE FUNCTION bokvar.task_first_signal(t bokvar.task) RETURNS date
LANGUAGE sql STABLE AS $$
        SELECT min(s.occurred_at) FROM bokvar.signal s
        WHERE s.household_id = t.household_id AND s.occurred_at <= t.created_at::date
          AND s.received_at <= t.created_at
          AND s.received_at > coalesce((SELECT max(p.closed_at) FROM bokvar.task p
                                        WHERE p.household_id = t.household_id AND p.closed_at < t.created_at),
                                       '-infinity')
$$;

-- The year's figures. Tasks count in the year they were opened (opened,
-- contact figures) or closed (closed, outcomes, homes kept); signals in the
-- year they occurred. A task's contact is before its deadline when the
-- first contact came on or before the legal deadline (or, without one, the
-- due date); tasks still inside that time without contact are not counted.
CREATE FUNCTION bokvar.report(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        WITH y AS (
                SELECT make_date(p_year, 1, 1) AS first, make_date(p_year + 1, 1, 1) AS next
        ), closed AS (
                SELECT t.*, coalesce(h.children, 0) AS children
                FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id, y
                WHERE t.closed_at >= y.first AND t.closed_at < y.next
        ), opened AS (
                SELECT t.*, coalesce(h.children, 0) AS children, bokvar.task_first_signal(t) AS first_signal,
                       coalesce(t.legal_deadline, t.deadline, t.due) AS by_date
                FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id, y
                WHERE t.created_at >= y.first AND t.created_at < y.next
        ), kept AS (
                SELECT DISTINCT ON (household_id) household_id, children FROM closed WHERE bokvar.kept_home(outcome)
        ), families AS (
                SELECT DISTINCT ON (household_id) household_id, children FROM opened WHERE children > 0
        ), sig AS (
                SELECT s.source, s.kind, count(*) AS n FROM bokvar.signal s, y
                WHERE s.occurred_at >= y.first AND s.occurred_at < y.next GROUP BY 1, 2
        )
        SELECT jsonb_build_object(
                'year', p_year,
                'signals', (SELECT coalesce(jsonb_agg(jsonb_build_object('source', source, 'kind', kind, 'count', n)
                                                      ORDER BY source, kind), '[]') FROM sig),
                'tasks_opened', (SELECT count(*) FROM opened),
                'tasks_closed', (SELECT count(*) FROM closed),
                'outcomes', (SELECT coalesce(jsonb_object_agg(outcome, n ORDER BY outcome), '{}')
                             FROM (SELECT outcome, count(*) AS n FROM closed GROUP BY 1) x),
                'households_kept_home', (SELECT count(*) FROM kept),
                'families_with_children_kept_home', (SELECT count(*) FROM kept WHERE children > 0),
                'children_kept_home', (SELECT coalesce(sum(children), 0) FROM kept),
                'families_with_children_reached_out_to', (SELECT count(*) FROM families),
                'children_in_them', (SELECT coalesce(sum(children), 0) FROM families),
                'eviction_applications', (SELECT coalesce(sum(n), 0) FROM sig
                                          WHERE source = 'enforcement' AND kind = 'eviction_application'),
                'evictions_executed', (SELECT coalesce(sum(n), 0) FROM sig
                                       WHERE source = 'enforcement' AND kind = 'eviction_executed'),
                'median_days_signal_to_contact',
                        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY first_contact_at::date - first_signal)
                         FROM opened WHERE first_contact_at IS NOT NULL AND first_signal IS NOT NULL),
                'contact_before_deadline_share',
                        (SELECT round(avg(CASE WHEN first_contact_at::date <= by_date THEN 1.0 ELSE 0.0 END), 3)
                         FROM opened WHERE first_contact_at IS NOT NULL OR by_date < current_date)
        )
$$;

-- ---------------------------------------------------------------------
-- A case system acts through these functions only, as the role
-- bokvar_case_system: read the worklist, acknowledge, record contacts,
-- close. The migration creates the role when the migrating user may create
-- roles; otherwise an administrator creates it and runs
-- SELECT bokvar.case_system_grant() (see the README).
REVOKE EXECUTE ON FUNCTION bokvar.task_ack(bigint, text), bokvar.task_contact(bigint, text, bokvar.contact_channel,
        boolean, text), bokvar.task_close(bigint, text, bokvar.task_outcome, text) FROM PUBLIC;

CREATE FUNCTION bokvar.case_system_grant() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        GRANT USAGE ON SCHEMA bokvar TO bokvar_case_system;
        GRANT SELECT ON bokvar.worklist TO bokvar_case_system;
        GRANT EXECUTE ON FUNCTION bokvar.task_ack(bigint, text),
                bokvar.task_contact(bigint, text, bokvar.contact_channel, boolean, text),
                bokvar.task_close(bigint, text, bokvar.task_outcome, text) TO bokvar_case_system;
END;
$$;

DO $$
BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bokvar_case_system') THEN
                IF (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user) THEN
                        -- Roles belong to the whole cluster: the migration of
                        -- another database may be creating it at this moment.
                        BEGIN
                                CREATE ROLE bokvar_case_system NOLOGIN;
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN
                                NULL;
                        END;
                ELSE
                        RAISE NOTICE 'role bokvar_case_system does not exist and % may not create it; an administrator '
                                     'can create it, then run SELECT bokvar.case_system_grant()', current_user;
                        RETURN;
                END IF;
        END IF;
        PERFORM bokvar.case_system_grant();
END;
$$;
