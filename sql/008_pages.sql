-- SPDX-License-Identifier: GPL-3.0-or-later
-- People's own language, the e-mails' words out of SQL, and what the
-- coordinators', operators' and auditors' pages of bokvar-web read and do.
--
-- Languages. Each person may choose the language bokvar-web shows them
-- (bokvar.actor_setting, their own row only); without a choice the
-- browser's Accept-Language decides. The e-mails an event sends are
-- written by the dispatcher, in C through gettext in the team's language
-- (bokvar.yaml), from the event's figures a claim now returns as columns:
-- mail_text and mail_subject, their English wording in SQL, go.
--
-- Pages. Like the caseworkers' (007), each is a SECURITY DEFINER function
-- that checks the function of the person the web service acts for and
-- returns no personal data: counts by team, a task's facts without its
-- household, the feeds' fetches, dead letters, the access log (logins,
-- household and task numbers) and the purge records (counts).

-- ---------------------------------------------------------------------
-- Each person's own settings: for now the language of bokvar-web's pages
-- (a language bokvar-web has built in; it ignores one it no longer has).
-- A person reads and writes their own row only; it goes with the actor.

CREATE TABLE bokvar.actor_setting (
        login text PRIMARY KEY REFERENCES bokvar.actor (login) ON DELETE CASCADE,
        language text CHECK (language ~ '^[a-z]{2,3}$'),
        updated_at timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE bokvar.actor_setting ENABLE ROW LEVEL SECURITY;
ALTER TABLE bokvar.actor_setting FORCE ROW LEVEL SECURITY;
CREATE POLICY system ON bokvar.actor_setting
        USING (bokvar.session_is_system() OR (SELECT bokvar.elevated()))
        WITH CHECK (bokvar.session_is_system() OR (SELECT bokvar.elevated()));
CREATE POLICY own ON bokvar.actor_setting
        USING (login = (SELECT bokvar.current_actor())) WITH CHECK (login = (SELECT bokvar.current_actor()));

-- Sets (or, with NULL, forgets) the acting person's language.
CREATE FUNCTION bokvar.my_language_set(p_language text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator,operator,auditor}', 'choose a language', false);
BEGIN
        IF p_language IS NOT NULL AND p_language !~ '^[a-z]{2,3}$' THEN
                RAISE EXCEPTION 'a language is given by its code (sv, nb, en)'
                        USING ERRCODE = 'invalid_parameter_value', COLUMN = 'language';
        END IF;
        INSERT INTO bokvar.actor_setting AS s (login, language) VALUES (who, p_language)
        ON CONFLICT (login) DO UPDATE SET language = excluded.language, updated_at = now();
        RETURN p_language;
END;
$$;

-- The first statement of bokvar-web's pages from now on: web_actor's, and
-- the person's language (NULL: none chosen).
CREATE FUNCTION bokvar.web_person(p_login text, OUT function text, OUT teams text, OUT language text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
        SELECT a.function, a.teams INTO function, teams FROM bokvar.web_actor(p_login) a;
        SELECT s.language INTO language FROM bokvar.actor_setting s WHERE s.login = p_login;
END;
$$;

-- ---------------------------------------------------------------------
-- The outbox: a claim returns, for an e-mail, what the dispatcher writes
-- it from (the event's kind and the task's figures, all in the payload
-- already), and the payload itself, which a webhook sends. Redefined in
-- full because the columns change; the claim itself is schema 4's.

DROP FUNCTION bokvar.outbox_claim(text, integer, integer, jsonb, text[], bigint[]);
DROP FUNCTION bokvar.mail_text(jsonb);
DROP FUNCTION bokvar.mail_subject(jsonb);

CREATE FUNCTION bokvar.outbox_claim(p_claimer text, p_limit integer, p_lease integer, p_done jsonb DEFAULT '[]',
                                    p_channels text[] DEFAULT NULL, p_release bigint[] DEFAULT NULL)
RETURNS TABLE (id bigint, event_id text, channel text, recipient text, body text, attempts integer, kind text,
               task_id bigint, team text, class text, score integer, due date, deadline date, children integer,
               assignee text, rules text)
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
                RETURNING o.id, o.event_id, o.channel, o.recipient, o.payload, o.attempts, o.kind
        )
        SELECT c.id, c.event_id, c.channel, c.recipient, c.payload::text, c.attempts, c.kind, d.task_id, d.team,
               d.class, d.score, d.due, d.deadline, d.children, d.assignee,
               (SELECT string_agg(r, ', ') FROM jsonb_array_elements_text(c.payload #> '{data,rules}') r)
        FROM claimed c
        CROSS JOIN LATERAL jsonb_to_record(c.payload -> 'data')
                AS d(task_id bigint, team text, class text, score integer, due date, deadline date, children integer,
                     assignee text);
END;
$$;

-- ---------------------------------------------------------------------
-- Coordinators: every team at a glance, and a task's facts without its
-- household (to hand it over from the worklist, without reading, and so
-- logging, a household's personal data).

-- Each team's open tasks (and those no team took, 'unrouted'), counted:
-- urgent, with children, overdue, nobody assigned; the nearest legal
-- deadline. Coordinators only.
CREATE FUNCTION bokvar.web_team_overview()
RETURNS TABLE (team text, caseworkers integer, open bigint, urgent bigint, with_children bigint, overdue bigint,
               unassigned bigint, nearest_deadline date)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{coordinator}', 'see every team''s tasks', false);
        RETURN QUERY
        SELECT tm.name, tm.n, count(t.id), count(t.id) FILTER (WHERE t.class = 'urgent'),
               count(t.id) FILTER (WHERE t.household_children > 0), count(t.id) FILTER (WHERE t.due < current_date),
               count(t.id) FILTER (WHERE t.assignee IS NULL), min(t.deadline) FILTER (WHERE t.deadline >= current_date)
        FROM (SELECT x.name, cardinality(x.caseworkers), x.position FROM bokvar.team x
              UNION ALL SELECT 'unrouted', 0, 2147483647) tm(name, n, position)
        LEFT JOIN bokvar.task t ON t.team = tm.name AND t.status = 'open'
        GROUP BY tm.name, tm.n, tm.position
        HAVING tm.name <> 'unrouted' OR count(t.id) > 0
        ORDER BY tm.position;
END;
$$;

-- An open task's facts, not its household's: team, assignee, class,
-- score, children, deadlines. 42501 for a task the actor does not see.
CREATE FUNCTION bokvar.web_task_brief(p_task bigint)
RETURNS TABLE (task_id bigint, household_id bigint, status text, team text, assignee text, class bokvar.risk_class,
               score integer, children integer, deadline date, due date, overdue boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'see a task', false);
        RETURN QUERY
        SELECT t.id, t.household_id, t.status, t.team, t.assignee, t.class, t.score, t.household_children, t.deadline,
               t.due, t.status = 'open' AND t.due < current_date
        FROM bokvar.task t WHERE t.id = p_task;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'there is no task % that you may see', p_task USING ERRCODE = 'insufficient_privilege';
        END IF;
END;
$$;

-- ---------------------------------------------------------------------
-- Coordinators and operators: the feeds and the dead letters. Neither
-- holds personal data: counts, times and errors of fetches; events of
-- tasks by number, the receivers' answers.

-- Each feed: its last fetch and what it read, how many fetches in a row
-- failed and why, and how many of its rows wait in the quarantine.
CREATE FUNCTION bokvar.web_feeds()
RETURNS TABLE (feed text, source bokvar.feed_source, last_attempt_at timestamptz, last_success_at timestamptz,
               failures integer, last_error text, last_rows_read integer, last_accepted integer, last_updated integer,
               last_duplicate integer, last_quarantined integer, total_fetches bigint, total_failures bigint,
               quarantined bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{coordinator,operator}', 'see the feeds', false);
        RETURN QUERY
        SELECT f.name, f.source, f.last_attempt_at, f.last_success_at, f.failures, f.last_error, f.last_rows_read,
               f.last_accepted, f.last_updated, f.last_duplicate, f.last_quarantined, f.total_fetches, f.total_failures,
               (SELECT count(*) FROM bokvar.quarantine q WHERE q.feed = f.name)
        FROM bokvar.feed f
        ORDER BY f.name;
END;
$$;

-- The dead letters, newest first, and how many there are in all.
CREATE FUNCTION bokvar.web_dead_letters(p_limit integer)
RETURNS TABLE (id bigint, task_id bigint, kind text, channel text, attempts integer, last_attempt_at timestamptz,
               last_status integer, last_error text, total bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{coordinator,operator}', 'see the dead letters', false);
        RETURN QUERY
        SELECT o.id, o.task_id, o.kind, o.channel, o.attempts, o.last_attempt_at, o.last_status, o.last_error,
               count(*) OVER ()
        FROM bokvar.outbox o WHERE o.status = 'dead'
        ORDER BY o.id DESC LIMIT p_limit;
END;
$$;

-- Sends a dead letter (p_id) or all of them (NULL) again, as the acting
-- coordinator or operator (audited, as bokvarctl outbox retry is).
CREATE FUNCTION bokvar.web_outbox_retry(p_id bigint) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
        SELECT bokvar.outbox_retry_as(p_id, bokvar.actor_require('{coordinator,operator}', 'send dead letters again',
                                                                 false))
$$;

-- ---------------------------------------------------------------------
-- Auditors: the access log searched, and the purges.

-- The reads of households' personal data by household, reader and
-- period [p_from, p_until), the unusual ones (bokvar.access_log_read says
-- which) first, newest first; total: how many match in all.
CREATE FUNCTION bokvar.web_access_log(p_household bigint, p_actor text, p_from timestamptz, p_until timestamptz,
                                      p_unusual_only boolean, p_offset integer, p_limit integer)
RETURNS TABLE (id bigint, at timestamptz, actor text, function bokvar.actor_function, via text, household_id bigint,
               task_id bigint, path text, reason text, unusual boolean, total bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{auditor}', 'read the access log', false);
        RETURN QUERY
        SELECT a.id, a.at, a.actor, a.function, a.via, a.household_id, a.task_id, a.path, a.reason, a.unusual,
               count(*) OVER ()
        FROM bokvar.access_log_read(p_household, p_actor, p_from, p_unusual_only, NULL) a
        WHERE p_until IS NULL OR a.at < p_until
        ORDER BY a.unusual DESC, a.at DESC, a.id DESC
        OFFSET p_offset LIMIT p_limit;
END;
$$;

-- The purges' records (counts of what each deleted), newest first.
CREATE FUNCTION bokvar.web_purges(p_limit integer)
RETURNS TABLE (at timestamptz, actor text, purged_on text, households_without_task bigint,
               households_with_tasks bigint, signals bigint, tasks bigint, quarantined bigint, access_log bigint,
               audit_log bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{auditor}', 'read the purge records', false);
        RETURN QUERY
        SELECT l.at, l.actor, l.subject, (l.detail ->> 'households_without_task')::bigint,
               (l.detail ->> 'households_with_tasks')::bigint, (l.detail ->> 'signal')::bigint,
               (l.detail ->> 'task')::bigint, (l.detail ->> 'quarantine')::bigint, (l.detail ->> 'access_log')::bigint,
               (l.detail ->> 'audit_log')::bigint
        FROM bokvar.audit_log l WHERE l.action = 'purge'
        ORDER BY l.at DESC, l.id DESC LIMIT p_limit;
END;
$$;

-- ---------------------------------------------------------------------
-- The yearly report's months, for the report page's charts: signals by
-- kind, tasks opened and tasks closed, per month of the year. In
-- report_parts' additive form (counts by key), so that the purge keeps
-- them in report_purged as it keeps the other figures, and a year's
-- charts add up to its totals after a purge too.

-- {"signals_by_month": {kind: {"01": n, ...}}, "tasks_opened_by_month":
-- {"01": n, ...}, "tasks_closed_by_month": {...}}; months with nothing
-- are left out. Signals count in the month they occurred, tasks in the
-- month they were opened or closed, as the yearly figures count them.
CREATE FUNCTION bokvar.report_months(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        WITH y AS (
                SELECT make_date(p_year, 1, 1) AS first, make_date(p_year + 1, 1, 1) AS next
        )
        SELECT jsonb_build_object(
                'signals_by_month', coalesce((
                        SELECT jsonb_object_agg(kind, months) FROM (
                                SELECT kind, jsonb_object_agg(m, n ORDER BY m) AS months FROM (
                                        SELECT s.kind::text AS kind, to_char(s.occurred_at, 'MM') AS m, count(*) AS n
                                        FROM bokvar.signal s, y
                                        WHERE s.occurred_at >= y.first AND s.occurred_at < y.next GROUP BY 1, 2) x
                                GROUP BY kind) z), '{}'),
                'tasks_opened_by_month', coalesce((
                        SELECT jsonb_object_agg(m, n ORDER BY m) FROM (
                                SELECT to_char(t.created_at, 'MM') AS m, count(*) AS n FROM bokvar.task t, y
                                WHERE t.created_at >= y.first AND t.created_at < y.next GROUP BY 1) x), '{}'),
                'tasks_closed_by_month', coalesce((
                        SELECT jsonb_object_agg(m, n ORDER BY m) FROM (
                                SELECT to_char(t.closed_at, 'MM') AS m, count(*) AS n FROM bokvar.task t, y
                                WHERE t.closed_at >= y.first AND t.closed_at < y.next GROUP BY 1) x), '{}'))
$$;

ALTER FUNCTION bokvar.report_parts(integer) RENAME TO report_parts_yearly;
CREATE FUNCTION bokvar.report_parts(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT bokvar.report_parts_yearly(p_year) || bokvar.report_months(p_year)
$$;

-- Counts by key, nested or not ({key: n} or {key: {key: n}}): a + p_sign *
-- b, key by key; keys that come to nothing are left out.
CREATE FUNCTION bokvar.report_combine_counts(a jsonb, b jsonb, p_sign integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT coalesce(jsonb_object_agg(key, v) FILTER (WHERE v <> '0' AND v <> '{}'), '{}')
        FROM (SELECT coalesce(x.key, y.key) AS key,
                     CASE WHEN jsonb_typeof(coalesce(x.value, y.value)) = 'object'
                          THEN bokvar.report_combine_counts(coalesce(x.value, '{}'), coalesce(y.value, '{}'), p_sign)
                          ELSE to_jsonb(coalesce((x.value #>> '{}')::numeric, 0)
                                        + p_sign * coalesce((y.value #>> '{}')::numeric, 0)) END AS v
              FROM jsonb_each(a) x FULL JOIN jsonb_each(b) y ON y.key = x.key) z
$$;

-- a + p_sign * b, figure by figure (b NULL: a), as schema 6 adds them, and
-- counts by key (outcomes, the months) key by key. A figure b lacks (a
-- year purged before the figure existed) counts as nothing.
CREATE OR REPLACE FUNCTION bokvar.report_combine(a jsonb, b jsonb, p_sign integer) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN b IS NULL THEN a ELSE (
                SELECT jsonb_object_agg(k, CASE
                        WHEN k = 'year' THEN a -> k
                        WHEN k = 'signals' THEN (
                                SELECT coalesce(jsonb_agg(jsonb_build_object('source', source, 'kind', kind, 'count', n)
                                                          ORDER BY source::bokvar.feed_source, kind::bokvar.signal_kind)
                                                FILTER (WHERE n <> 0), '[]')
                                FROM (SELECT x ->> 'source' AS source, x ->> 'kind' AS kind,
                                             sum((x ->> 'count')::bigint * CASE WHEN o = 1 THEN 1 ELSE p_sign END) AS n
                                      FROM (SELECT 1, jsonb_array_elements(a -> 'signals')
                                            UNION ALL SELECT 2, jsonb_array_elements(coalesce(b -> 'signals', '[]'))) y(o, x)
                                      GROUP BY 1, 2) z)
                        WHEN jsonb_typeof(a -> k) = 'object' THEN
                                bokvar.report_combine_counts(a -> k, coalesce(b -> k, '{}'), p_sign)
                        WHEN jsonb_typeof(a -> k) = 'array' THEN (
                                SELECT coalesce(jsonb_agg(d ORDER BY d), '[]')
                                FROM (SELECT d FROM jsonb_array_elements(a -> k) x(d)
                                      UNION ALL SELECT d FROM jsonb_array_elements(coalesce(b -> k, '[]')) x(d)
                                      WHERE p_sign > 0
                                      EXCEPT ALL SELECT d FROM jsonb_array_elements(coalesce(b -> k, '[]')) x(d)
                                      WHERE p_sign < 0) z)
                        ELSE to_jsonb(coalesce((a ->> k)::numeric, 0) + p_sign * coalesce((b ->> k)::numeric, 0))
                END)
                FROM jsonb_object_keys(a) k) END
$$;

-- ---------------------------------------------------------------------
-- Privileges. The pages' reads are the web service's; choosing one's
-- language any person's (through the web service, a member of their
-- roles). access_grant (007) keeps doing the rest.

REVOKE EXECUTE ON FUNCTION bokvar.my_language_set(text), bokvar.web_person(text),
        bokvar.outbox_claim(text, integer, integer, jsonb, text[], bigint[]), bokvar.web_team_overview(),
        bokvar.web_task_brief(bigint), bokvar.web_feeds(), bokvar.web_dead_letters(integer),
        bokvar.web_outbox_retry(bigint),
        bokvar.web_access_log(bigint, text, timestamptz, timestamptz, boolean, integer, integer),
        bokvar.web_purges(integer), bokvar.report_months(integer), bokvar.report_parts(integer),
        bokvar.report_combine_counts(jsonb, jsonb, integer) FROM PUBLIC;

ALTER FUNCTION bokvar.access_grant(text, name) RENAME TO access_grant_web;

CREATE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        notes text[] := bokvar.access_grant_web(p_function, p_role);
BEGIN
        IF p_function IN ('caseworker', 'coordinator', 'operator', 'auditor') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.my_language_set(text) TO %I', p_role);
        ELSIF p_function = 'web' THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.web_person(text), bokvar.web_team_overview(), '
                               'bokvar.web_task_brief(bigint), bokvar.web_feeds(), bokvar.web_dead_letters(integer), '
                               'bokvar.web_outbox_retry(bigint), bokvar.web_access_log(bigint, text, timestamptz, '
                               'timestamptz, boolean, integer, integer), bokvar.web_purges(integer) TO %I', p_role);
        END IF;
        RETURN notes;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.access_grant(text, name) FROM PUBLIC;
