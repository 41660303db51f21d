-- SPDX-License-Identifier: GPL-3.0-or-later
-- Outreach tasks (sql/004_tasks.sql): teams and channels from the
-- configuration, routing, due dates, one open task per household (under
-- real concurrency), escalation, overdue events, the outbox and its
-- dispatcher side, what caseworkers and a case system do, the worklist and
-- the yearly report.
--
-- "Today" is 2026-03-10 (T) unless a step says otherwise: every
-- tasks_sync and tasks_overdue gets its day, and pg_temp.d(n) is T + n.
-- Scores are written straight into bokvar.score (class, points, nearest
-- deadline, the rules that fired), as score_apply would leave them, and
-- tasks_sync is called as the scores_changed hook calls it; section 4 also
-- goes through score_apply itself.
--
-- People act as themselves: each has a login role, in this database's
-- group role of their function, and their actions go through a connection
-- of their own (dblink, pg_temp.act), so that the database, not an
-- argument, says who did what. The file's own session is the schema's
-- owner (the system).
--
-- There is no outer transaction: parts of this file talk to the database
-- through more connections (dblink), which only see committed rows. Every
-- statement commits on its own unless a step opens a transaction (to have
-- one now() for several statements). The database is thrown away after
-- the run, so nothing is cleaned up; households are numbered by section.
--
--   1  config_sync, route, a task nobody's team covers     households 101
--   2  tasks_sync: new tasks, their team, caseworker, due   households 201-213
--   3  events, outbox rows per channel, payload, NOTIFY     households 201-301
--   4  escalation, lowered risk, closing, the score hook    households 401-405
--   5  tasks_overdue                                        households 501-503 (T = 2026-01-10)
--   6  task_ack, task_contact, task_close                   households 601-603
--   7  the dispatcher: outbox_claim, outbox_done, retries   households 701-707
--   8  a case system                                        households 801-802
--   9  the worklist's order                                 households 1001-1010
--  10  one open task per household, two sessions at once    households 1101-1102
--  11  the yearly report, 2023-2025                         households 9001-9014
--  12  a task's household and an event's task (013)        households 1201-1203
SET TimeZone = 'UTC';
CREATE EXTENSION dblink;
SELECT plan(270);

-- ---------------------------------------------------------------------
-- Helpers.

-- T + n.
CREATE FUNCTION pg_temp.d(n integer) RETURNS date
LANGUAGE sql IMMUTABLE AS $$ SELECT DATE '2026-03-10' + n $$;

-- A word as bokvard normalises it (basic/word.c) for the words of this
-- file: upper case, without spaces and punctuation.
CREATE FUNCTION pg_temp.word(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT nullif(upper(translate(t, ' .,-', '')), '') $$;

-- A household as an ingest leaves it: its postal code, city and landlord,
-- and their words routing compares.
CREATE FUNCTION pg_temp.hh(p_id bigint, p_postal text DEFAULT NULL, p_city text DEFAULT NULL, p_landlord text DEFAULT NULL,
                           p_children integer DEFAULT 0) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.household (id, postal_code, city, landlord, children, city_key, landlord_key)
        VALUES (p_id, pg_temp.word(p_postal), p_city, p_landlord, p_children, pg_temp.word(p_city), pg_temp.word(p_landlord))
$$;

-- The team of a household with this postal code, city and landlord, as
-- tasks_sync() routes it: bokvar.route_team() over the household's words.
CREATE FUNCTION pg_temp.route(p_postal text, p_city text, p_landlord text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
        t text;
BEGIN
        PERFORM pg_temp.hh(999999, p_postal, p_city, p_landlord);
        SELECT r.team INTO t
        FROM bokvar.household h
        LEFT JOIN LATERAL bokvar.route_team(h.postal_code, h.city_key, h.landlord_key) r ON true
        WHERE h.id = 999999;
        DELETE FROM bokvar.household WHERE id = 999999;
        RETURN t;
END;
$$;

-- The household's score as score_apply leaves it; then the hook's call,
-- on day T + p_day.
CREATE FUNCTION pg_temp.rescore(p_hh bigint, p_class text, p_score integer, p_deadline date, p_day integer,
                                p_rules text[] DEFAULT ARRAY['notice']) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.score AS s (household_id, score, class, ruleset_version, next_deadline, explanation,
                                       fingerprint, as_of)
        VALUES (p_hh, p_score, p_class::bokvar.risk_class, 1, p_deadline,
                (SELECT coalesce(jsonb_agg(jsonb_build_object('rule', r, 'description', 'The rule ' || r, 'points', 10,
                                                              'signals', '[]'::jsonb) ORDER BY n), '[]')
                 FROM unnest(p_rules) WITH ORDINALITY u(r, n)),
                0, pg_temp.d(p_day))
        ON CONFLICT (household_id) DO UPDATE
        SET score = excluded.score, class = excluded.class, next_deadline = excluded.next_deadline,
            explanation = excluded.explanation, as_of = excluded.as_of;
        SELECT bokvar.tasks_sync(ARRAY[p_hh], pg_temp.d(p_day));
$$;

-- The household's latest task (open or not).
CREATE FUNCTION pg_temp.task(p_hh bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT max(id) FROM bokvar.task WHERE household_id = p_hh $$;

-- What happened to a task, in order.
CREATE FUNCTION pg_temp.kinds(p_task bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$ SELECT coalesce(array_agg(kind ORDER BY id), '{}') FROM bokvar.task_event WHERE task_id = p_task $$;

-- Teams, channels and task settings, in the shape bokvard sends
-- (src/config/outreach-config.c, outreach_write_json), the routing words
-- with them.
CREATE FUNCTION pg_temp.teams() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$ SELECT $j$[
        {"name": "north", "postal_codes": ["602", "603 7"], "cities": [], "landlords": [], "caseworkers": ["anna", "bo"],
         "default": false, "email": "north@kommun.example", "postal_keys": ["602", "6037"], "city_keys": [],
         "landlord_keys": []},
        {"name": "centre", "postal_codes": [], "cities": ["Norrköping"], "landlords": [], "caseworkers": ["cia"],
         "default": false, "email": null, "postal_keys": [], "city_keys": ["NORRKÖPING"], "landlord_keys": []},
        {"name": "hsb", "postal_codes": [], "cities": [], "landlords": ["Hyresbostäder AB"], "caseworkers": [],
         "default": false, "email": "hsb@kommun.example", "postal_keys": [], "city_keys": [],
         "landlord_keys": ["HYRESBOSTÄDERAB"]},
        {"name": "order", "postal_codes": ["99"], "cities": [], "landlords": [], "caseworkers": [],
         "default": false, "email": null, "postal_keys": ["99"], "city_keys": [], "landlord_keys": []},
        {"name": "rest", "postal_codes": [], "cities": [], "landlords": [], "caseworkers": ["dan"],
         "default": true, "email": "rest@kommun.example", "postal_keys": [], "city_keys": [], "landlord_keys": []}]$j$::jsonb
$$;
CREATE FUNCTION pg_temp.channels() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT '[{"name": "hook", "type": "webhook"}, {"name": "archive", "type": "webhook"}, {"name": "mail", "type": "smtp"}]'::jsonb
$$;
CREATE FUNCTION pg_temp.settings(p_max_attempts integer DEFAULT 10) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT jsonb_build_object('lead_days', 3, 'service_urgent_days', 2, 'service_outreach_days', 7,
                                  'max_attempts', p_max_attempts)
$$;
-- The people besides the teams' caseworkers: a coordinator, an operator, and
-- a case system that holds the tasks of team centre.
CREATE FUNCTION pg_temp.people() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT '{"coordinators": ["cora"], "operators": ["eva"],
                 "case_systems": [{"login": "procapita", "teams": ["centre"]}]}'::jsonb
$$;
CREATE FUNCTION pg_temp.config(p_teams jsonb DEFAULT pg_temp.teams(), p_channels jsonb DEFAULT pg_temp.channels(),
                               p_tasks jsonb DEFAULT pg_temp.settings()) RETURNS void
LANGUAGE sql AS $$
        SELECT bokvar.config_sync(jsonb_build_object('teams', p_teams, 'channels', p_channels, 'tasks', p_tasks,
                                                     'people', pg_temp.people()))
$$;

-- More connections to this database (dblink runs in the server: the
-- server's own socket and peer authentication first, else TCP with the
-- password pg_virtualenv put in PGPASSWORD of the psql running this file).
\set pgpassword ''
\getenv pgpassword PGPASSWORD
SELECT '' FROM (SELECT set_config('tap.password', :'pgpassword', false)) x;
CREATE TABLE pg_temp.conn (name text PRIMARY KEY, pid integer NOT NULL, how text NOT NULL);
CREATE FUNCTION pg_temp.connect(p_name text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
        base text := format('dbname=%s port=%s user=%s application_name=tap_%s', current_database(), inet_server_port(),
                            current_user, p_name);
        sock text := trim(split_part(current_setting('unix_socket_directories'), ',', 1));
        how text := 'unix socket';
BEGIN
        BEGIN
                IF sock = '' THEN
                        RAISE sqlclient_unable_to_establish_sqlconnection;
                END IF;
                PERFORM dblink_connect(p_name, base || ' host=' || sock);
        EXCEPTION WHEN sqlclient_unable_to_establish_sqlconnection THEN
                how := 'tcp';
                PERFORM dblink_connect(p_name, base || format(' host=%s password=''%s''',
                        coalesce(host(inet_server_addr()), 'localhost'),
                        replace(replace(current_setting('tap.password', true), '\', '\\'), '''', '\''')));
        END;
        PERFORM dblink_exec(p_name, 'SET statement_timeout = ''20s''');
        INSERT INTO pg_temp.conn
        SELECT p_name, pid, how FROM dblink(p_name, 'SELECT pg_backend_pid()') AS x(pid integer);
        RETURN how;
END;
$$;

\ir logins.psql

-- Whether a connection's backend waits for a lock (up to ten seconds).
CREATE FUNCTION pg_temp.waits_for_lock(p_name text) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
        FOR i IN 1..200 LOOP
                PERFORM pg_stat_clear_snapshot();
                IF EXISTS (SELECT 1 FROM pg_stat_activity a JOIN pg_temp.conn c ON c.pid = a.pid
                           WHERE c.name = p_name AND a.wait_event_type = 'Lock') THEN
                        RETURN true;
                END IF;
                PERFORM pg_sleep(0.05);
        END LOOP;
        RETURN false;
END;
$$;

-- Notifications on bokvar_outbox the listening connection got within
-- p_wait seconds (it stops at the first).
CREATE FUNCTION pg_temp.notified(p_wait numeric) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer := 0;
        until timestamptz := clock_timestamp() + make_interval(secs => p_wait);
BEGIN
        LOOP
                n := n + (SELECT count(*) FROM dblink_get_notify('listener') WHERE notify_name = 'bokvar_outbox');
                EXIT WHEN n > 0 OR clock_timestamp() > until;
                PERFORM pg_sleep(0.05);
        END LOOP;
        RETURN n;
END;
$$;
-- Reads whatever is in flight, to start from nothing.
CREATE FUNCTION pg_temp.drain() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_sleep(0.3);
        PERFORM dblink_get_notify('listener');
END;
$$;

SELECT pg_temp.login('anna', 'caseworker');
SELECT pg_temp.login('bo', 'caseworker');
SELECT pg_temp.login('cia', 'caseworker');
SELECT pg_temp.login('dan', 'caseworker');
SELECT pg_temp.login('cora', 'coordinator');
SELECT pg_temp.login('eva', 'operator');
SELECT pg_temp.login('procapita', 'case_system');

-- =====================================================================
-- 1. config_sync and route.
--
-- A first configuration, then the one this file runs with: teams and
-- channels no longer configured go, the others take their new settings.
SELECT pg_temp.config($j$[{"name": "gone", "postal_codes": ["1"], "cities": [], "landlords": [], "caseworkers": [],
                           "default": true, "email": null},
                          {"name": "north", "postal_codes": ["602"], "cities": [], "landlords": [], "caseworkers": ["anna"],
                           "default": false, "email": "old@kommun.example"}]$j$,
                      '[{"name": "old", "type": "webhook"}, {"name": "hook", "type": "smtp"}]',
                      '{"lead_days": 4, "service_urgent_days": 1, "service_outreach_days": 5, "max_attempts": 3}');
SELECT results_eq($$SELECT name, position, is_default, email FROM bokvar.team ORDER BY position$$,
                  $$VALUES ('gone', 1, true, NULL::text), ('north', 2, false, 'old@kommun.example')$$,
                  'config_sync: the first configuration''s teams');
SELECT pg_temp.config();
SELECT results_eq($$SELECT name, position, postal_codes, cities, landlords, is_default, email, caseworkers
                    FROM bokvar.team ORDER BY position$$,
                  $$VALUES ('north', 1, ARRAY['602', '603 7'], '{}'::text[], '{}'::text[], false, 'north@kommun.example', ARRAY['anna', 'bo']),
                           ('centre', 2, '{}', ARRAY['Norrköping'], '{}', false, NULL, ARRAY['cia']),
                           ('hsb', 3, '{}', '{}', ARRAY['Hyresbostäder AB'], false, 'hsb@kommun.example', '{}'),
                           ('order', 4, ARRAY['99'], '{}', '{}', false, NULL, '{}'),
                           ('rest', 5, '{}', '{}', '{}', true, 'rest@kommun.example', ARRAY['dan'])$$,
                  'config_sync: teams replaced: one gone, one updated (position, postal codes, email, caseworkers), '
                  'new ones in configured order');
SELECT results_eq($$SELECT name, type FROM bokvar.channel ORDER BY name$$,
                  $$VALUES ('archive', 'webhook'), ('hook', 'webhook'), ('mail', 'smtp')$$,
                  'config_sync: channels replaced: one gone, one changed type, new ones');
SELECT results_eq($$SELECT lead_days, service_urgent_days, service_outreach_days, max_attempts FROM bokvar.task_settings$$,
                  $$VALUES (3, 2, 7, 10)$$, 'config_sync: task settings taken');

-- Routing: the first team in configured order whose postal code prefix,
-- city or landlord matches; else the default team.
SELECT is(pg_temp.route('60234', NULL, NULL), 'north', 'route: postal code prefix 602');
SELECT is(pg_temp.route('603 71', NULL, NULL), 'north', 'route: prefix "603 7" and code "603 71" compare normalised');
SELECT is(pg_temp.route('60380', NULL, NULL), 'rest', 'route: 60380 does not start with 6037: the default team');
SELECT is(pg_temp.route('16023', NULL, NULL), 'rest', 'route: 602 inside a code is no prefix');
-- Cities and landlords compare as words (bokvard normalises the teams' and
-- the households' alike, whatever the database's LC_CTYPE).
SELECT is(pg_temp.route(NULL, 'NORRKÖPING', NULL), 'centre', 'route: city, whatever the case');
SELECT is(pg_temp.route(NULL, 'Norrköpings kommun', NULL), 'rest', 'route: a city matches as a whole name');
SELECT is(pg_temp.route(NULL, NULL, 'hyresbostäder ab'), 'hsb', 'route: landlord, whatever the case');
SELECT is(pg_temp.route('60234', 'Norrköping', 'Hyresbostäder AB'), 'north',
          'route: postal code, city and landlord of three teams: the first team in configured order');
SELECT is(pg_temp.route(NULL, 'Norrköping', 'Hyresbostäder AB'), 'centre',
          'route: city (team 2) before landlord (team 3)');
SELECT is(pg_temp.route('99100', 'Norrköping', NULL), 'centre', 'route: city (team 2) before postal code (team 4)');
SELECT is(pg_temp.route(NULL, NULL, NULL), 'rest', 'route: nothing known: the default team');

-- The configured order is what counts: hsb moved before centre.
SELECT pg_temp.config(jsonb_build_array(pg_temp.teams() -> 0, pg_temp.teams() -> 2, pg_temp.teams() -> 1,
                                        pg_temp.teams() -> 3, pg_temp.teams() -> 4));
SELECT is(pg_temp.route(NULL, 'Norrköping', 'Hyresbostäder AB'), 'hsb', 'route after reordering: landlord team now first');

-- Moving the default to a team listed before the old default: the index
-- team_one_default is checked per row, so config_sync clears it first.
SELECT lives_ok($$SELECT pg_temp.config(jsonb_set(jsonb_set(pg_temp.teams(), '{1,default}', 'true'), '{4,default}', 'false'))$$,
                'config_sync: the default moves to a team listed before the old default');
SELECT is(pg_temp.route(NULL, NULL, NULL), 'centre', '... and unmatched households go to the new default');

-- Without a default team a household no team covers gets a task of team
-- "unrouted", without caseworker, and no e-mail (no team address).
SELECT pg_temp.config(jsonb_set(pg_temp.teams(), '{4,default}', 'false'));
SELECT is(pg_temp.route(NULL, NULL, NULL), NULL, 'route without a default team: NULL for a household no team covers');
SELECT pg_temp.hh(101);
SELECT pg_temp.rescore(101, 'outreach', 60, NULL, 0);
SELECT results_eq($$SELECT team, assignee FROM bokvar.task WHERE household_id = 101$$,
                  $$VALUES ('unrouted', NULL::text)$$, 'tasks_sync: a household no team covers: team unrouted, nobody assigned');
SELECT results_eq($$SELECT channel, recipient FROM bokvar.outbox WHERE task_id = pg_temp.task(101) ORDER BY channel$$,
                  $$VALUES ('archive', NULL::text), ('hook', NULL)$$, '... its event goes to the webhooks only');
SELECT pg_temp.config();
SELECT is(pg_temp.route(NULL, NULL, NULL), 'rest', 'the configuration this file runs with is back');

-- =====================================================================
-- 2. tasks_sync: a household reaching outreach or urgent gets a task,
-- routed, assigned to the team's caseworker with the fewest open tasks,
-- due at the legal deadline minus the lead time (3 days) or the class's
-- service time (urgent 2, outreach 7 days) from today, whichever comes
-- first, never before today.
SELECT is(bokvar.task_due('outreach', pg_temp.d(20), pg_temp.d(0)), pg_temp.d(7), 'task_due outreach, deadline in 20 days: the service time (7 days)');
SELECT is(bokvar.task_due('outreach', pg_temp.d(8), pg_temp.d(0)), pg_temp.d(5), 'task_due outreach, deadline in 8 days: deadline minus lead time');
SELECT is(bokvar.task_due('outreach', pg_temp.d(10), pg_temp.d(0)), pg_temp.d(7), 'task_due outreach, both the same day');
SELECT is(bokvar.task_due('urgent', pg_temp.d(20), pg_temp.d(0)), pg_temp.d(2), 'task_due urgent, deadline in 20 days: the service time (2 days)');
SELECT is(bokvar.task_due('urgent', pg_temp.d(4), pg_temp.d(0)), pg_temp.d(1), 'task_due urgent, deadline in 4 days: deadline minus lead time');
SELECT is(bokvar.task_due('outreach', NULL, pg_temp.d(0)), pg_temp.d(7), 'task_due outreach without deadline: the service time');
SELECT is(bokvar.task_due('urgent', NULL, pg_temp.d(0)), pg_temp.d(2), 'task_due urgent without deadline: the service time');
SELECT is(bokvar.task_due('urgent', pg_temp.d(1), pg_temp.d(0)), pg_temp.d(0), 'task_due: deadline tomorrow: today, not before');
SELECT is(bokvar.task_due('outreach', pg_temp.d(-5), pg_temp.d(0)), pg_temp.d(0), 'task_due: a deadline passed: today');
SELECT is(bokvar.task_due('outreach', pg_temp.d(20), pg_temp.d(3)), pg_temp.d(10), 'task_due: the service time counts from the day given');

-- Other settings from the configuration.
SELECT pg_temp.config(p_tasks => '{"lead_days": 5, "service_urgent_days": 1, "service_outreach_days": 10, "max_attempts": 10}');
SELECT is(bokvar.task_due('outreach', pg_temp.d(20), pg_temp.d(0)), pg_temp.d(10), 'task_due with service_outreach_days 10');
SELECT is(bokvar.task_due('outreach', pg_temp.d(12), pg_temp.d(0)), pg_temp.d(7), 'task_due with lead_days 5');
SELECT is(bokvar.task_due('urgent', pg_temp.d(20), pg_temp.d(0)), pg_temp.d(1), 'task_due with service_urgent_days 1');
SELECT pg_temp.hh(213);
SELECT pg_temp.rescore(213, 'outreach', 60, pg_temp.d(12), 0);
SELECT is((SELECT due FROM bokvar.task WHERE household_id = 213), pg_temp.d(7), 'tasks_sync uses the configured lead time');
SELECT pg_temp.config();

-- Households: 201 with an identity number, name and address in its
-- signals (section 3 looks for them in what is sent).
SELECT pg_temp.hh(201, '60234', 'Norrköping', 'Hyresbostäder AB', 2);
SELECT pg_temp.hh(202, '60211');
SELECT pg_temp.hh(203, NULL, 'NORRKÖPING', NULL, 1);
SELECT pg_temp.hh(204, '11122', 'Stockholm', 'hyresbostäder ab');
SELECT pg_temp.hh(205, '11122', 'Stockholm', 'Privat');
SELECT pg_temp.hh(206, '60201');
SELECT pg_temp.hh(207, '60201');
SELECT pg_temp.hh(208, '60201');
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, person_id, name, address, postal_code,
                           city, apartment, children, amount, months_in_arrears, landlord, household_id, fetch_id)
OVERRIDING SYSTEM VALUE VALUES
        (2011, 'tap', '2011', 'landlord', 'termination_notice', pg_temp.d(-1), pg_temp.d(20), '198112289874', 'Karin Lind',
         'Storgatan 12 B', '602 34', 'Norrköping', '1102', 2, 12345.50, 3, 'Hyresbostäder AB', 201, 1),
        (2012, 'tap', '2012', 'landlord', 'arrears', pg_temp.d(-30), NULL, '198112289874', 'Karin Lind',
         'Storgatan 12 B', '602 34', 'Norrköping', '1102', 2, 8000, 2, 'Hyresbostäder AB', 201, 1);
INSERT INTO bokvar.household_person VALUES ('198112289874', 201);

SELECT pg_temp.rescore(201, 'outreach', 60, pg_temp.d(20), 0, ARRAY['notice', 'arrears']);
SELECT pg_temp.rescore(202, 'urgent', 95, pg_temp.d(10), 0);
SELECT pg_temp.rescore(203, 'outreach', 55, pg_temp.d(8), 0);
SELECT pg_temp.rescore(204, 'outreach', 70, NULL, 0);
SELECT pg_temp.rescore(205, 'urgent', 120, pg_temp.d(1), 0);
SELECT pg_temp.rescore(206, 'watch', 30, pg_temp.d(5), 0);
SELECT pg_temp.rescore(207, 'none', 0, NULL, 0);
SELECT bokvar.tasks_sync(ARRAY[208], pg_temp.d(0));   -- no score at all
SELECT results_eq($$SELECT household_id, status, class::text, opened_class::text, top_class::text, score, team, assignee,
                           deadline, due
                    FROM bokvar.task WHERE household_id BETWEEN 201 AND 208 ORDER BY household_id$$,
                  $$VALUES (201::bigint, 'open', 'outreach', 'outreach', 'outreach', 60, 'north', 'anna', pg_temp.d(20), pg_temp.d(7)),
                           (202, 'open', 'urgent', 'urgent', 'urgent', 95, 'north', 'bo', pg_temp.d(10), pg_temp.d(2)),
                           (203, 'open', 'outreach', 'outreach', 'outreach', 55, 'centre', 'cia', pg_temp.d(8), pg_temp.d(5)),
                           (204, 'open', 'outreach', 'outreach', 'outreach', 70, 'hsb', NULL, NULL, pg_temp.d(7)),
                           (205, 'open', 'urgent', 'urgent', 'urgent', 120, 'rest', 'dan', pg_temp.d(1), pg_temp.d(0))$$,
                  'tasks_sync: a task for each household at outreach or urgent (none for watch, none, or no score): '
                  'team by postal code, city, landlord or default; the caseworker with the fewest open tasks; '
                  'deadline and due date');
SELECT ok((SELECT bool_and(created_at BETWEEN now() - interval '5 minutes' AND now() AND acknowledged_at IS NULL
                           AND first_contact_at IS NULL AND closed_at IS NULL AND outcome IS NULL)
           FROM bokvar.task WHERE household_id BETWEEN 201 AND 205),
          'tasks_sync: new tasks are created now, not acknowledged, contacted or closed');
-- The report finds closed tasks by their closing time, and only they have
-- one: opening a task writes no entry into task_closed.
SELECT is((SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i WHERE i.indexrelid = 'bokvar.task_closed'::regclass),
          '(closed_at IS NOT NULL)', 'task_closed: an index of the closed tasks only');

-- Caseworkers: anna and bo have one open task each; ties go by name.
SELECT pg_temp.hh(209, '60201');
SELECT pg_temp.hh(210, '60201');
SELECT pg_temp.rescore(209, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(210, 'outreach', 60, NULL, 0);
SELECT results_eq($$SELECT household_id, assignee FROM bokvar.task WHERE household_id IN (209, 210) ORDER BY 1$$,
                  $$VALUES (209::bigint, 'anna'), (210, 'bo')$$,
                  'tasks_sync: a tie goes to the first caseworker by name, then to the one with fewer open tasks');
-- The tasks one call hands out count too: two new tasks of team north in
-- one call, anna and bo with two open tasks each, go one to each.
SELECT pg_temp.hh(211, '60201');
SELECT pg_temp.hh(212, '60201');
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, explanation, as_of)
VALUES (211, 60, 'outreach', 1, '[]', pg_temp.d(0)), (212, 60, 'outreach', 1, '[]', pg_temp.d(0));
SELECT bokvar.tasks_sync(ARRAY[211, 212], pg_temp.d(0));
SELECT results_eq($$SELECT assignee FROM bokvar.task WHERE household_id IN (211, 212) ORDER BY assignee$$,
                  $$VALUES ('anna'), ('bo')$$,
                  'tasks_sync: new tasks of one call are shared among the caseworkers by their open tasks');

-- Nothing new the second time.
CREATE TEMP TABLE before_resync AS SELECT (SELECT count(*) FROM bokvar.task) AS tasks, (SELECT count(*) FROM bokvar.task_event) AS events,
                                          (SELECT count(*) FROM bokvar.outbox) AS outbox;
SELECT bokvar.tasks_sync(ARRAY(SELECT generate_series(201, 213)::bigint), pg_temp.d(0));
SELECT results_eq($$SELECT (SELECT count(*) FROM bokvar.task), (SELECT count(*) FROM bokvar.task_event), (SELECT count(*) FROM bokvar.outbox)$$,
                  $$SELECT tasks, events, outbox FROM before_resync$$,
                  'tasks_sync again with the same scores: no task, event or outbox row more');

-- =====================================================================
-- 3. Events and the outbox. Each new task has one "created" event; each
-- event sent goes to the outbox once per channel (webhooks hook and
-- archive, e-mail mail), e-mail only for teams with an address.
SELECT results_eq($$SELECT t.household_id, e.kind, e.by, e.class::text FROM bokvar.task t JOIN bokvar.task_event e ON e.task_id = t.id
                    WHERE t.household_id BETWEEN 201 AND 205 ORDER BY 1$$,
                  $$VALUES (201::bigint, 'created', 'bokvar', 'outreach'), (202, 'created', 'bokvar', 'urgent'),
                           (203, 'created', 'bokvar', 'outreach'), (204, 'created', 'bokvar', 'outreach'),
                           (205, 'created', 'bokvar', 'urgent')$$,
                  'task_event: one created event per new task, by bokvar, with its class');
SELECT results_eq($$SELECT o.channel, o.kind, o.recipient, o.event_id = e.event_id, o.status, o.attempts
                    FROM bokvar.outbox o JOIN bokvar.task_event e ON e.task_id = o.task_id
                    WHERE o.task_id = pg_temp.task(201) ORDER BY o.channel$$,
                  $$VALUES ('archive', 'created', NULL::text, true, 'pending', 0), ('hook', 'created', NULL, true, 'pending', 0),
                           ('mail', 'created', 'north@kommun.example', true, 'pending', 0)$$,
                  'outbox: a row per channel for a team with an e-mail address, the event''s id, the team''s address for mail');
SELECT results_eq($$SELECT channel, recipient FROM bokvar.outbox WHERE task_id = pg_temp.task(203) ORDER BY channel$$,
                  $$VALUES ('archive', NULL::text), ('hook', NULL)$$, 'outbox: a team without an e-mail address: webhooks only');
SELECT results_eq($$SELECT channel, recipient FROM bokvar.outbox WHERE task_id = pg_temp.task(204) ORDER BY channel$$,
                  $$VALUES ('archive', NULL::text), ('hook', NULL), ('mail', 'hsb@kommun.example')$$,
                  'outbox: the mail goes to the task''s team');
SELECT is((SELECT count(DISTINCT payload)::integer FROM bokvar.outbox WHERE task_id = pg_temp.task(201)), 1,
          'outbox: every channel gets the same payload');

-- The payload: Standard Webhooks shape, what a caseworker needs, nothing
-- that identifies the household.
SELECT is((SELECT payload FROM bokvar.outbox WHERE task_id = pg_temp.task(201) AND channel = 'hook'),
          (SELECT jsonb_build_object('type', 'task.created', 'timestamp', o.payload -> 'timestamp', 'event_id', e.event_id,
                                     'data', jsonb_build_object('task_id', t.id, 'status', 'open', 'team', 'north',
                                                                'assignee', 'anna', 'class', 'outreach', 'score', 60,
                                                                'due', '2026-03-17', 'deadline', '2026-03-30', 'children', 2,
                                                                'rules', '["notice", "arrears"]'::jsonb))
           FROM bokvar.task t JOIN bokvar.task_event e ON e.task_id = t.id JOIN bokvar.outbox o ON o.event_id = e.event_id
           WHERE t.household_id = 201 AND o.channel = 'hook'),
          'payload: {type, timestamp, event_id, data: {task_id, status, team, assignee, class, score, due, deadline, '
          'children, rules}}');
SELECT matches((SELECT payload ->> 'timestamp' FROM bokvar.outbox WHERE task_id = pg_temp.task(201) AND channel = 'hook'),
               '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$', 'payload: the timestamp in UTC, to the second');
SELECT is((SELECT (o.payload ->> 'timestamp')::timestamptz FROM bokvar.outbox o WHERE o.task_id = pg_temp.task(201) AND o.channel = 'hook'),
          (SELECT date_trunc('second', e.at) FROM bokvar.task_event e WHERE e.task_id = pg_temp.task(201)),
          'payload: the timestamp is when the event happened');
SELECT is((SELECT payload #> '{data,deadline}' FROM bokvar.outbox WHERE task_id = pg_temp.task(204) AND channel = 'hook'),
          'null'::jsonb, 'payload: no legal deadline known: null');
SELECT is_empty($$SELECT o.channel, x.needle
                  FROM bokvar.outbox o
                  CROSS JOIN unnest(ARRAY['198112289874', '8112289874', '811228-9874', 'Karin', 'Lind', 'Storgatan']) x(needle)
                  WHERE o.task_id = pg_temp.task(201)
                    AND strpos(upper(o.payload::text), upper(x.needle)) > 0$$,
                'payload of household 201 (what the webhook sends, and what the e-mail is written from): no identity '
                'number, name or address of its signals');

-- NOTIFY bokvar_outbox wakes the dispatchers when outbox rows were
-- written, at commit; a listening connection sees it.
SELECT diag('dblink connection listener: ' || pg_temp.connect('listener'));
SELECT FROM dblink_exec('listener', 'LISTEN bokvar_outbox');
SELECT pg_temp.drain();
SELECT pg_temp.hh(301);
SELECT pg_temp.rescore(301, 'outreach', 60, NULL, 0);
SELECT cmp_ok(pg_temp.notified(10), '>', 0, 'NOTIFY bokvar_outbox after a new task''s transaction commits');
SELECT pg_temp.drain();
SELECT pg_temp.act('dan', format('SELECT bokvar.task_ack(%s)', pg_temp.task(301)));
SELECT is(pg_temp.notified(1), 0, 'no NOTIFY for an acknowledgement, which writes no outbox row');
SELECT pg_temp.drain();
SELECT bokvar.tasks_sync(ARRAY[301], pg_temp.d(0));
SELECT is(pg_temp.notified(1), 0, 'no NOTIFY for a tasks_sync that changes nothing');

-- =====================================================================
-- 4. A task follows its household's class. Household 401 (team rest):
-- outreach, urgent (escalated), outreach and none (lowered), urgent again
-- (no higher than before: quiet).
SELECT pg_temp.hh(401, '11122');
SELECT pg_temp.rescore(401, 'outreach', 60, pg_temp.d(30), 0);
SELECT pg_temp.rescore(401, 'urgent', 95, pg_temp.d(10), 1);
SELECT results_eq($$SELECT status, class::text, opened_class::text, top_class::text, score, deadline, due FROM bokvar.task WHERE household_id = 401$$,
                  $$VALUES ('open', 'urgent', 'outreach', 'urgent', 95, pg_temp.d(10), pg_temp.d(3))$$,
                  'escalated: class, top class, score and deadline follow; due sooner (deadline T+10 minus 3 days)');
SELECT is(pg_temp.kinds(pg_temp.task(401)), ARRAY['created', 'escalated'], 'escalated: an escalated event');
SELECT results_eq($$SELECT channel, payload ->> 'type', payload #>> '{data,class}', payload #>> '{data,due}',
                           payload #>> '{data,deadline}', (payload #>> '{data,score}')::integer
                    FROM bokvar.outbox WHERE task_id = pg_temp.task(401) AND kind = 'escalated' ORDER BY channel$$,
                  $$VALUES ('archive', 'task.escalated', 'urgent', '2026-03-13', '2026-03-20', 95),
                           ('hook', 'task.escalated', 'urgent', '2026-03-13', '2026-03-20', 95),
                           ('mail', 'task.escalated', 'urgent', '2026-03-13', '2026-03-20', 95)$$,
                  'escalated: sent to every channel with the task as it is now');
SELECT pg_temp.rescore(401, 'outreach', 70, pg_temp.d(10), 2);
SELECT results_eq($$SELECT status, class::text, top_class::text, score, due FROM bokvar.task WHERE household_id = 401$$,
                  $$VALUES ('open', 'outreach', 'urgent', 70, pg_temp.d(3))$$,
                  'risk lowered: the task stays open, class follows, top class and due stay');
SELECT pg_temp.rescore(401, 'none', 0, NULL, 3);
SELECT results_eq($$SELECT status, class::text, top_class::text FROM bokvar.task WHERE household_id = 401$$,
                  $$VALUES ('open', 'none', 'urgent')$$, 'risk lowered to none: still open; only task_close closes');
SELECT is(pg_temp.kinds(pg_temp.task(401)), ARRAY['created', 'escalated', 'risk_lowered', 'risk_lowered'],
          'risk lowered: an event each time');
SELECT results_eq($$SELECT class::text, payload ->> 'type' FROM bokvar.task_event e JOIN bokvar.outbox o USING (event_id)
                    WHERE e.task_id = pg_temp.task(401) AND e.kind = 'risk_lowered' AND o.channel = 'hook' ORDER BY e.id$$,
                  $$VALUES ('outreach', 'task.risk_lowered'), ('none', 'task.risk_lowered')$$,
                  'risk lowered: events with the new class, sent');
SELECT pg_temp.rescore(401, 'urgent', 100, pg_temp.d(10), 4);
SELECT results_eq($$SELECT status, class::text, top_class::text, score, due FROM bokvar.task WHERE household_id = 401$$,
                  $$VALUES ('open', 'urgent', 'urgent', 100, pg_temp.d(3))$$,
                  'back up to the top class it had: the task follows');
SELECT is(pg_temp.kinds(pg_temp.task(401)), ARRAY['created', 'escalated', 'risk_lowered', 'risk_lowered'],
          '... quietly: no event');
SELECT results_eq($$SELECT kind, count(*)::integer FROM bokvar.outbox WHERE task_id = pg_temp.task(401) GROUP BY kind ORDER BY kind$$,
                  $$VALUES ('created', 3), ('escalated', 3), ('risk_lowered', 6)$$,
                  'outbox: three channels for each of the four events sent, nothing for the quiet one');
SELECT is((SELECT count(*)::integer FROM bokvar.task WHERE household_id = 401), 1, 'one task all along');

-- An escalation never makes a task due later: 402 was due on T+7; urgent
-- on T+6 without a deadline would be due T+8.
SELECT pg_temp.hh(402, '11122');
SELECT pg_temp.rescore(402, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(402, 'urgent', 95, NULL, 6);
SELECT results_eq($$SELECT class::text, due FROM bokvar.task WHERE household_id = 402$$,
                  $$VALUES ('urgent', pg_temp.d(7))$$, 'escalated late: due no later than before');
SELECT is(pg_temp.kinds(pg_temp.task(402)), ARRAY['created', 'escalated'], '... and escalated all the same');

-- Lowered, back (quiet), then above the top class: escalated.
SELECT pg_temp.hh(403, '11122');
SELECT pg_temp.rescore(403, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(403, 'watch', 30, NULL, 1);
SELECT pg_temp.rescore(403, 'outreach', 65, NULL, 2);
SELECT pg_temp.rescore(403, 'urgent', 95, NULL, 3);
SELECT is(pg_temp.kinds(pg_temp.task(403)), ARRAY['created', 'risk_lowered', 'escalated'],
          'outreach, watch (lowered), outreach (quiet), urgent (escalated)');
SELECT results_eq($$SELECT class::text, top_class::text, due FROM bokvar.task WHERE household_id = 403$$,
                  $$VALUES ('urgent', 'urgent', pg_temp.d(5))$$, '... urgent, due two days after the escalation');

-- A new score in the same class: the task follows it quietly, and a
-- nearer legal deadline brings the due date forward. 405 is outreach
-- without a deadline (due T+7); on T+1 a disconnection notice due T+5
-- raises it to 75, still outreach: due T+2 (T+5 minus 3 days).
SELECT pg_temp.hh(405, '11122');
SELECT pg_temp.rescore(405, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(405, 'outreach', 75, pg_temp.d(5), 1);
SELECT results_eq($$SELECT class::text, score, deadline FROM bokvar.task WHERE household_id = 405$$,
                  $$VALUES ('outreach', 75, pg_temp.d(5))$$,
                  'same class, new score and deadline: the open task follows the score and the deadline');
SELECT is(pg_temp.kinds(pg_temp.task(405)), ARRAY['created'], '... quietly: no event');
SELECT is((SELECT due FROM bokvar.task WHERE household_id = 405), pg_temp.d(2),
          'same class, a nearer deadline: due no later than the deadline minus the lead time');
SELECT pg_temp.rescore(405, 'outreach', 70, pg_temp.d(20), 2);
SELECT results_eq($$SELECT score, deadline, due FROM bokvar.task WHERE household_id = 405$$,
                  $$VALUES (70, pg_temp.d(20), pg_temp.d(2))$$, 'same class, a later deadline: the due date stays');

-- Closing, and a new task when the score changes again: through
-- score_apply and its scores_changed hook, with a ruleset.
SELECT is(pg_temp.act('dan', format('SELECT (bokvar.task_close(%s, %L)).status', pg_temp.task(401), 'payment_plan')),
          'closed', 'task_close closes 401');
SELECT pg_temp.hh(404, '11122');
SELECT FROM bokvar.ruleset_load($${"window_days": 365, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90},
        "rules": [{"name": "notice", "points": 60, "when": {"kind": ["termination_notice"]}},
                  {"name": "scheduled", "points": 40, "when": {"kind": ["eviction_scheduled"]}}]}$$,
        'rules: [notice, scheduled]', '/etc/bokvar/rules.yaml', 'tap');
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id)
OVERRIDING SYSTEM VALUE VALUES (4041, 'tap', '4041', 'landlord', 'termination_notice', pg_temp.d(-5), pg_temp.d(16), 404, 1);
SELECT is(bokvar.score_apply(ARRAY[404], pg_temp.d(0)), 1, 'score_apply: 404 scored');
SELECT results_eq($$SELECT status, class::text, score, deadline, due, team FROM bokvar.task WHERE household_id = 404$$,
                  $$VALUES ('open', 'outreach', 60, pg_temp.d(16), pg_temp.d(7), 'rest')$$,
                  'score_apply: the scores_changed hook opened a task in the same transaction');
SELECT is((SELECT payload #> '{data,rules}' FROM bokvar.outbox WHERE task_id = pg_temp.task(404) AND channel = 'hook'),
          '["notice"]'::jsonb, 'payload: the rules of the score''s explanation');
SELECT pg_temp.act('dan', format('SELECT bokvar.task_close(%s, %L, %L)', pg_temp.task(404), 'referred',
                                 'to the debt counsellor'));
SELECT is(bokvar.score_apply(ARRAY[404], pg_temp.d(0)), 0, 'score_apply again: nothing changed');
SELECT is((SELECT count(*)::integer FROM bokvar.task WHERE household_id = 404), 1, '... and no new task after the close');
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id)
OVERRIDING SYSTEM VALUE VALUES (4042, 'enforcement', '4042', 'enforcement', 'eviction_scheduled', pg_temp.d(-1), pg_temp.d(20), 404, 1);
SELECT is(bokvar.score_apply(ARRAY[404], pg_temp.d(0)), 1, 'a new signal: the score changes');
SELECT results_eq($$SELECT status, outcome::text, class::text, opened_class::text, score FROM bokvar.task WHERE household_id = 404 ORDER BY id$$,
                  $$VALUES ('closed', 'referred', 'outreach', 'outreach', 60), ('open', NULL, 'urgent', 'urgent', 100)$$,
                  'after a close, a score that changes again opens a new task; the closed one stays as it was');
SELECT is(pg_temp.kinds(pg_temp.task(404)), ARRAY['created'], '... with its own created event');

-- =====================================================================
-- 5. tasks_overdue: an open task past its due date gets one overdue event
-- per due date. These tasks start on D = 2026-01-10, long before every
-- other task of this file is due.
SELECT pg_temp.hh(501, '11122');
SELECT pg_temp.hh(502, '11122');
SELECT pg_temp.hh(503, '11122');
SELECT pg_temp.rescore(501, 'outreach', 60, NULL, -59);   -- due 2026-01-17
SELECT pg_temp.rescore(502, 'urgent', 95, NULL, -59);     -- due 2026-01-12
SELECT pg_temp.rescore(503, 'urgent', 95, NULL, -59);     -- due 2026-01-12, closed
SELECT pg_temp.act('dan', format('SELECT bokvar.task_close(%s, %L)', pg_temp.task(503), 'moved'));
SELECT is(bokvar.tasks_overdue('2026-01-12'), 0, 'tasks_overdue on the due day: not overdue yet');
SELECT is(bokvar.tasks_overdue('2026-01-13'), 1, 'tasks_overdue the day after: one task (the closed one is not)');
SELECT results_eq($$SELECT household_id, overdue_noted FROM bokvar.task WHERE household_id BETWEEN 501 AND 503 ORDER BY 1$$,
                  $$VALUES (501::bigint, NULL::date), (502, DATE '2026-01-12'), (503, NULL)$$,
                  'tasks_overdue: the due date the event was for is noted');
SELECT results_eq($$SELECT channel, payload ->> 'type', payload #>> '{data,due}' FROM bokvar.outbox
                    WHERE task_id = pg_temp.task(502) AND kind = 'overdue' ORDER BY channel$$,
                  $$VALUES ('archive', 'task.overdue', '2026-01-12'), ('hook', 'task.overdue', '2026-01-12'),
                           ('mail', 'task.overdue', '2026-01-12')$$,
                  'tasks_overdue: the overdue event is sent to every channel');
SELECT is(bokvar.tasks_overdue('2026-01-13'), 0, 'tasks_overdue again the same day: nothing');
SELECT is(bokvar.tasks_overdue('2026-01-16'), 0, 'tasks_overdue days later, same due date: nothing');
SELECT is(bokvar.tasks_overdue('2026-01-18'), 1, 'tasks_overdue when the next task passes its due date: that one only');
-- Nothing in 004 moves a due date once it has passed (an escalation only
-- brings it nearer, never before the day), so it is moved by hand here to
-- show that the memory is per due date.
UPDATE bokvar.task SET due = '2026-01-20' WHERE id = pg_temp.task(502);
SELECT is(bokvar.tasks_overdue('2026-01-21'), 1, 'tasks_overdue: a new due date passed is a new overdue event');
SELECT results_eq($$SELECT household_id, count(*)::integer FROM bokvar.task t JOIN bokvar.task_event e ON e.task_id = t.id
                    WHERE t.household_id BETWEEN 501 AND 503 AND e.kind = 'overdue' GROUP BY 1 ORDER BY 1$$,
                  $$VALUES (501::bigint, 1), (502, 2)$$, 'overdue events: one per task and due date');
SELECT is((SELECT status FROM bokvar.task WHERE household_id = 502), 'open', 'an overdue task stays open');

-- =====================================================================
-- 6. What people do with tasks: each action records who (the login that
-- acted, never an argument) and when, an event (not sent) and an audit log
-- row. Households 601 and 602 are team north's (anna, bo); cora is a
-- coordinator, cia a caseworker of centre, eva an operator.
SELECT pg_temp.hh(601, '60211');
SELECT pg_temp.hh(602, '60211');
SELECT pg_temp.rescore(601, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(602, 'outreach', 60, NULL, 0);
CREATE TEMP TABLE t6 AS SELECT pg_temp.task(601) AS a, pg_temp.task(602) AS b;
SELECT is(pg_temp.act('anna', format('SELECT row(acknowledged_at = now(), acknowledged_by)::text FROM bokvar.task_ack(%s)',
                                     (SELECT a FROM t6))),
          '(t,anna)', 'task_ack: who and when, returned');
SELECT is(pg_temp.act('bo', format('SELECT row(acknowledged_at < now(), acknowledged_by)::text FROM bokvar.task_ack(%s)',
                                   (SELECT a FROM t6))),
          '(t,anna)', 'task_ack again by someone else: the first acknowledgement stays');
SELECT is(pg_temp.act('bo', format('SELECT row(first_contact_at = now(), acknowledged_by)::text '
                                   'FROM bokvar.task_contact(%s, %L, false, %L)', (SELECT a FROM t6), 'phone', 'no answer')),
          '(t,anna)', 'task_contact: the first contact is now');
SELECT is(pg_temp.act('cora', format('SELECT row(acknowledged_at = now(), acknowledged_by, first_contact_at = now())::text '
                                     'FROM bokvar.task_contact(%s, %L, false)', (SELECT b FROM t6), 'letter')),
          '(t,cora,t)', 'task_contact on a task nobody acknowledged acknowledges it (by a coordinator: any team)');
SELECT pg_sleep(0.01);
SELECT is(pg_temp.act('bo', format('SELECT first_contact_at < now() FROM bokvar.task_contact(%s, %L, true, %L)',
                                   (SELECT a FROM t6), 'home_visit', 'met both')),
          't', 'task_contact later: the first contact stays the first');
SELECT results_eq($$SELECT c.by, c.channel::text, c.reached, c.note, c.at <= now() FROM bokvar.contact c
                    WHERE c.task_id = (SELECT a FROM t6) ORDER BY c.id$$,
                  $$VALUES ('bo', 'phone', false, 'no answer', true), ('bo', 'home_visit', true, 'met both', true)$$,
                  'contacts: each attempt, by whom, how, reached or not, the note');
SELECT is(pg_temp.act('cora', format('SELECT row(status, closed_at = now(), closed_by, outcome, note)::text '
                                     'FROM bokvar.task_close(%s, %L, %L)', (SELECT a FROM t6), 'kept_home', 'paid the arrears')),
          '(closed,t,cora,kept_home,"paid the arrears")', 'task_close: outcome, who, when, note');
SELECT is(pg_temp.act('bo', format('SELECT bokvar.task_close(%s, %L)', (SELECT a FROM t6), 'declined')),
          format('22023: task %s is already closed', (SELECT a FROM t6)), 'task_close twice: an error');
SELECT results_eq($$SELECT status, closed_by, outcome::text FROM bokvar.task WHERE id = (SELECT a FROM t6)$$,
                  $$VALUES ('closed', 'cora', 'kept_home')$$, '... and the first close stays');
SELECT is(pg_temp.act('anna', 'SELECT bokvar.task_ack(999999)'), 'P0002: no task 999999', 'task_ack of an unknown task: an error');
SELECT is(pg_temp.act('anna', $$SELECT bokvar.task_contact(999999, 'phone', true)$$), 'P0002: no task 999999',
          'task_contact of an unknown task: an error');
SELECT is((SELECT count(*)::integer FROM bokvar.contact WHERE task_id = 999999), 0, '... which records no contact');
SELECT is(pg_temp.act('anna', $$SELECT bokvar.task_close(999999, 'other')$$), 'P0002: no task 999999',
          'task_close of an unknown task: an error');
-- Another team's task is no task to a caseworker; an operator acts on none;
-- nor does the system, which is no person.
SELECT is(pg_temp.act('cia', format('SELECT bokvar.task_close(%s, %L)', (SELECT b FROM t6), 'other')),
          format('P0002: no task %s', (SELECT b FROM t6)), 'a caseworker of centre: no task of north to close');
SELECT is(pg_temp.act('cia', format('SELECT bokvar.task_contact(%s, %L, true)', (SELECT b FROM t6), 'phone')),
          format('P0002: no task %s', (SELECT b FROM t6)), '... nor to record a contact on');
SELECT is(pg_temp.act('eva', format('SELECT bokvar.task_ack(%s)', (SELECT b FROM t6))),
          '42501: permission denied for function task_ack', 'an operator may not acknowledge a task');
SELECT throws_ok(format('SELECT bokvar.task_ack(%s)', (SELECT b FROM t6)), '42501', NULL,
                 'the system (the schema''s owner) does not act on tasks');
SELECT results_eq($$SELECT status, acknowledged_by, first_contact_at IS NOT NULL FROM bokvar.task WHERE id = (SELECT b FROM t6)$$,
                  $$VALUES ('open', 'cora', true)$$, '... and none of the refused changed the task');
-- Notes: at most 2000 characters, no control characters but line breaks;
-- the error says which, and never repeats the note.
SELECT is(pg_temp.act('bo', format('SELECT bokvar.task_contact(%s, %L, true, %L)', (SELECT b FROM t6), 'phone',
                                   repeat('x', 2001))),
          '22023: the note is 2001 characters long; at most 2000 are kept', 'a note too long: refused');
SELECT is(pg_temp.act('bo', format('SELECT bokvar.task_close(%s, %L, %L)', (SELECT b FROM t6), 'other',
                                   E'Anna Andersson\x1b[2J')),
          '22023: the note contains a control character; only line breaks are allowed',
          'a note with a control character: refused, without repeating it');
SELECT is(pg_temp.act('bo', format('SELECT bokvar.task_contact(%s, NULL, true)', (SELECT b FROM t6))),
          '22023: a contact needs its channel and whether it reached the household', 'a contact without a channel: refused');
SELECT is(pg_temp.act('bo', format('SELECT (bokvar.task_contact(%s, %L, true, %L)).id IS NOT NULL', (SELECT b FROM t6),
                                   'home_visit', E'Met both.\nA plan is agreed.')),
          't', 'a note of several lines is taken');
SELECT results_eq($$SELECT kind, by, detail FROM bokvar.task_event WHERE task_id = (SELECT a FROM t6) ORDER BY id$$,
                  $$VALUES ('created', 'bokvar', '{}'::jsonb), ('acknowledged', 'anna', '{}'), ('acknowledged', 'bo', '{}'),
                           ('contacted', 'bo', '{"channel": "phone", "reached": false}'),
                           ('contacted', 'bo', '{"channel": "home_visit", "reached": true}'),
                           ('closed', 'cora', '{"outcome": "kept_home"}')$$,
                  'task events: each action with who did it and what');
SELECT results_eq($$SELECT DISTINCT kind FROM bokvar.outbox WHERE task_id IN ((SELECT a FROM t6), (SELECT b FROM t6))$$,
                  $$VALUES ('created')$$, 'outbox: acknowledgements, contacts and closes are not sent');
SELECT results_eq($$SELECT k, bokvar.event_is_sent(k) FROM unnest(ARRAY['created', 'escalated', 'risk_lowered', 'overdue',
                                                                     'acknowledged', 'contacted', 'closed']) k$$,
                  $$VALUES ('created', true), ('escalated', true), ('risk_lowered', true), ('overdue', true),
                           ('acknowledged', false), ('contacted', false), ('closed', false)$$,
                  'event_is_sent: what the system noticed, not what people did');
SELECT results_eq($$SELECT actor, action, detail FROM bokvar.audit_log WHERE subject = (SELECT a FROM t6)::text AND action LIKE 'task.%' ORDER BY id$$,
                  $$SELECT a, b, c || jsonb_build_object('session_user', a) FROM (VALUES
                           ('anna', 'task.ack', '{}'::jsonb), ('bo', 'task.ack', '{}'),
                           ('bo', 'task.contact', '{"channel": "phone", "reached": false}'),
                           ('bo', 'task.contact', '{"channel": "home_visit", "reached": true}'),
                           ('cora', 'task.close', '{"outcome": "kept_home"}')) x(a, b, c)$$,
                  'audit log: every action, by whom, and the database login that called');
SELECT is(pg_temp.act('dan', format('SELECT bokvar.task_ack(%s)', (SELECT a FROM t6))),
          format('P0002: no task %s', (SELECT a FROM t6)), 'task_ack by a caseworker of another team: no such task');
SELECT is(pg_temp.act('anna', format('SELECT bokvar.task_ack(%s)', (SELECT a FROM t6))),
          format('22023: task %s is closed', (SELECT a FROM t6)), 'task_ack of a closed task: refused');
SELECT is(pg_temp.act('anna', format('SELECT bokvar.task_contact(%s, %L, true)', (SELECT a FROM t6), 'phone')),
          format('22023: task %s is closed', (SELECT a FROM t6)), 'task_contact on a closed task: refused');

-- =====================================================================
-- 7. The dispatcher's side. The outbox so far is cleared; channels hook
-- (webhook) and mail (e-mail), at most 4 attempts. Tasks 701-703 (team
-- north) give six rows, r1 to r6 in the order they fall due.
DELETE FROM bokvar.outbox;
SELECT is(bokvar.outbox_next_due(), NULL, 'outbox_next_due: NULL when nothing waits');
SELECT pg_temp.config(p_channels => '[{"name": "hook", "type": "webhook"}, {"name": "mail", "type": "smtp"}]',
                      p_tasks => pg_temp.settings(4));
SELECT pg_temp.hh(701, '60201');
SELECT pg_temp.hh(702, '60201');
SELECT pg_temp.hh(703, '60201');
SELECT pg_temp.rescore(701, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(702, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(703, 'urgent', 95, NULL, 0);
CREATE TEMP TABLE r AS SELECT row_number() OVER (ORDER BY next_attempt_at, id)::integer AS n, id, event_id FROM bokvar.outbox;
CREATE FUNCTION pg_temp.r(p_n integer) RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT id FROM r WHERE n = p_n $$;
SELECT is((SELECT count(*)::integer FROM r), 6, 'three tasks, two channels: six rows');
-- What each claim returned, by step.
CREATE TEMP TABLE got (step text, id bigint, event_id text, channel text, recipient text, body text, attempts integer,
                       kind text, task_id bigint, team text, class text, score integer, due date, deadline date,
                       children integer, assignee text, rules text);
-- A claim by dispatcher p_claimer (the step's name unless given).
CREATE FUNCTION pg_temp.claim(p_step text, p_limit integer, p_lease integer, p_done jsonb DEFAULT '[]',
                              p_claimer text DEFAULT NULL) RETURNS integer
LANGUAGE sql AS $$
        WITH c AS (INSERT INTO pg_temp.got
                   SELECT p_step, x.* FROM bokvar.outbox_claim(coalesce(p_claimer, p_step), p_limit, p_lease, p_done) x
                   RETURNING 1)
        SELECT count(*)::integer FROM c
$$;

-- Two dispatchers at once: c1 claims in a transaction it keeps open; c2
-- must not wait for it and must not get its row (FOR UPDATE SKIP LOCKED).
SELECT diag('dblink connection c1: ' || pg_temp.connect('c1'));
SELECT diag('dblink connection c2: ' || pg_temp.connect('c2'));
SELECT FROM dblink_exec('c1', 'BEGIN');
INSERT INTO got SELECT 'c1', * FROM dblink('c1', 'SELECT * FROM bokvar.outbox_claim(''c1'', 1, 60)')
        AS x(id bigint, event_id text, channel text, recipient text, body text, attempts integer, kind text, task_id bigint,
              team text, class text, score integer, due date, deadline date, children integer, assignee text, rules text);
INSERT INTO got SELECT 'c2', * FROM dblink('c2', 'SELECT * FROM bokvar.outbox_claim(''c2'', 2, 60)', false)
        AS x(id bigint, event_id text, channel text, recipient text, body text, attempts integer, kind text, task_id bigint,
              team text, class text, score integer, due date, deadline date, children integer, assignee text, rules text);
SELECT is(dblink_error_message('c2'), 'OK', 'claim: a second dispatcher is not held up by the first one''s open claim');
SELECT results_eq($$SELECT id FROM got WHERE step = 'c1'$$, $$SELECT pg_temp.r(1)$$, 'claim: the first row due first');
SELECT set_eq($$SELECT id FROM got WHERE step = 'c2'$$, $$VALUES (pg_temp.r(2)), (pg_temp.r(3))$$,
              'claim: the second dispatcher gets the next two, not the row the first one holds');
SELECT is(dblink_exec('c1', 'COMMIT'), 'COMMIT', 'the first dispatcher commits its claim');
SELECT is(pg_temp.claim('s1', 10, 5), 3, 'claim: a third gets the remaining three (lease 5 s)');
SELECT set_eq($$SELECT id FROM got WHERE step = 's1'$$, $$VALUES (pg_temp.r(4)), (pg_temp.r(5)), (pg_temp.r(6))$$,
              '... r4, r5, r6');
SELECT is(pg_temp.claim('s2', 10, 60), 0, 'claim: while the leases run, no row is claimed again');
SELECT results_eq($$SELECT o.claimed_by, o.attempts, o.status, o.claimed_until > now() FROM r JOIN bokvar.outbox o USING (id) ORDER BY r.n$$,
                  $$VALUES ('c1', 1, 'pending', true), ('c2', 1, 'pending', true), ('c2', 1, 'pending', true),
                           ('s1', 1, 'pending', true), ('s1', 1, 'pending', true), ('s1', 1, 'pending', true)$$,
                  'claim: who holds each row, one attempt each, still pending until the result comes');
SELECT ok((SELECT bool_and(claimed_until = last_attempt_at + interval '5 s') FROM bokvar.outbox WHERE claimed_by = 's1'),
          'claim: the lease is the seconds asked for, from the attempt');
SELECT is(bokvar.outbox_next_due(), (SELECT claimed_until FROM bokvar.outbox WHERE id = pg_temp.r(4)),
          'outbox_next_due: the end of the shortest lease when every row is claimed');
SELECT results_eq($$SELECT g.event_id, g.channel, g.attempts FROM got g WHERE g.step IN ('c1', 'c2', 's1') ORDER BY g.id$$,
                  $$SELECT o.event_id, o.channel, 1 FROM bokvar.outbox o ORDER BY o.id$$,
                  'claim: each row with its event id and channel, attempt 1');

-- Results, in one transaction (one now()): r1 delivered, r2 to retry,
-- r3 to retry when the receiver asks (Retry-After 600 s), r4 refused for
-- good, r5 asking for more than a day; r6's dispatcher never answers.
BEGIN;
SELECT bokvar.outbox_done(jsonb_build_array(
        jsonb_build_object('id', pg_temp.r(1), 'ok', true, 'status', 200),
        jsonb_build_object('id', pg_temp.r(2), 'ok', false, 'retry', true, 'status', 503, 'error', 'Service Unavailable'),
        jsonb_build_object('id', pg_temp.r(3), 'ok', false, 'retry', true, 'status', 429, 'error', 'Too Many Requests',
                           'retry_after', 600),
        jsonb_build_object('id', pg_temp.r(4), 'ok', false, 'retry', false, 'status', 400, 'error', 'Bad Request'),
        jsonb_build_object('id', pg_temp.r(5), 'ok', false, 'retry', true, 'status', 503, 'retry_after', 100000)));
SELECT results_eq($$SELECT status, delivered_at = now(), claimed_until, last_status, last_error FROM bokvar.outbox WHERE id = pg_temp.r(1)$$,
                  $$VALUES ('delivered', true, NULL::timestamptz, 200, NULL::text)$$, 'outbox_done ok: delivered, now');
SELECT results_eq($$SELECT status, attempts, claimed_until, delivered_at, last_status, last_error FROM bokvar.outbox WHERE id = pg_temp.r(2)$$,
                  $$VALUES ('pending', 1, NULL::timestamptz, NULL::timestamptz, 503, 'Service Unavailable')$$,
                  'outbox_done retry: pending again, lease released, the status and error kept');
SELECT ok((SELECT next_attempt_at BETWEEN now() + interval '1.5 s' AND now() + interval '2.5 s' FROM bokvar.outbox WHERE id = pg_temp.r(2)),
          'outbox_done retry after attempt 1: waits 2^1 s ± 25%');
SELECT results_eq($$SELECT status, next_attempt_at - now() FROM bokvar.outbox WHERE id = pg_temp.r(3)$$,
                  $$VALUES ('pending', interval '600 s')$$, 'outbox_done retry with Retry-After longer than the backoff: as asked');
SELECT results_eq($$SELECT status, claimed_until, last_status, last_error FROM bokvar.outbox WHERE id = pg_temp.r(4)$$,
                  $$VALUES ('dead', NULL::timestamptz, 400, 'Bad Request')$$, 'outbox_done without retry: a dead letter');
SELECT results_eq($$SELECT status, next_attempt_at - now() FROM bokvar.outbox WHERE id = pg_temp.r(5)$$,
                  $$VALUES ('pending', interval '86400 s')$$, 'outbox_done: Retry-After at most a day');
SELECT bokvar.outbox_done(jsonb_build_array(jsonb_build_object('id', pg_temp.r(1), 'ok', false, 'retry', false, 'status', 500)));
SELECT is((SELECT status FROM bokvar.outbox WHERE id = pg_temp.r(1)), 'delivered', 'outbox_done on a delivered row: no change');
SELECT is(bokvar.outbox_next_due(), (SELECT next_attempt_at FROM bokvar.outbox WHERE id = pg_temp.r(2)),
          'outbox_next_due: the retry due first (before r6''s lease ends)');
COMMIT;

-- r6's lease runs out: it is claimed again, the same event, attempt 2.
SELECT pg_sleep(5.2);
SELECT is(pg_temp.claim('s3', 1, 60), 1, 'claim after the lease ran out: a row');
SELECT results_eq($$SELECT id, event_id, attempts FROM got WHERE step = 's3'$$,
                  $$SELECT id, event_id, 2 FROM r WHERE n = 6$$,
                  '... r6 again, with the same event id, attempt 2');
-- The dispatcher whose lease ran out reports late: its failure does not
-- count, the row stays with the one that holds it now.
SELECT is(pg_temp.claim('s1-late', 0, 60, jsonb_build_array(jsonb_build_object('id', pg_temp.r(6), 'ok', false, 'retry', false,
                                                                                'status', 500)), 's1'), 0,
          'a late result from the dispatcher whose lease ran out');
SELECT results_eq($$SELECT status, claimed_by, claimed_until > now(), last_status FROM bokvar.outbox WHERE id = pg_temp.r(6)$$,
                  $$VALUES ('pending', 's3', true, NULL::integer)$$,
                  '... a failure from it is ignored: the row stays claimed by the dispatcher holding it');
SELECT is(pg_temp.claim('s4', 10, 60), 1, 'claim: the retry is due after its wait, the others not');
SELECT results_eq($$SELECT id, attempts FROM got WHERE step = 's4'$$, $$VALUES (pg_temp.r(2), 2)$$, '... r2, attempt 2');

-- outbox_claim records results of sends (p_done) and claims in one call.
SELECT pg_temp.hh(704, '60201');
SELECT pg_temp.rescore(704, 'outreach', 60, NULL, 0);
SELECT is(pg_temp.claim('s5', 10, 60, jsonb_build_array(jsonb_build_object('id', pg_temp.r(6), 'ok', true, 'status', 204),
                                                        jsonb_build_object('id', pg_temp.r(2), 'ok', true, 'status', 200))),
          2, 'claim with results: the new rows');
SELECT results_eq($$SELECT id, status, last_status FROM bokvar.outbox WHERE id IN (pg_temp.r(2), pg_temp.r(6)) ORDER BY id$$,
                  $$VALUES (pg_temp.r(2), 'delivered', 200), (pg_temp.r(6), 'delivered', 204)$$,
                  '... and the results recorded in the same call');
SELECT results_eq($$SELECT g.id, g.channel FROM got g WHERE g.step = 's5' ORDER BY g.id$$,
                  $$SELECT o.id, o.channel FROM bokvar.outbox o WHERE o.task_id = pg_temp.task(704) ORDER BY o.id$$,
                  '... the rows of task 704');
-- What goes on the wire: the payload for a webhook; for an e-mail, what
-- the dispatcher writes it from, in the team's language
-- (tests/unit/test-mail.c has its words).
SELECT results_eq($$SELECT g.recipient, g.body::jsonb = o.payload FROM got g JOIN bokvar.outbox o USING (id)
                    WHERE g.step = 's5' AND g.channel = 'hook'$$,
                  $$VALUES (NULL::text, true)$$, 'claim, webhook: no recipient, the payload as body');
SELECT results_eq($$SELECT g.recipient, g.kind, g.task_id, g.team, g.class, g.score, g.due, g.deadline, g.children,
                           g.assignee, g.rules, g.body::jsonb = o.payload
                    FROM got g JOIN bokvar.outbox o USING (id)
                    WHERE g.step = 's5' AND g.channel = 'mail'$$,
                  $$SELECT 'north@kommun.example', 'created', t.id, 'north', 'outreach', 60, t.due, NULL::date, 0,
                           t.assignee, 'notice', true
                    FROM bokvar.task t WHERE t.id = pg_temp.task(704)$$,
                  'claim, e-mail: the team''s address and the event''s figures, as the payload has them');
SELECT is(pg_temp.claim('s6', 0, 60, (SELECT jsonb_agg(jsonb_build_object('id', id, 'ok', true, 'status', 250)) FROM got WHERE step = 's5')),
          0, 'claim with p_limit 0: claims nothing');
SELECT is((SELECT array_agg(DISTINCT status) FROM bokvar.outbox WHERE task_id = pg_temp.task(704)), ARRAY['delivered'],
          '... but records the results');

-- At most 4 attempts (configured): 705's webhook row fails four times.
-- Between attempts its wait is cut short by hand.
SELECT pg_temp.hh(705, '60201');
SELECT pg_temp.rescore(705, 'outreach', 60, NULL, 0);
CREATE TEMP TABLE r9 AS SELECT id FROM bokvar.outbox WHERE task_id = pg_temp.task(705) AND channel = 'hook';
SELECT is(pg_temp.claim('m1', 10, 60, p_claimer => 'm'), 2, 'attempt 1: both rows of 705');
SELECT is(pg_temp.claim('m2', 10, 60, (SELECT jsonb_agg(jsonb_build_object('id', id, 'ok', channel = 'mail', 'retry', true,
                                                                            'status', CASE WHEN channel = 'mail' THEN 250 ELSE 502 END))
                                       FROM got WHERE step = 'm1'), 'm'),
          0, 'claim with a failure among the results: the row to retry is not claimed again in the same call');
SELECT results_eq($$SELECT channel, status, attempts FROM bokvar.outbox WHERE task_id = pg_temp.task(705) ORDER BY channel$$,
                  $$VALUES ('hook', 'pending', 1), ('mail', 'delivered', 1)$$, 'attempt 1 failed: pending; the mail delivered');
UPDATE bokvar.outbox SET next_attempt_at = now() WHERE id = (SELECT id FROM r9);
SELECT is(pg_temp.claim('m3', 10, 60, p_claimer => 'm'), 1, 'attempt 2');
SELECT bokvar.outbox_done(jsonb_build_array(jsonb_build_object('id', (SELECT id FROM r9), 'ok', false, 'retry', true, 'status', 502)), 'm');
UPDATE bokvar.outbox SET next_attempt_at = now() WHERE id = (SELECT id FROM r9);
SELECT is(pg_temp.claim('m4', 10, 60, p_claimer => 'm'), 1, 'attempt 3');
SELECT bokvar.outbox_done(jsonb_build_array(jsonb_build_object('id', (SELECT id FROM r9), 'ok', false, 'retry', true, 'status', 502)), 'm');
SELECT results_eq($$SELECT status, attempts FROM bokvar.outbox WHERE id = (SELECT id FROM r9)$$, $$VALUES ('pending', 3)$$,
                  'attempt 3 of at most 4 failed: pending, three attempts counted');
UPDATE bokvar.outbox SET next_attempt_at = now() WHERE id = (SELECT id FROM r9);
SELECT is(pg_temp.claim('m5', 10, 60, p_claimer => 'm'), 1, 'attempt 4');
SELECT results_eq($$SELECT id, attempts FROM got WHERE step = 'm5'$$, $$SELECT id, 4 FROM r9$$, '... claimed as attempt 4');
SELECT bokvar.outbox_done(jsonb_build_array(jsonb_build_object('id', (SELECT id FROM r9), 'ok', false, 'retry', true, 'status', 502)), 'm');
SELECT results_eq($$SELECT status, attempts FROM bokvar.outbox WHERE id = (SELECT id FROM r9)$$, $$VALUES ('dead', 4)$$,
                  'the fourth failure of at most 4 attempts: a dead letter though retry was allowed');

-- The backoff grows with the attempts, at most an hour, with ± 25%
-- jitter: 706's three rows as if tried fifteen times, 707's three times
-- (three channels, max_attempts 20).
SELECT pg_temp.config(p_tasks => pg_temp.settings(20));
SELECT pg_temp.hh(706, '60201');
SELECT pg_temp.hh(707, '60201');
SELECT pg_temp.rescore(706, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(707, 'outreach', 60, NULL, 0);
UPDATE bokvar.outbox SET attempts = CASE task_id WHEN pg_temp.task(706) THEN 15 ELSE 3 END
WHERE task_id IN (pg_temp.task(706), pg_temp.task(707));
BEGIN;
SELECT bokvar.outbox_done((SELECT jsonb_agg(jsonb_build_object('id', id, 'ok', false, 'retry', true, 'status', 503))
                           FROM bokvar.outbox WHERE task_id IN (pg_temp.task(706), pg_temp.task(707))));
SELECT results_eq($$SELECT channel, status, next_attempt_at - now() BETWEEN interval '6 s' AND interval '10 s'
                    FROM bokvar.outbox WHERE task_id = pg_temp.task(707) ORDER BY channel$$,
                  $$VALUES ('archive', 'pending', true), ('hook', 'pending', true), ('mail', 'pending', true)$$,
                  'outbox_done: after 3 attempts, 2^3 s ± 25%');
SELECT results_eq($$SELECT channel, status, next_attempt_at - now() BETWEEN interval '2700 s' AND interval '4500 s'
                    FROM bokvar.outbox WHERE task_id = pg_temp.task(706) ORDER BY channel$$,
                  $$VALUES ('archive', 'pending', true), ('hook', 'pending', true), ('mail', 'pending', true)$$,
                  'outbox_done: after 15 attempts, not 2^15 s: an hour ± 25%');
SELECT is((SELECT count(DISTINCT next_attempt_at)::integer FROM bokvar.outbox WHERE task_id IN (pg_temp.task(706), pg_temp.task(707))),
          6, 'outbox_done: rows retried together after as many attempts wait differently long (jitter)');
COMMIT;
SELECT pg_temp.config(p_channels => '[{"name": "archive", "type": "webhook"}, {"name": "hook", "type": "webhook"},
                                      {"name": "mail", "type": "smtp"}]',
                      p_tasks => pg_temp.settings(4));

-- Dead letters back into the queue: r4 alone, then all (r5 made dead).
SELECT pg_temp.drain();
SELECT is(pg_temp.act('eva', format('SELECT bokvar.outbox_retry(%s)', pg_temp.r(4))), '1',
          'outbox_retry of a dead letter, by an operator: one row');
SELECT ok((SELECT status = 'pending' AND attempts = 0 AND claimed_until IS NULL AND next_attempt_at <= now()
           FROM bokvar.outbox WHERE id = pg_temp.r(4)), '... pending, due now, attempts from 0');
SELECT cmp_ok(pg_temp.notified(10), '>', 0, '... and the dispatchers are woken');
SELECT is(pg_temp.act('eva', format('SELECT bokvar.outbox_retry(%s)', pg_temp.r(1))), '0',
          'outbox_retry of a delivered row: nothing');
SELECT bokvar.outbox_done(jsonb_build_array(jsonb_build_object('id', pg_temp.r(5), 'ok', false, 'retry', false, 'status', 410)));
SELECT is((SELECT count(*)::integer FROM bokvar.outbox WHERE status = 'dead'), 2, 'two dead letters: r5 and 705''s');
SELECT matches(pg_temp.act('anna', 'SELECT bokvar.outbox_retry(NULL)'), '^42501: ',
               'outbox_retry by a caseworker: refused');
SELECT is(pg_temp.act('eva', 'SELECT bokvar.outbox_retry(NULL)'), '2', 'outbox_retry of all dead letters');
SELECT is((SELECT count(*)::integer FROM bokvar.outbox WHERE status = 'dead'), 0, '... none left');
SELECT results_eq($$SELECT actor, action, subject, detail FROM bokvar.audit_log WHERE action = 'outbox.retry' ORDER BY id$$,
                  $$VALUES ('eva', 'outbox.retry', pg_temp.r(4)::text, '{"rows": 1}'::jsonb),
                           ('eva', 'outbox.retry', 'all dead letters', '{"rows": 2}')$$,
                  'audit log: each retry that did something, by whom, of what');
SELECT is(pg_temp.claim('s7', 1, 60), 1, 'a retried dead letter is claimed again');
SELECT results_eq($$SELECT id, event_id, attempts FROM got WHERE step = 's7'$$, $$SELECT id, event_id, 1 FROM r WHERE n = 4$$,
                  '... r4, with its event id');

-- A channel removed from the configuration: its waiting events cannot be
-- sent; they become dead letters that say why (706's and 707's archive rows).
SELECT pg_temp.config(p_channels => '[{"name": "hook", "type": "webhook"}, {"name": "mail", "type": "smtp"}]',
                      p_tasks => pg_temp.settings(4));
SELECT results_eq($$SELECT status, last_error FROM bokvar.outbox
                    WHERE channel = 'archive' AND task_id IN (pg_temp.task(706), pg_temp.task(707))$$,
                  $$VALUES ('dead', 'the channel was removed from the configuration'),
                           ('dead', 'the channel was removed from the configuration')$$,
                  'config_sync: the waiting events of a removed channel become dead letters, with the reason');
SELECT is((SELECT count(*)::integer FROM bokvar.outbox
           WHERE channel <> 'archive' AND last_error = 'the channel was removed from the configuration'), 0,
          '... and no other row');

-- =====================================================================
-- 8. A case system acts as its own login, in this database's case-system
-- group role: it sees the worklist of the teams it serves (centre) and does
-- what caseworkers do with their tasks, nothing else.
SELECT pg_temp.config();
SELECT pg_temp.hh(801, NULL, 'Norrköping');
SELECT pg_temp.hh(802, NULL, 'Norrköping');
SELECT pg_temp.rescore(801, 'outreach', 60, NULL, 0);
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, explanation, as_of)
VALUES (802, 60, 'outreach', 1, '[]', pg_temp.d(0));
SELECT is(pg_temp.act('procapita', 'SELECT session_user::text'), 'procapita', 'the case system connects as its own login');
SELECT is(pg_temp.act('procapita', 'SELECT count(*)::text FROM bokvar.worklist'),
          (SELECT count(*)::text FROM bokvar.worklist WHERE team = 'centre'),
          'case system: the worklist of its teams');
SELECT is(pg_temp.act('procapita', $$SELECT count(*)::text FROM bokvar.worklist WHERE team <> 'centre'$$), '0',
          '... and no other team''s');
SELECT is(pg_temp.act('procapita', format('SELECT (bokvar.task_ack(%s)).acknowledged_by', pg_temp.task(801))),
          'procapita', 'case system: task_ack');
SELECT is(pg_temp.act('procapita', format('SELECT (bokvar.task_contact(%s, %L, true)).first_contact_at IS NOT NULL',
                                          pg_temp.task(801), 'digital')),
          't', 'case system: task_contact');
SELECT is(pg_temp.act('procapita', format('SELECT (bokvar.task_close(%s, %L)).status', pg_temp.task(801), 'payment_plan')),
          'closed', 'case system: task_close');
SELECT results_eq($$SELECT acknowledged_by, closed_by, outcome::text, (SELECT by FROM bokvar.contact c WHERE c.task_id = t.id)
                    FROM bokvar.task t WHERE household_id = 801$$,
                  $$VALUES ('procapita', 'procapita', 'payment_plan', 'procapita')$$,
                  'case system: what it did is recorded with its login');
SELECT is(pg_temp.act('procapita', format('SELECT bokvar.task_ack(%s)', (SELECT b FROM t6))),
          format('P0002: no task %s', (SELECT b FROM t6)), 'case system: a task of a team it does not serve is none');
SELECT matches(pg_temp.act('procapita', 'SELECT count(*)::text FROM bokvar.task'), '^42501: ', 'case system: no SELECT on bokvar.task');
SELECT matches(pg_temp.act('procapita', 'SELECT count(*)::text FROM bokvar.household'), '^42501: ',
               'case system: no SELECT on bokvar.household');
SELECT matches(pg_temp.act('procapita', 'SELECT count(*)::text FROM bokvar.signal'), '^42501: ', 'case system: no SELECT on bokvar.signal');
SELECT matches(pg_temp.act('procapita', $$SELECT 'ran' FROM bokvar.tasks_sync(ARRAY[802]::bigint[], '2026-03-10')$$), '^42501: ',
               'case system: cannot run tasks_sync');
SELECT is((SELECT count(*)::integer FROM bokvar.task WHERE household_id = 802), 0, '... which made no task');
SELECT matches(pg_temp.act('procapita', $$SELECT count(*)::text FROM bokvar.outbox_claim('x', 10, 60)$$), '^42501: ',
               'case system: cannot claim outbox rows');

-- =====================================================================
-- 9. The worklist: open tasks by class, then households with children,
-- then the nearest deadline (none last), then the score. Team "order".
SELECT pg_temp.hh(1001, '99001', NULL, NULL, 0);
SELECT pg_temp.hh(1002, '99002', NULL, NULL, 2);
SELECT pg_temp.hh(1003, '99003', NULL, NULL, 1);
SELECT pg_temp.hh(1004, '99004', NULL, NULL, 3);
SELECT pg_temp.hh(1005, '99005', NULL, NULL, 0);
SELECT pg_temp.hh(1006, '99006', NULL, NULL, 0);
SELECT pg_temp.hh(1007, '99007', NULL, NULL, NULL);
SELECT pg_temp.hh(1008, '99008', NULL, NULL, 5);
SELECT pg_temp.hh(1009, '99009', NULL, NULL, 4);
SELECT pg_temp.hh(1010, '99010', NULL, NULL, 0);
SELECT pg_temp.rescore(1001, 'urgent', 100, pg_temp.d(5), 0);
SELECT pg_temp.rescore(1002, 'urgent', 90, pg_temp.d(20), 0);
SELECT pg_temp.rescore(1003, 'urgent', 90, pg_temp.d(10), 0, ARRAY['scheduled', 'children']);
SELECT pg_temp.rescore(1004, 'outreach', 80, pg_temp.d(1), 0);
SELECT pg_temp.rescore(1005, 'urgent', 120, pg_temp.d(5), 0);
SELECT pg_temp.rescore(1006, 'urgent', 200, NULL, 0);
SELECT pg_temp.rescore(1007, 'outreach', 60, NULL, 0);
SELECT pg_temp.rescore(1008, 'urgent', 150, pg_temp.d(2), 0);
SELECT pg_temp.act('cora', format('SELECT bokvar.task_close(%s, %L)', pg_temp.task(1008), 'duplicate'));
SELECT pg_temp.rescore(1009, 'outreach', 60, pg_temp.d(1), 0);
SELECT pg_temp.rescore(1009, 'watch', 30, pg_temp.d(1), 1);
SELECT pg_temp.rescore(1010, 'urgent', 100, pg_temp.d(5), 0);
SELECT results_eq($$SELECT household_id FROM bokvar.worklist WHERE team = 'order' ORDER BY priority$$,
                  $$VALUES (1003::bigint), (1002), (1005), (1001), (1010), (1006), (1004), (1007), (1009)$$,
                  'worklist: urgent with children (nearest deadline first), urgent without (nearest deadline, higher score, '
                  'the older task, no deadline last), outreach with children, outreach, watch; closed tasks not at all');
SELECT results_eq($$SELECT task_id, team, class::text, score, children, deadline, due, rules FROM bokvar.worklist WHERE household_id = 1003$$,
                  $$SELECT pg_temp.task(1003), 'order', 'urgent', 90, 1, pg_temp.d(10), pg_temp.d(2), 'scheduled, children'$$,
                  'worklist: the task, its class, score, children, deadline, due date and the rules that fired');
SELECT is((SELECT children FROM bokvar.worklist WHERE household_id = 1007), NULL, 'worklist: unknown children stay unknown');

-- =====================================================================
-- 10. One open task per household, whatever the concurrency: sessions a
-- and b both run tasks_sync for household 1101 in their own transaction.
-- b's INSERT waits on the unique index for a; when a commits, b skips.
SELECT pg_temp.hh(1101, '60201');
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, explanation, as_of)
VALUES (1101, 95, 'urgent', 1, '[]', pg_temp.d(0)), (1102, 95, 'urgent', 1, '[]', pg_temp.d(0));
SELECT diag('dblink connection a: ' || pg_temp.connect('a'));
SELECT diag('dblink connection b: ' || pg_temp.connect('b'));
SELECT FROM dblink_exec('a', 'BEGIN');
SELECT FROM dblink('a', 'SELECT 1 FROM bokvar.tasks_sync(ARRAY[1101]::bigint[], ''2026-03-10'')') AS x(one integer);
SELECT FROM dblink_exec('b', 'BEGIN');
SELECT FROM dblink_send_query('b', 'SELECT 1 FROM bokvar.tasks_sync(ARRAY[1101]::bigint[], ''2026-03-10'')');
SELECT ok(pg_temp.waits_for_lock('b'), 'concurrent tasks_sync: the second session waits for the first');
SELECT is((SELECT count(*)::integer FROM bokvar.task WHERE household_id = 1101), 0, '... nothing committed yet');
SELECT is(dblink_exec('a', 'COMMIT'), 'COMMIT', 'the first session commits');
SELECT is((SELECT count(*)::integer FROM dblink_get_result('b', false) AS x(one integer)), 1, 'the second session''s tasks_sync returns');
SELECT is((SELECT count(*)::integer FROM dblink_get_result('b', false) AS x(one integer)), 0, '... and nothing more');
SELECT is(dblink_exec('b', 'COMMIT'), 'COMMIT', 'the second session commits (no error)');
SELECT results_eq($$SELECT status, count(*)::integer FROM bokvar.task WHERE household_id = 1101 GROUP BY status$$,
                  $$VALUES ('open', 1)$$, 'concurrent tasks_sync: exactly one task, open');
SELECT is((SELECT count(*)::integer FROM bokvar.task_event e JOIN bokvar.task t ON t.id = e.task_id WHERE t.household_id = 1101),
          1, '... with one event');
SELECT results_eq($$SELECT o.channel, o.kind, count(*)::integer FROM bokvar.outbox o JOIN bokvar.task t ON t.id = o.task_id
                    WHERE t.household_id = 1101 GROUP BY 1, 2 ORDER BY 1$$,
                  $$VALUES ('archive', 'created', 1), ('hook', 'created', 1), ('mail', 'created', 1)$$,
                  '... and one created event per channel in the outbox');

-- The same when the first session rolls back: then the second one's
-- task is the one.
SELECT pg_temp.hh(1102, '60201');
SELECT FROM dblink_exec('a', 'BEGIN');
SELECT FROM dblink('a', 'SELECT 1 FROM bokvar.tasks_sync(ARRAY[1102]::bigint[], ''2026-03-10'')') AS x(one integer);
SELECT FROM dblink_exec('b', 'BEGIN');
SELECT FROM dblink_send_query('b', 'SELECT 1 FROM bokvar.tasks_sync(ARRAY[1102]::bigint[], ''2026-03-10'')');
SELECT ok(pg_temp.waits_for_lock('b'), 'concurrent tasks_sync again: the second session waits');
SELECT is(dblink_exec('a', 'ROLLBACK'), 'ROLLBACK', 'the first session rolls back');
SELECT is((SELECT count(*)::integer FROM dblink_get_result('b', false) AS x(one integer)), 1, 'the second session''s tasks_sync returns');
SELECT is((SELECT count(*)::integer FROM dblink_get_result('b', false) AS x(one integer)), 0, '... and nothing more');
SELECT is(dblink_exec('b', 'COMMIT'), 'COMMIT', 'the second session commits');
SELECT results_eq($$SELECT status, count(*)::integer FROM bokvar.task WHERE household_id = 1102 GROUP BY status$$,
                  $$VALUES ('open', 1)$$, 'after a rollback of the first: the second session''s task, one');
SELECT results_eq($$SELECT o.channel, count(*)::integer FROM bokvar.outbox o JOIN bokvar.task t ON t.id = o.task_id
                    WHERE t.household_id = 1102 GROUP BY 1 ORDER BY 1$$,
                  $$VALUES ('archive', 1), ('hook', 1), ('mail', 1)$$, '... one created event per channel');

-- =====================================================================
-- 11. The yearly report, 2024, with 2023 and 2025 around it. Households
-- 9001-9014, signals and tasks as written (team "report"), times in UTC.
-- Signals are received the day after they occurred, at 09:00, unless
-- given.
CREATE FUNCTION pg_temp.rsig(p_id bigint, p_hh bigint, p_source text, p_kind text, p_occurred date, p_deadline date DEFAULT NULL,
                             p_received timestamptz DEFAULT NULL) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id, received_at)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, 'tap', p_id::text, p_source::bokvar.feed_source, p_kind::bokvar.signal_kind, p_occurred, p_deadline,
                p_hh, 1, coalesce(p_received, p_occurred + 1 + time '09:00'))
$$;
CREATE FUNCTION pg_temp.rtask(p_hh bigint, p_created timestamptz, p_deadline date, p_due date, p_contact timestamptz,
                              p_closed timestamptz, p_outcome text) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.task (household_id, status, class, opened_class, top_class, score, team, deadline, due, created_at,
                                 first_contact_at, closed_at, closed_by, outcome)
        VALUES (p_hh, CASE WHEN p_closed IS NULL THEN 'open' ELSE 'closed' END, 'outreach', 'outreach', 'outreach', 60,
                'report', p_deadline, p_due, p_created, p_contact, p_closed, CASE WHEN p_closed IS NOT NULL THEN 'anna' END,
                p_outcome::bokvar.task_outcome);
        INSERT INTO bokvar.contact (task_id, at, by, channel, reached)
        SELECT t.id, p_contact, 'anna', 'phone', true FROM bokvar.task t
        WHERE t.id = (SELECT max(id) FROM bokvar.task WHERE household_id = p_hh) AND p_contact IS NOT NULL;
$$;
INSERT INTO bokvar.household (id, children) VALUES
        (9001, 2), (9002, 0), (9003, 3), (9004, 1), (9005, 0), (9006, 4), (9007, NULL), (9008, 2), (9009, 0), (9010, 0),
        (9011, 1), (9012, 0), (9013, 0), (9014, 0);
SELECT pg_temp.rsig(90011, 9001, 'landlord', 'arrears', '2024-02-01');
SELECT pg_temp.rsig(90012, 9001, 'landlord', 'termination_notice', '2024-02-20', '2024-03-12');
SELECT pg_temp.rsig(90021, 9002, 'enforcement', 'eviction_application', '2024-05-06');
SELECT pg_temp.rsig(90031, 9003, 'enforcement', 'eviction_scheduled', '2024-09-01', '2024-10-01');
SELECT pg_temp.rsig(90032, 9003, 'enforcement', 'eviction_executed', '2024-10-01');
SELECT pg_temp.rsig(90041, 9004, 'landlord', 'termination_notice', '2023-12-10', '2023-12-31');
SELECT pg_temp.rsig(90051, 9005, 'landlord', 'arrears', '2024-12-01');
SELECT pg_temp.rsig(90052, 9005, 'utility', 'utility_disconnection', '2024-12-15', '2025-01-05');
SELECT pg_temp.rsig(90061, 9006, 'enforcement', 'payment_order', '2024-06-01');
SELECT pg_temp.rsig(90071, 9007, 'landlord', 'arrears', '2024-10-20');
SELECT pg_temp.rsig(90081, 9008, 'landlord', 'arrears', '2024-02-25');
SELECT pg_temp.rsig(90082, 9008, 'landlord', 'termination_notice', '2024-06-20', '2024-07-11');
-- Occurred before 9008's second task opened, received after it: not what
-- that task answered.
SELECT pg_temp.rsig(90083, 9008, 'landlord', 'arrears', '2024-06-15', NULL, '2024-07-02 10:00');
SELECT pg_temp.rsig(90091, 9009, 'landlord', 'disturbance', '2024-04-01');
-- An eviction application from a landlord is not the enforcement agency's.
SELECT pg_temp.rsig(90101, 9010, 'landlord', 'eviction_application', '2024-01-01');
SELECT pg_temp.rsig(90102, 9010, 'enforcement', 'eviction_application', '2023-12-31');
SELECT pg_temp.rsig(90103, 9010, 'enforcement', 'eviction_application', '2025-01-01');
SELECT pg_temp.rsig(90104, 9010, 'enforcement', 'eviction_executed', '2024-12-31');
SELECT pg_temp.rsig(90111, 9011, 'landlord', 'arrears', '2024-09-20');
SELECT pg_temp.rsig(90131, 9013, 'landlord', 'sanitary', '2024-04-10');
SELECT pg_temp.rsig(90141, 9014, 'landlord', 'arrears', '2023-12-20');
--                  household created                deadline      due           first contact         closed                 outcome
SELECT pg_temp.rtask(9001, '2024-02-22 10:00',    '2024-03-12', '2024-02-29', '2024-02-26 11:00', '2024-04-10 14:00',    'kept_home');
SELECT pg_temp.rtask(9002, '2024-05-08 10:00',    NULL,         '2024-05-15', '2024-05-20 09:00', '2024-06-01 12:00',    'payment_plan');
SELECT pg_temp.rtask(9003, '2024-09-02 10:00',    '2024-10-01', '2024-09-04', NULL,               '2024-10-05 12:00',    'evicted');
SELECT pg_temp.rtask(9004, '2023-12-31 23:59:59', '2023-12-31', '2023-12-31', NULL,               '2024-01-01 00:00:00', 'kept_home');
SELECT pg_temp.rtask(9005, '2024-12-31 23:59:59', '2025-01-05', '2025-01-01', '2025-01-02 10:00', '2025-01-10 12:00',    'referred');
SELECT pg_temp.rtask(9006, '2024-06-10 10:00',    NULL,         '2024-06-17', '2024-06-17 15:00', '2025-01-01 00:00:00', 'kept_home');
SELECT pg_temp.rtask(9007, '2024-11-01 10:00',    '2024-11-20', '2024-11-08', '2024-11-04 10:00', '2024-12-31 23:59:59', 'declined');
SELECT pg_temp.rtask(9008, '2024-03-01 10:00',    NULL,         '2024-03-08', '2024-03-03 10:00', '2024-03-20 12:00',    'payment_plan');
SELECT pg_temp.rtask(9008, '2024-07-01 10:00',    '2024-07-11', '2024-07-08', '2024-07-04 10:00', '2024-08-01 12:00',    'kept_home');
SELECT pg_temp.rtask(9011, '2024-10-01 10:00',    '2099-12-31', '2024-10-08', NULL,               NULL,                  NULL);
SELECT pg_temp.rtask(9012, '2024-08-01 10:00',    NULL,         '2024-08-08', '2024-08-02 10:00', NULL,                  NULL);
SELECT pg_temp.rtask(9013, '2024-04-15 10:00',    NULL,         '2024-04-22', '2024-04-30 10:00', NULL,                  NULL);
SELECT pg_temp.rtask(9014, '2024-01-01 00:00:00', NULL,         '2024-01-08', NULL,               NULL,                  NULL);
-- 9001's family also had an unanswered call before the one that reached it.
INSERT INTO bokvar.contact (task_id, at, by, channel, reached)
VALUES (pg_temp.task(9001), '2024-02-25 16:00', 'anna', 'phone', false);

CREATE TEMP TABLE rep AS SELECT bokvar.report(2024) AS r;
-- Signals in 2024 by source and kind: 17 of the 21 (9004's notice, 9014's
-- arrears and 9010's applications of 2023-12-31 and 2025-01-01 fall outside).
SELECT is((SELECT r -> 'signals' FROM rep), $$[
        {"source": "landlord", "kind": "arrears", "count": 6},
        {"source": "landlord", "kind": "termination_notice", "count": 2},
        {"source": "landlord", "kind": "disturbance", "count": 1},
        {"source": "landlord", "kind": "sanitary", "count": 1},
        {"source": "landlord", "kind": "eviction_application", "count": 1},
        {"source": "enforcement", "kind": "payment_order", "count": 1},
        {"source": "enforcement", "kind": "eviction_application", "count": 1},
        {"source": "enforcement", "kind": "eviction_scheduled", "count": 1},
        {"source": "enforcement", "kind": "eviction_executed", "count": 2},
        {"source": "utility", "kind": "utility_disconnection", "count": 1}]$$::jsonb,
          'report 2024: signals by source and kind, the year''s first and last day in, the days around out');
SELECT is((SELECT r -> 'year' FROM rep), '2024'::jsonb, 'report 2024: the year');
-- Opened in 2024: twelve (9014's at 00:00:00 on 1 January and 9005's at
-- 23:59:59 on 31 December in; 9004's a second before the year out).
SELECT is((SELECT r -> 'tasks_opened' FROM rep), '12'::jsonb, 'report 2024: tasks opened');
-- Closed in 2024: seven (9004's at 00:00:00 on 1 January and 9007's at
-- 23:59:59 on 31 December in; 9006's at 00:00:00 on 1 January 2025 out).
SELECT is((SELECT r -> 'tasks_closed' FROM rep), '7'::jsonb, 'report 2024: tasks closed');
SELECT is((SELECT r -> 'outcomes' FROM rep), '{"kept_home": 3, "payment_plan": 2, "declined": 1, "evicted": 1}'::jsonb,
          'report 2024: outcomes of the tasks closed');
-- Kept home: 9001 (2 children), 9002 (payment plan), 9004 (1 child),
-- 9008 (2 children, twice).
SELECT is((SELECT r -> 'households_kept_home' FROM rep), '4'::jsonb,
          'report 2024: households kept home (kept_home and payment_plan, each household once)');
SELECT is((SELECT r -> 'families_with_children_kept_home' FROM rep), '3'::jsonb, 'report 2024: families with children kept home');
SELECT is((SELECT r -> 'children_kept_home' FROM rep), '5'::jsonb, 'report 2024: their children');
-- Reached: of the twelve tasks opened in 2024, a contact reached the
-- households of nine (9001, 9002, 9005, 9006, 9007, 9008 twice, 9012,
-- 9013); those with children: 9001 (2), 9006 (4), 9008 (2); 9007's are
-- unknown. 9003's and 9011's families had tasks but were never reached.
SELECT is((SELECT r -> 'tasks_reached' FROM rep), '9'::jsonb, 'report 2024: tasks a contact reached');
SELECT is((SELECT r -> 'contact_rate' FROM rep), '0.750'::jsonb, 'report 2024: the contact rate, of the tasks opened');
SELECT is((SELECT r -> 'families_with_children_reached' FROM rep), '3'::jsonb,
          'report 2024: families with children a contact reached (each once)');
SELECT is((SELECT r -> 'children_in_families_reached' FROM rep), '8'::jsonb, 'report 2024: their children');
SELECT is((SELECT r -> 'reached_children_unknown' FROM rep), '1'::jsonb,
          'report 2024: households reached whose children are unknown');
SELECT is((SELECT r -> 'eviction_applications' FROM rep), '1'::jsonb,
          'report 2024: eviction applications, the enforcement agency''s only');
SELECT is((SELECT r -> 'evictions_executed' FROM rep), '2'::jsonb, 'report 2024: evictions executed');
-- Evicted: 9003 (3 children) had a task a month before and nobody reached
-- it; 9010 (no children) had no task at all.
SELECT is((SELECT jsonb_build_array(r -> 'evictions_executed_with_children', r -> 'children_evicted') FROM rep),
          '[1, 3]'::jsonb, 'report 2024: evictions involving children, and their children');
SELECT is((SELECT jsonb_build_array(r -> 'missed_cases', r -> 'missed_no_task', r -> 'missed_no_contact') FROM rep),
          '[2, [9010], [9003]]'::jsonb, 'report 2024: the missed cases, without a task and without contact');
-- Days from the first signal of the task's story to the first contact:
-- 9001 25, 9002 14, 9005 32, 9006 16, 9007 15, 9008 7 and 14 (its second
-- task counts from the notice of 20 June: the arrears of February belong
-- to the first task, those of 15 June came after the task opened), 9013 20;
-- 9003, 9011 and 9014 had no contact, 9012 no signal. Median of eight.
SELECT is((SELECT r -> 'median_days_signal_to_contact' FROM rep), '15.5'::jsonb,
          'report 2024: median days from signal to first contact');
-- Contact on or before the legal deadline (else the due date): 9001, 9005
-- (after its due date, before its deadline), 9006 (on the due date), 9007,
-- 9008 twice, 9012 yes; 9002, 9013 late; 9003, 9014 never and past; 9011
-- is still inside its deadline without contact: not counted. 7 of 11.
SELECT is((SELECT (r ->> 'contact_before_deadline_share')::numeric FROM rep), 0.636,
          'report 2024: share of tasks with contact before the deadline');
SELECT is((SELECT array_agg(k ORDER BY k) FROM rep, jsonb_object_keys(r) k),
          ARRAY['children_evicted', 'children_in_families_reached', 'children_kept_home', 'contact_before_deadline_share',
                'contact_rate', 'eviction_applications', 'evictions_executed', 'evictions_executed_children_unknown',
                'evictions_executed_with_children', 'families_with_children_kept_home', 'families_with_children_reached',
                'households_kept_home', 'kept_home_children_unknown', 'median_days_signal_to_contact', 'missed_cases',
                'missed_no_contact', 'missed_no_task', 'outcomes', 'outcomes_by_cause', 'outcomes_by_landlord',
                'outcomes_by_team', 'reached_children_unknown', 'signals', 'signals_by_month', 'tasks_closed',
                'tasks_closed_by_month', 'tasks_opened', 'tasks_opened_by_month', 'tasks_reached', 'year'],
          'report 2024: these figures, no other (008: and the months, for the report page''s charts)');
SELECT is(bokvar.report(2023) - 'signals_by_month' - 'tasks_opened_by_month' - 'tasks_closed_by_month', $${"year": 2023,
        "signals": [{"source": "landlord", "kind": "arrears", "count": 1},
                    {"source": "landlord", "kind": "termination_notice", "count": 1},
                    {"source": "enforcement", "kind": "eviction_application", "count": 1}],
        "tasks_opened": 1, "tasks_closed": 0, "tasks_reached": 0, "contact_rate": 0.000, "outcomes": {},
        "outcomes_by_cause": {}, "outcomes_by_landlord": {}, "outcomes_by_team": {},
        "households_kept_home": 0, "families_with_children_kept_home": 0, "children_kept_home": 0,
        "kept_home_children_unknown": 0,
        "families_with_children_reached": 0, "children_in_families_reached": 0, "reached_children_unknown": 0,
        "eviction_applications": 1, "evictions_executed": 0, "evictions_executed_with_children": 0,
        "children_evicted": 0, "evictions_executed_children_unknown": 0,
        "missed_cases": 0, "missed_no_task": [], "missed_no_contact": [],
        "median_days_signal_to_contact": null, "contact_before_deadline_share": 0.000}$$::jsonb,
          'report 2023: 9004''s task opened at 23:59:59 on 31 December, never contacted, past its deadline');
SELECT is(bokvar.report(2025) - 'signals_by_month' - 'tasks_opened_by_month' - 'tasks_closed_by_month', $${"year": 2025,
        "signals": [{"source": "enforcement", "kind": "eviction_application", "count": 1}],
        "tasks_opened": 0, "tasks_closed": 2, "tasks_reached": 0, "contact_rate": null,
        "outcomes": {"kept_home": 1, "referred": 1},
        "outcomes_by_cause": {"arrears": {"referred": 1}, "payment_order": {"kept_home": 1}},
        "outcomes_by_landlord": {"unknown": {"kept_home": 1, "referred": 1}},
        "outcomes_by_team": {"report": {"kept_home": 1, "referred": 1}},
        "households_kept_home": 1, "families_with_children_kept_home": 1, "children_kept_home": 4,
        "kept_home_children_unknown": 0,
        "families_with_children_reached": 0, "children_in_families_reached": 0, "reached_children_unknown": 0,
        "eviction_applications": 1, "evictions_executed": 0, "evictions_executed_with_children": 0,
        "children_evicted": 0, "evictions_executed_children_unknown": 0,
        "missed_cases": 0, "missed_no_task": [], "missed_no_contact": [],
        "median_days_signal_to_contact": null, "contact_before_deadline_share": null}$$::jsonb,
          'report 2025: 9005''s and 9006''s tasks closed (caused by arrears and a payment order), nothing opened');
SELECT is(bokvar.report(2022) - 'signals_by_month' - 'tasks_opened_by_month' - 'tasks_closed_by_month', $${"year": 2022, "signals": [], "tasks_opened": 0, "tasks_closed": 0,
        "tasks_reached": 0, "contact_rate": null, "outcomes": {},
        "outcomes_by_cause": {}, "outcomes_by_landlord": {}, "outcomes_by_team": {},
        "households_kept_home": 0, "families_with_children_kept_home": 0, "children_kept_home": 0,
        "kept_home_children_unknown": 0,
        "families_with_children_reached": 0, "children_in_families_reached": 0, "reached_children_unknown": 0,
        "eviction_applications": 0, "evictions_executed": 0, "evictions_executed_with_children": 0,
        "children_evicted": 0, "evictions_executed_children_unknown": 0,
        "missed_cases": 0, "missed_no_task": [], "missed_no_contact": [],
        "median_days_signal_to_contact": null, "contact_before_deadline_share": null}$$::jsonb,
          'report of a year without anything: zeros, empty lists, no median, share or rate');

-- =====================================================================
-- 12. A task's household and an event's task exist, checked once per
-- statement (013's triggers, where 004 had foreign keys): an insert, a
-- move or a delete that would break either fails whole, as
-- foreign_key_violation, and what keeps them whole still goes.

SELECT pg_temp.hh(1201);
SELECT pg_temp.hh(1202);
SELECT pg_temp.hh(1203);
CREATE FUNCTION pg_temp.task_for(p_household bigint) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT format($f$INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, due)
                         VALUES (%s, 'outreach', 'outreach', 'outreach', 60, 'central', DATE '2026-03-20')$f$, p_household)
$$;
SELECT lives_ok(pg_temp.task_for(1201), 'a task for a household that exists');
SELECT throws_ok(pg_temp.task_for(1299), '23503', 'a task refers to a household that does not exist',
                 'a task for a household that does not exist: refused');
SELECT throws_ok($$INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, due)
                   SELECT h, 'outreach', 'outreach', 'outreach', 60, 'central', DATE '2026-03-20'
                   FROM unnest(ARRAY[1202, 1298]) h$$, '23503', NULL,
                 'one missing household among several: the whole statement is refused');
SELECT is((SELECT count(*) FROM bokvar.task WHERE household_id IN (1202, 1298)), 0::bigint,
          '... and none of its tasks is there');
SELECT throws_ok($$UPDATE bokvar.task SET household_id = 1297 WHERE household_id = 1201$$, '23503',
                 'a task refers to a household that does not exist', 'a task moved to a household that does not exist: refused');
SELECT lives_ok($$UPDATE bokvar.task SET household_id = 1202 WHERE household_id = 1201$$,
                'a task moved to a household that exists (a merge)');
SELECT throws_ok($$DELETE FROM bokvar.household WHERE id IN (1202, 1203)$$, '23503',
                 'a household that has tasks cannot be deleted', 'a household with a task: not deleted');
SELECT is((SELECT count(*) FROM bokvar.household WHERE id IN (1202, 1203)), 2::bigint,
          '... nor the other household deleted in the same statement');
SELECT lives_ok($$DELETE FROM bokvar.household WHERE id IN (1201, 1203)$$, 'households without tasks: deleted');
SELECT is(bokvar.task_events(ARRAY(SELECT id FROM bokvar.task WHERE household_id = 1202), 'created', 'bokvar'), 1,
          'an event for a task that exists');
SELECT throws_ok($$INSERT INTO bokvar.task_event (task_id, event_id, kind, by)
                   VALUES ((SELECT max(id) + 1000 FROM bokvar.task), 'evt_orphan', 'created', 'bokvar')$$, '23503',
                 'a task event refers to a task that does not exist', 'an event for a task that does not exist: refused');
SELECT throws_ok($$DELETE FROM bokvar.task WHERE household_id = 1202$$, '23503',
                 'a task that has events cannot be deleted', 'a task with events: not deleted');
-- 022: many rows are checked against the stretch of the key between their
-- least and greatest, in one pass; a gap inside it is found as an end is.
INSERT INTO bokvar.household (id, children) SELECT g, 0 FROM generate_series(40001, 43000) g WHERE g <> 41500;
SELECT throws_ok($$INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, due)
                   SELECT h, 'outreach', 'outreach', 'outreach', 60, 'central', DATE '2026-03-20'
                   FROM generate_series(40001, 43000) h$$, '23503',
                 'a task refers to a household that does not exist',
                 '3 000 tasks, one household missing in the middle of theirs: the whole statement is refused');
SELECT lives_ok($$INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, due)
                  SELECT h, 'outreach', 'outreach', 'outreach', 60, 'central', DATE '2026-03-20'
                  FROM generate_series(40001, 43000) h WHERE h <> 41500$$,
                '... and the 2 999 whose households exist are opened');
DELETE FROM bokvar.task WHERE household_id = 42000;
SELECT throws_ok($$INSERT INTO bokvar.task_event (task_id, event_id, kind, by)
                   SELECT g, 'evt_gap_' || g, 'created', 'bokvar'
                   FROM generate_series((SELECT min(id) FROM bokvar.task WHERE household_id > 40000),
                                        (SELECT max(id) FROM bokvar.task WHERE household_id > 40000)) g$$, '23503',
                 'a task event refers to a task that does not exist',
                 'events for 2 998 tasks and one deleted among them: the whole statement is refused');
SELECT is((SELECT count(*) FROM bokvar.task_event WHERE event_id LIKE 'evt_gap_%'), 0::bigint,
          '... and none of its events is there');
DELETE FROM bokvar.task WHERE household_id > 40000;
DELETE FROM bokvar.household WHERE id > 40000;

-- 014: the outbox's pages keep room for a claim's new versions, so that a
-- claim, which changes no indexed column, writes no index entry (a HOT
-- update); the outcome, which changes status, cannot be one.
-- The count is read before and after the claim in one transaction: the
-- session's counts not yet flushed to the statistics include earlier
-- transactions' updates (sections 3 and 7 claim rows too).
BEGIN;
INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload)
SELECT 'evt_hot_' || g, 0, 'opened', 'hot', jsonb_build_object('n', g, 'pad', repeat('x', 300)) FROM generate_series(1, 40) g;
CREATE TEMP TABLE hot_before ON COMMIT DROP AS
SELECT n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'bokvar.outbox'::regclass;
SELECT is((SELECT count(*)::integer FROM bokvar.outbox_claim('hot', 40, 60, '[]', '{hot}')), 40, 'claim of 40 new rows');
SELECT is((SELECT (x.n_tup_hot_upd - b.n_tup_hot_upd)::integer
           FROM pg_stat_xact_user_tables x, hot_before b WHERE x.relid = 'bokvar.outbox'::regclass), 40,
          '... each a HOT update (fillfactor 45: its page had room)');
ROLLBACK;

-- 016: event ids in the order they are made ('evt_', the microsecond in
-- 14 hex digits, 18 random ones): the tasks this file opened.
SELECT is((SELECT count(*)::integer FROM bokvar.task_event WHERE kind = 'created' AND by = 'bokvar'
           AND event_id !~ '^evt_[0-9a-f]{32}$'), 0, 'an event id is evt_ and 32 hex digits');
SELECT is((SELECT count(*)::integer
           FROM (SELECT left(event_id, 18) AS t, lag(left(event_id, 18)) OVER (ORDER BY id) AS p
                 FROM bokvar.task_event WHERE kind = 'created' AND by = 'bokvar') x
           WHERE x.t < x.p), 0, '... and a later event''s id never sorts before an earlier one''s');
SELECT cmp_ok((SELECT count(*)::integer FROM bokvar.task_event WHERE kind = 'created' AND by = 'bokvar'), '>', 20,
              '... over the tasks this file opened');

-- 020: tasks_sync() reads a dense set of households (a quarter of its
-- range or more) by the range, a sparse one by each household: either
-- way, tasks for the households given alone, with their pending eviction.
BEGIN;
SELECT pg_temp.hh(g) FROM generate_series(1401, 1404) g;
SELECT pg_temp.hh(g) FROM generate_series(1470, 1471) g;
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, explanation, as_of)
SELECT g, 60, 'outreach', 1, '[]', pg_temp.d(0) FROM unnest(ARRAY[1401, 1402, 1403, 1404, 1470, 1471]) g;
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id)
OVERRIDING SYSTEM VALUE VALUES (14011, 'enforcement', '14011', 'enforcement', 'eviction_scheduled', pg_temp.d(-1),
                                pg_temp.d(20), 1401, 1),
                               (14701, 'enforcement', '14701', 'enforcement', 'eviction_scheduled', pg_temp.d(-1),
                                pg_temp.d(25), 1470, 1);
SELECT bokvar.tasks_sync(ARRAY[1401, 1403], pg_temp.d(0));
SELECT results_eq($$SELECT household_id, eviction_until FROM bokvar.task WHERE household_id BETWEEN 1401 AND 1404 ORDER BY 1$$,
                  $$VALUES (1401::bigint, pg_temp.d(20)), (1403, NULL)$$,
                  'tasks_sync of a dense set: tasks for the households given, not the others between them, '
                  'with the eviction pending');
SELECT bokvar.tasks_sync(ARRAY[1404, 1470], pg_temp.d(0));
SELECT results_eq($$SELECT household_id, eviction_until FROM bokvar.task
                    WHERE household_id BETWEEN 1401 AND 1404 OR household_id BETWEEN 1470 AND 1471 ORDER BY 1$$,
                  $$VALUES (1401::bigint, pg_temp.d(20)), (1403, NULL), (1404, NULL), (1470, pg_temp.d(25))$$,
                  'tasks_sync of a sparse set: the same');
ROLLBACK;

-- 020: task_events() reads a set of ids that fills its range as the
-- range, and any other set by its ids: an event for each task given, once,
-- and for no task between them.
BEGIN;
CREATE TEMP TABLE rng ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id)::integer AS n, id FROM bokvar.task ORDER BY id LIMIT 4;
SELECT is(bokvar.task_events(ARRAY(SELECT id FROM rng WHERE n <= 3), 'overdue', 'range'), 3,
          'events for three tasks of consecutive ids');
SELECT is(bokvar.task_events(ARRAY(SELECT id FROM rng WHERE n IN (1, 3, 1, 4)), 'overdue', 'gap'), 3,
          'events for tasks with a gap between their ids, one given twice');
SELECT is(bokvar.task_events(ARRAY(SELECT id FROM rng WHERE n IN (2, 3, 2)), 'overdue', 'twice'), 2,
          'events for consecutive ids, one given twice');
SELECT results_eq($$SELECT by, task_id FROM bokvar.task_event WHERE by IN ('range', 'gap', 'twice') ORDER BY by, task_id$$,
                  $$SELECT 'gap', id FROM rng WHERE n IN (1, 3, 4) UNION ALL SELECT 'range', id FROM rng WHERE n <= 3
                    UNION ALL SELECT 'twice', id FROM rng WHERE n IN (2, 3) ORDER BY 1, 2$$,
                  '... each task given has its one event, and the task between the gap''s ids none');
ROLLBACK;

-- 018: a claimer's next claim in the session reads on from where its last
-- one ended; a row due behind that point (given back here) is claimed when
-- fewer rows follow than asked for, and first again once the claimer last
-- read from the start more than a second ago.
BEGIN;
INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload)
SELECT 'evt_cur_' || g, 0, 'opened', 'cur', '{}' FROM generate_series(1, 5) g;
CREATE TEMP TABLE cur ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY id)::integer AS n, id FROM bokvar.outbox WHERE channel = 'cur';
SELECT results_eq($$SELECT id FROM bokvar.outbox_claim('cur', 2, 60, '[]', '{cur}') ORDER BY id$$,
                  $$SELECT id FROM cur WHERE n IN (1, 2) ORDER BY id$$, 'claim: the first one reads from the start');
SELECT results_eq($$SELECT id FROM bokvar.outbox_claim('cur', 1, 60, '[]', '{cur}', ARRAY(SELECT id FROM cur WHERE n = 1))$$,
                  $$SELECT id FROM cur WHERE n = 3$$, 'claim after giving the first row back: on from the last claim''s end');
SELECT results_eq($$SELECT id FROM bokvar.outbox_claim('cur', 5, 60, '[]', '{cur}') ORDER BY id$$,
                  $$SELECT id FROM cur WHERE n IN (1, 4, 5) ORDER BY id$$,
                  'claim of more than follow: the rest from the start, the row given back too');
SELECT pg_sleep(1.1);
SELECT results_eq($$SELECT id FROM bokvar.outbox_claim('cur', 1, 60, '[]', '{cur}', ARRAY(SELECT id FROM cur WHERE n IN (1, 5)))$$,
                  $$SELECT id FROM cur WHERE n = 1$$,
                  'claim a second after the last read from the start: from the start again, the row given back first');
ROLLBACK;

-- 027: new tasks routed once for each set of words, and met by no more
-- slots than can be theirs. The same teams as route_team() gives each
-- household, and the same caseworkers as handing the tasks out one at a
-- time, in order, each to the one in its team with the fewest open tasks
-- (ties by name), with anna far ahead of bo; words repeated, and missing.
BEGIN;
UPDATE bokvar.task SET assignee = 'anna' WHERE status = 'open' AND assignee = 'bo';
SELECT pg_temp.hh(1300 + g, CASE g % 4 WHEN 0 THEN NULL WHEN 1 THEN '60201' WHEN 2 THEN '60234' ELSE '11122' END,
                  CASE WHEN g % 3 = 0 THEN 'Norrköping' END, CASE WHEN g % 5 = 0 THEN 'Hyresbostäder AB' END)
FROM generate_series(1, 40) g;
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, explanation, as_of)
SELECT 1300 + g, 50 + g, (ARRAY['outreach', 'urgent', 'watch'])[g % 3 + 1]::bokvar.risk_class, 1, '[]', pg_temp.d(0)
FROM generate_series(1, 40) g;
CREATE TEMP TABLE handed (household_id bigint, team text, assignee text) ON COMMIT DROP;
DO $$
DECLARE
        r record;
        who text;
BEGIN
        CREATE TEMP TABLE handed_load ON COMMIT DROP AS
        SELECT tm.name AS team, cw, (SELECT count(*) FROM bokvar.task o WHERE o.status = 'open' AND o.assignee = cw) AS n
        FROM bokvar.team tm, unnest(tm.caseworkers) cw;
        FOR r IN SELECT s.household_id, coalesce(rt.team, 'unrouted') AS team
                 FROM bokvar.score s
                 JOIN bokvar.household h ON h.id = s.household_id
                 LEFT JOIN LATERAL bokvar.route_team(h.postal_code, h.city_key, h.landlord_key) rt ON true
                 WHERE s.household_id BETWEEN 1301 AND 1340 AND s.class IN ('outreach', 'urgent')
                 ORDER BY s.class DESC, s.household_id LOOP
                SELECT l.cw INTO who FROM handed_load l WHERE l.team = r.team ORDER BY l.n, l.cw LIMIT 1;
                UPDATE handed_load SET n = n + 1 WHERE team = r.team AND cw = who;
                INSERT INTO handed VALUES (r.household_id, r.team, who);
        END LOOP;
END $$;
SELECT bokvar.tasks_sync(ARRAY(SELECT generate_series(1301, 1340)::bigint), pg_temp.d(0));
SELECT results_eq($$SELECT household_id, team, assignee FROM bokvar.task WHERE household_id BETWEEN 1301 AND 1340
                    ORDER BY 1$$,
                  $$SELECT household_id, team, assignee FROM handed ORDER BY 1$$,
                  'tasks_sync: a new task''s team is route_team()''s for its household, its caseworker the one the '
                  'tasks handed out one at a time give it');
SELECT ok((SELECT count(*) FILTER (WHERE assignee = 'bo') > count(*) FILTER (WHERE assignee = 'anna')
                  AND count(DISTINCT team) >= 4 AND count(*) FILTER (WHERE assignee IS NULL) > 0
           FROM bokvar.task WHERE household_id BETWEEN 1301 AND 1340),
          '... bo, far behind, caught up first; four teams or more, one of them without caseworkers');
ROLLBACK;

SELECT FROM (SELECT dblink_disconnect(name) FROM pg_temp.conn) x;
SELECT * FROM finish();
