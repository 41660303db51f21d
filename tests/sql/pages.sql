-- SPDX-License-Identifier: GPL-3.0-or-later
-- The pages of coordinators, operators and auditors, and people's own
-- language (sql/008_pages.sql): what each function of person may read and
-- do through the web service, that none of it carries personal data, and
-- that a person's setting is theirs alone.
--
-- As in web.sql: people act through their own logins (dblink,
-- tests/sql/logins.psql), the web service's login (pw_svc) states whom it
-- acts for in the same transaction. Team a (601): pw_a1; team b (602, the
-- default): pw_b1; pw_co coordinates, pw_op operates, pw_au audits.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION dblink;
SELECT plan(47);

\ir logins.psql

SELECT bokvar.config_sync($j${
        "teams": [{"name": "a", "postal_codes": ["601"], "cities": [], "landlords": [],
                   "postal_keys": ["601"], "city_keys": [], "landlord_keys": [], "default": false,
                   "caseworkers": ["pw_a1"]},
                  {"name": "b", "postal_codes": ["602"], "cities": [], "landlords": [],
                   "postal_keys": ["602"], "city_keys": [], "landlord_keys": [], "default": true,
                   "caseworkers": ["pw_b1"]}],
        "channels": [], "tasks": {},
        "people": {"coordinators": ["pw_co"], "operators": ["pw_op"], "auditors": ["pw_au"]}}$j$::jsonb);
SELECT FROM bokvar.ruleset_load($${"window_days": 365, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90},
        "rules": [{"name": "notice", "points": 60, "when": {"kind": ["termination_notice"]}},
                  {"name": "children", "points": 40, "when": {"children_at_least": 1}}]}$$,
        'rules', '/etc/bokvar/rules.yaml', 'tap');
SELECT pg_temp.login('pw_a1', 'caseworker');
SELECT pg_temp.login('pw_b1', 'caseworker');
SELECT pg_temp.login('pw_co', 'coordinator');
SELECT pg_temp.login('pw_op', 'operator');
SELECT pg_temp.login('pw_au', 'auditor');
SELECT pg_temp.login('pw_svc', 'web');

-- What pw_svc does as p_who, in one transaction; its one value or error.
CREATE FUNCTION pg_temp.web(p_who text, p_sql text) RETURNS text LANGUAGE sql AS $$
        SELECT pg_temp.act('pw_svc', format('SELECT bokvar.web_person(%L); ', p_who) || p_sql)
$$;
-- A notice as bokvar-web passes it once read by the ingest's rules in C:
-- the typed stage's row (tests/sql/web.sql's, with children).
CREATE FUNCTION pg_temp.notice(p_pnr text, p_zip text, p_children text DEFAULT '') RETURNS text LANGUAGE sql AS $$
        SELECT quote_literal(jsonb_strip_nulls(jsonb_build_object(
                'kind', 'termination_notice', 'occurred_at', current_date - 2, 'deadline', current_date - 2 + 21,
                'person_id', replace(p_pnr, '-', ''), 'address', 'Alfagatan 1', 'postal_code', p_zip,
                'children', nullif(p_children, '')::integer,
                'address_key', 'ALFAGATAN1|' || replace(p_zip, ' ', '') || '|', 'postal_key', replace(p_zip, ' ', '')))::text)
$$;
-- Two homes, a task each: a's with children, b's without.
SELECT pg_temp.web('pw_a1', 'SELECT team FROM bokvar.signal_register(' || pg_temp.notice('19600207-1014', '601 11', '2') || ')');
SELECT pg_temp.web('pw_b1', 'SELECT team FROM bokvar.signal_register(' || pg_temp.notice('19600315-1021', '602 22') || ')');
CREATE TEMP TABLE first_tasks AS SELECT team, id FROM bokvar.task;
-- The task first opened in team p_team (it may be handed over below).
CREATE FUNCTION pg_temp.task(p_team text) RETURNS bigint LANGUAGE sql AS $$
        SELECT id FROM pg_temp.first_tasks WHERE team = p_team
$$;

-- 1. A person's own language.
SELECT is(pg_temp.web('pw_a1', 'SELECT bokvar.my_language_set(''nb'')'), 'nb', 'my_language_set: a caseworker chooses nb');
SELECT is(pg_temp.web('pw_au', 'SELECT bokvar.my_language_set(''en'')'), 'en', '... an auditor en');
SELECT is(pg_temp.act('pw_svc', $$SELECT bokvar.web_person('pw_a1')$$), '(caseworker,a,nb)',
          'web_person: the function, teams and language');
SELECT is(pg_temp.act('pw_svc', $$SELECT bokvar.web_person('pw_b1')$$), '(caseworker,b,)', '... no language chosen: NULL');
SELECT matches(pg_temp.web('pw_a1', 'SELECT bokvar.my_language_set(''norsk'')'), '^22023: ',
               'a language is given by its code');
SELECT matches(pg_temp.act('pw_svc', $$SELECT bokvar.web_person('mallory')$$), '^42501: ',
               'web_person: nobody bokvar knows is 42501');
SELECT is(pg_temp.act('pw_a1', 'SELECT bokvar.my_language_set(''sv'')'), 'sv',
          'a person sets their own from their own login (bokvarctl, say)');
SELECT is(pg_temp.act('pw_a1', 'SELECT count(*)::text FROM bokvar.actor_setting'), '42501: permission denied for table actor_setting',
          'nobody selects the settings table');
SELECT is((SELECT string_agg(login || '=' || language, ' ' ORDER BY login) FROM bokvar.actor_setting),
          'pw_a1=sv pw_au=en', 'each row is its person''s: one each, the last choice');
SELECT matches(pg_temp.act('pw_a1', $$SELECT bokvar.web_person('pw_au')$$), '^42501: ',
               'one person cannot read another''s (only the web service acts for someone)');
SELECT bokvar.config_sync($j${"teams": [{"name": "a", "postal_codes": ["601"], "cities": [], "landlords": [],
                   "postal_keys": ["601"], "city_keys": [], "landlord_keys": [],
        "default": false, "caseworkers": ["pw_a1"]}, {"name": "b", "postal_codes": ["602"], "cities": [], "landlords": [],
                   "postal_keys": ["602"], "city_keys": [], "landlord_keys": [],
        "default": true, "caseworkers": ["pw_b1"]}], "channels": [], "tasks": {},
        "people": {"coordinators": ["pw_co"], "operators": ["pw_op"]}}$j$::jsonb);
SELECT is((SELECT string_agg(login, ' ') FROM bokvar.actor_setting), 'pw_a1',
          'an actor no longer declared goes with their settings');
SELECT bokvar.config_sync($j${"people": {"auditors": ["pw_au"], "coordinators": ["pw_co"], "operators": ["pw_op"]},
        "teams": [{"name": "a", "postal_codes": ["601"], "cities": [], "landlords": [],
                   "postal_keys": ["601"], "city_keys": [], "landlord_keys": [], "default": false,
        "caseworkers": ["pw_a1"]}, {"name": "b", "postal_codes": ["602"], "cities": [], "landlords": [],
                   "postal_keys": ["602"], "city_keys": [], "landlord_keys": [],
        "default": true, "caseworkers": ["pw_b1"]}], "channels": [], "tasks": {}}$j$::jsonb);

-- 2. Coordinators: every team counted; a task's facts without its household.
SELECT is(pg_temp.web('pw_co', $$SELECT string_agg(format('%s %s/%s/%s/%s/%s', team, caseworkers, open, with_children,
                                   overdue, unassigned), ', ' ORDER BY team) FROM bokvar.web_team_overview()$$),
          'a 1/1/1/0/0, b 1/1/0/0/0', 'web_team_overview: each team''s open tasks, those with children, overdue, unassigned');
SELECT matches(pg_temp.web('pw_a1', 'SELECT count(*) FROM bokvar.web_team_overview()'), '^42501: ',
               'web_team_overview: a coordinator''s only');
SELECT is(pg_temp.web('pw_co', format('SELECT team || '' '' || class || '' '' || children FROM bokvar.web_task_brief(%s)',
                                      pg_temp.task('a'))),
          'a urgent 2', 'web_task_brief: the task''s team, class, children');
SELECT is(pg_temp.web('pw_a1', format('SELECT team FROM bokvar.web_task_brief(%s)', pg_temp.task('a'))), 'a',
          '... a caseworker, of her team''s task');
SELECT matches(pg_temp.web('pw_a1', format('SELECT team FROM bokvar.web_task_brief(%s)', pg_temp.task('b'))), '^42501: ',
               '... not of another team''s');
SELECT matches(pg_temp.web('pw_au', format('SELECT team FROM bokvar.web_task_brief(%s)', pg_temp.task('a'))), '^42501: ',
               '... not for an auditor');
SELECT is((SELECT count(*)::integer FROM bokvar.access_log), 0, 'none of it is a read of personal data, and none is logged');
SELECT is(pg_temp.web('pw_co', format($$SELECT id::text FROM bokvar.task_hand_over(%s, 'b', 'moved')$$, pg_temp.task('a'))),
          pg_temp.task('a')::text, 'a coordinator hands a task over between teams without reading it');
SELECT is((SELECT actor || ' ' || (detail ->> 'from_team') || '>' || (detail ->> 'to_team') FROM bokvar.audit_log
           WHERE action = 'task.hand_over'), 'pw_co a>b', '... audited in her name');

-- 3. Feeds and dead letters: coordinators and operators.
INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload, status, attempts, last_status, last_error)
VALUES ('evt_1', pg_temp.task('b'), 'created', 'hook', '{}', 'dead', 20, 410, 'gone'),
       ('evt_2', pg_temp.task('b'), 'overdue', 'hook', '{}', 'dead', 20, 500, 'down'),
       ('evt_3', pg_temp.task('b'), 'created', 'mail', '{}', 'delivered', 1, 250, NULL);
INSERT INTO bokvar.quarantine (feed, fetch_id, line, reason, raw, fields, doc)
SELECT 'manual', (SELECT min(id) FROM bokvar.fetch), 1, 'person_id: the check digit of the Swedish personnummer is wrong',
       '19600207-1015;Anna', NULL, NULL;
SELECT is(pg_temp.web('pw_op', $$SELECT feed || ' ' || total_fetches || ' ' || quarantined FROM bokvar.web_feeds()$$),
          'manual 2 1', 'web_feeds: each feed''s fetches, and its rows waiting in the quarantine (a count)');
SELECT is(pg_temp.web('pw_co', $$SELECT count(*)::text FROM bokvar.web_feeds()$$), '1', '... for a coordinator too');
SELECT matches(pg_temp.web('pw_a1', $$SELECT count(*) FROM bokvar.web_feeds()$$), '^42501: ', '... not a caseworker');
SELECT matches(pg_temp.web('pw_au', $$SELECT count(*) FROM bokvar.web_feeds()$$), '^42501: ', '... nor an auditor');
SELECT is(pg_temp.web('pw_op', $$SELECT string_agg(kind || ' ' || last_status || ' ' || total, ', ' ORDER BY id)
                                 FROM bokvar.web_dead_letters(10)$$),
          'created 410 2, overdue 500 2', 'web_dead_letters: the dead ones, how many in all');
SELECT is(pg_temp.web('pw_op', $$SELECT count(*)::text FROM bokvar.web_dead_letters(1)$$), '1', '... as many as asked for');
SELECT matches(pg_temp.web('pw_a1', $$SELECT count(*) FROM bokvar.web_dead_letters(10)$$), '^42501: ',
               '... not for a caseworker');
SELECT is(pg_temp.web('pw_co', format('SELECT bokvar.web_outbox_retry(%s)::text',
                                      (SELECT id FROM bokvar.outbox WHERE event_id = 'evt_1'))),
          '1', 'web_outbox_retry: a coordinator sends one again');
SELECT is((SELECT string_agg(event_id || ' ' || status, ', ' ORDER BY id) FROM bokvar.outbox),
          'evt_1 pending, evt_2 dead, evt_3 delivered', '... that one, and no other');
SELECT is(pg_temp.web('pw_op', 'SELECT bokvar.web_outbox_retry(NULL)::text'), '1', '... an operator all of them');
SELECT matches(pg_temp.web('pw_au', 'SELECT bokvar.web_outbox_retry(NULL)'), '^42501: ', '... an auditor none');
SELECT is((SELECT string_agg(actor || ' ' || subject, ', ' ORDER BY id) FROM bokvar.audit_log WHERE action = 'outbox.retry'),
          format('pw_co %s, pw_op all dead letters', (SELECT id FROM bokvar.outbox WHERE event_id = 'evt_1')),
          'each retry audited in the name of who asked');
INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, recipient, payload, status, attempts, last_status, last_error)
VALUES ('evt_4', pg_temp.task('b'), 'created', 'hook', 'https://case.example/hook',
        '{"data": {"person_id": "19600315-1021", "address": "Alfagatan 1"}}', 'dead', 20, 400, 'rejected');
SELECT is(pg_temp.web('pw_op', $$SELECT string_agg(d::text, ' | ') FROM bokvar.web_dead_letters(10) d$$),
          (SELECT format('(%s,%s,created,hook,20,,400,rejected,1)', id, task_id) FROM bokvar.outbox
           WHERE event_id = 'evt_4'),
          'web_dead_letters: the event, its task and the receiver''s answer; not what it carried, nor where it went');

-- 4. Auditors: the access log searched, unusual reads first; the purges.
SELECT pg_temp.web('pw_b1', format('SELECT count(*) FROM bokvar.web_household_open(%s)', h))
FROM (SELECT household_id AS h FROM bokvar.task WHERE id = pg_temp.task('b')) x;
SELECT pg_temp.web('pw_co', format('SELECT count(*) FROM bokvar.web_household_open(%s)', h))
FROM (SELECT household_id AS h FROM bokvar.task WHERE id = pg_temp.task('b')) x;
SELECT is(pg_temp.web('pw_au', $$SELECT string_agg(actor || ':' || unusual || ':' || total, ' ')
                                 FROM bokvar.web_access_log(NULL, NULL, NULL, NULL, false, 0, 10)$$),
          'pw_co:true:2 pw_b1:false:2', 'web_access_log: the unusual read first (a coordinator with no task of it), then the newest');
SELECT is(pg_temp.web('pw_au', format($$SELECT string_agg(actor, ' ') FROM bokvar.web_access_log(NULL, NULL,
                                          now() - interval '1 day', %L, false, 0, 10)$$,
                                          (SELECT at FROM bokvar.access_log WHERE actor = 'pw_co'))),
          'pw_b1', '... in a period (its end not included)');
SELECT is(pg_temp.web('pw_au', $$SELECT string_agg(actor, ' ') FROM bokvar.web_access_log(NULL, 'pw_co', NULL, NULL,
                                   false, 0, 10)$$), 'pw_co', '... by who read');
SELECT is(pg_temp.web('pw_au', format($$SELECT coalesce(string_agg(actor, ' '), 'none')
                                         FROM bokvar.web_access_log(%s, NULL, NULL, NULL, false, 0, 10)$$,
                                         (SELECT household_id FROM bokvar.task WHERE id = pg_temp.task('b')))),
          'pw_co pw_b1', '... by household: its reads, the unusual first');
SELECT is(pg_temp.web('pw_au', format($$SELECT coalesce(string_agg(actor, ' '), 'none')
                                         FROM bokvar.web_access_log(%s, NULL, NULL, NULL, false, 0, 10)$$,
                                         (SELECT household_id FROM bokvar.task WHERE id = pg_temp.task('a')))),
          'none', '... another household''s: none (nobody opened it)');
SELECT is(pg_temp.web('pw_au', $$SELECT string_agg(actor || ':' || total, ' ')
                                 FROM bokvar.web_access_log(NULL, NULL, NULL, NULL, true, 0, 10)$$),
          'pw_co:1', '... the unusual reads only');
SELECT is(pg_temp.web('pw_au', $$SELECT string_agg(actor || ':' || total, ' ')
                                 FROM bokvar.web_access_log(NULL, NULL, NULL, NULL, false, 1, 1)$$),
          'pw_b1:2', '... a page of them (offset, limit), with how many match in all');
SELECT matches(pg_temp.web('pw_co', $$SELECT count(*) FROM bokvar.web_access_log(NULL, NULL, NULL, NULL, false, 0, 10)$$),
               '^42501: ', '... the auditors'' only');
SELECT bokvar.purge(false);
SELECT is(pg_temp.web('pw_au', $$SELECT actor || ' ' || households_without_task || ' ' || access_log
                                 FROM bokvar.web_purges(5)$$),
          session_user || ' 0 0',
          'web_purges: who purged, and the counts');
SELECT matches(pg_temp.web('pw_op', $$SELECT count(*) FROM bokvar.web_purges(5)$$), '^42501: ',
               '... the auditors'' only');

-- 5. The report's months: in report_parts' form, so that a purge keeps them.
SELECT is(bokvar.report(extract(year FROM current_date - 2)::integer) #> ARRAY['signals_by_month', 'termination_notice',
                                                                            to_char(current_date - 2, 'MM')],
          '2'::jsonb, 'report: signals by kind per month (the two notices, in the month they occurred)');
SELECT is(bokvar.report(extract(year FROM now())::integer) #> ARRAY['tasks_opened_by_month', to_char(now(), 'MM')],
          '2'::jsonb, 'report: tasks opened per month');
SELECT ok(bokvar.report_parts(2026) ?& ARRAY['signals_by_month', 'tasks_opened_by_month', 'tasks_closed_by_month'],
          'the months are report_parts'', which the purge keeps in report_purged');
INSERT INTO bokvar.report_purged (year, figures)
VALUES (1999, '{"tasks_opened": 3, "signals_by_month": {"arrears": {"03": 2}}, "tasks_opened_by_month": {"03": 3}}');
SELECT is((bokvar.report(1999) -> 'signals_by_month') || (bokvar.report(1999) -> 'tasks_opened_by_month')
          || jsonb_build_object('opened', bokvar.report(1999) -> 'tasks_opened'),
          '{"arrears": {"03": 2}, "03": 3, "opened": 3}'::jsonb,
          'what a purge kept of a year''s months counts in its report');

SELECT * FROM finish();
