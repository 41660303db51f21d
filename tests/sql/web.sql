-- SPDX-License-Identifier: GPL-3.0-or-later
-- The caseworkers' web (sql/007_web.sql): what bokvar-web's login may do
-- for whom it says it acts for, the household reads that refuse unless the
-- read was logged, the worklist's order, the new actions, and notices
-- registered by hand through the feeds' own ingest (their fields read in
-- C first: sql/010_speed.sql).
--
-- People act as themselves through connections of their own (dblink,
-- tests/sql/logins.psql); the web service's login states whom it acts for
-- in the same transaction as what it does, as bokvar-web's pages do (one
-- multi-statement string is one transaction). The file's own session is
-- the cluster's superuser, which sets up the world.
--
-- Team a (postal code 601): caseworker web_a1; team b (602, the default):
-- web_b1. web_co coordinates; web_svc is the web service's login.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION dblink;
SELECT plan(40);

\ir logins.psql

SELECT bokvar.config_sync($j${
        "teams": [{"name": "a", "postal_codes": ["601"], "cities": [], "landlords": [], "default": false,
                   "caseworkers": ["web_a1", "web_a2"], "postal_keys": ["601"], "city_keys": [], "landlord_keys": []},
                  {"name": "b", "postal_codes": ["602"], "cities": [], "landlords": [], "default": true,
                   "caseworkers": ["web_b1"], "postal_keys": ["602"], "city_keys": [], "landlord_keys": []}],
        "channels": [], "tasks": {},
        "people": {"coordinators": ["web_co"]}}$j$::jsonb);
SELECT FROM bokvar.ruleset_load($${"window_days": 365, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90},
        "rules": [{"name": "notice", "points": 60, "when": {"kind": ["termination_notice"]}},
                  {"name": "scheduled", "points": 40, "when": {"kind": ["eviction_scheduled"]}},
                  {"name": "children", "points": 10, "when": {"children_at_least": 1}}]}$$,
        'rules', '/etc/bokvar/rules.yaml', 'tap');
SELECT pg_temp.login('web_a1', 'caseworker');
SELECT pg_temp.login('web_b1', 'caseworker');
SELECT pg_temp.login('web_co', 'coordinator');
SELECT pg_temp.login('web_svc', 'web');
SELECT pg_temp.login('web_aud', 'auditor');

-- What web_svc does as p_who, in one transaction; its one value or error.
CREATE FUNCTION pg_temp.web(p_who text, p_sql text) RETURNS text LANGUAGE sql AS $$
        SELECT pg_temp.act('web_svc', format('SELECT bokvar.web_actor(%L); ', p_who) || p_sql)
$$;
-- The same for every row (act_rows takes one query: the transaction is
-- made by hand around it).
CREATE FUNCTION pg_temp.web_rows(p_who text, p_sql text) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
        PERFORM pg_temp.act_exec('web_svc', 'BEGIN');
        PERFORM pg_temp.act_exec('web_svc', format('SELECT bokvar.web_actor(%L)', p_who));
        RETURN QUERY SELECT v FROM dblink(pg_temp.conn_of('web_svc'), p_sql) AS x(v text);
        PERFORM pg_temp.act_exec('web_svc', 'COMMIT');
END;
$$;
-- What a refused form must not have changed.
CREATE FUNCTION pg_temp.stored() RETURNS text LANGUAGE sql AS $$
        SELECT format('%s signals, %s fetches, %s quarantined, %s households, %s tasks, %s audit rows',
                      (SELECT count(*) FROM bokvar.signal), (SELECT count(*) FROM bokvar.fetch),
                      (SELECT count(*) FROM bokvar.quarantine), (SELECT count(*) FROM bokvar.household),
                      (SELECT count(*) FROM bokvar.task), (SELECT count(*) FROM bokvar.audit_log))
$$;
CREATE TABLE pg_temp.before (what text);
-- A notice as bokvar-web sends it once the form's fields passed the
-- ingest's rules (src/ingest/notice.c; test-notice checks what they
-- refuse): typed, the identity number normalised, the deadline the law
-- gives a termination, the address key and postal code as normalised words.
CREATE FUNCTION pg_temp.notice(p_pnr text, p_zip text, p_children integer DEFAULT NULL) RETURNS text
LANGUAGE sql AS $$
        SELECT jsonb_strip_nulls(jsonb_build_object(
                'kind', 'termination_notice', 'occurred_at', current_date - 2, 'deadline', current_date - 2 + 21,
                'person_id', replace(p_pnr, '-', ''), 'name', 'Anna Alfa', 'address', 'Alfagatan 1',
                'postal_code', p_zip, 'children', p_children, 'amount', '12345.50',
                'address_key', 'ALFAGATAN1|' || replace(p_zip, ' ', '') || '|', 'postal_key', replace(p_zip, ' ', '')))::text
$$;

-- 1. Who the web service may act for, and what it says of them.
SELECT is(pg_temp.act('web_svc', $$SELECT bokvar.web_actor('web_a1')$$), '(caseworker,a)',
          'web_actor: a caseworker, her teams');
SELECT is(pg_temp.act('web_svc', $$SELECT bokvar.web_actor('web_co')$$), '(coordinator,"")', 'web_actor: a coordinator');
SELECT matches(pg_temp.act('web_svc', $$SELECT bokvar.web_actor('mallory')$$), '^42501: ',
               'web_actor: nobody bokvar knows is 42501');
SELECT matches(pg_temp.act('web_a1', $$SELECT bokvar.web_actor('web_a1')$$), '^42501: ',
               'web_actor: a person may not call it (only the web service acts for someone)');
SELECT is(pg_temp.act('web_svc', 'SELECT count(*)::text FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50)'), '0',
          'without web_actor in its transaction, the web service sees no task');

-- 2. A notice registered by hand: through the web service, or (009) a
-- caseworker's or coordinator's own bokvarctl, each of which read its
-- fields by the ingest's rules first; what is no typed row is refused, and
-- nothing stored.
INSERT INTO pg_temp.before SELECT pg_temp.stored();
SELECT matches(pg_temp.web('web_a1', 'SELECT count(*) FROM bokvar.signal_register('
                           || quote_literal('{"kind": "arrears", "occurred_at": "2026-01-05", "color": "red"}') || ')'),
               '^22023: a notice is a JSON object of the typed stage''s columns',
               'signal_register: a key that is no column of the typed row');
SELECT matches(pg_temp.act('web_a1', 'SELECT count(*) FROM bokvar.signal_register('
                           || quote_literal('{"kind": "arrears", "occurred_at": "2026-01-05", "color": "red"}') || ')'),
               '^22023: a notice is a JSON object of the typed stage''s columns',
               'signal_register: a caseworker''s own session (bokvarctl signal add) is let in, and refused the same...');
SELECT matches(pg_temp.act('web_aud', 'SELECT count(*) FROM bokvar.signal_register('
                            || quote_literal(pg_temp.notice('19600207-1014', '601 11')) || ')'), '^42501: ',
               '... nor an auditor''s...');
SELECT matches(pg_temp.act('web_svc', 'SELECT count(*) FROM bokvar.signal_register('
                            || quote_literal(pg_temp.notice('19600207-1014', '601 11')) || ')'), '^42501: ',
               '... nor for the web service acting for nobody');
SELECT is(pg_temp.stored(), (SELECT what FROM pg_temp.before), '... and nothing stored, not even in the quarantine');

-- 3. Accepted: the manual feed, who entered it, matched, scored, a task.
SELECT is(pg_temp.web('web_a1', 'SELECT team FROM bokvar.signal_register('
                      || quote_literal(pg_temp.notice('19600207-1014', '601 11', 2)) || ')'), 'a',
          'signal_register: accepted; the household''s open task is team a''s');
SELECT is((SELECT concat_ws(' ', s.source, s.feed, f.entered_by, s.amount, t.class, t.score, t.household_children)
           FROM bokvar.signal s JOIN bokvar.fetch f ON f.id = s.fetch_id
           JOIN bokvar.task t ON t.household_id = s.household_id),
          'manual manual web_a1 12345.50 outreach 70 2',
                  '... source manual, feed manual, entered by web_a1, scored as a feed''s row is, the children on the task');
SELECT is((SELECT actor || ' ' || action FROM bokvar.audit_log WHERE action = 'signal.register'), 'web_a1 signal.register',
          '... in the audit log, in her name');
SELECT is(pg_temp.web('web_b1', 'SELECT team FROM bokvar.signal_register('
                      || quote_literal(pg_temp.notice('19600315-1021', '602 22')) || ')'), 'b',
          'a notice of team b''s home, by its caseworker');
SELECT is(pg_temp.web('web_a1', 'SELECT count(*)::text FROM bokvar.signal_register('
                      || quote_literal(pg_temp.notice('19600421-1030', '602 30')) || ')'), '1',
          'web_a1 may register a notice of a home that is team b''s (she gets no look at it)');

CREATE TABLE pg_temp.h AS SELECT s.person_id, s.household_id AS id, t.id AS task FROM bokvar.signal s
        JOIN bokvar.task t ON t.household_id = s.household_id;

-- 4. The worklist: the person's teams, in bokvar.worklist's order.
SELECT is(pg_temp.web('web_a1', 'SELECT string_agg(task_id::text, '','') FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50)'),
          (SELECT string_agg(task_id::text, ',' ORDER BY priority) FROM bokvar.worklist WHERE team = 'a'),
          'web_worklist: team a''s tasks, for web_a1');
SELECT is(pg_temp.web('web_co', 'SELECT string_agg(task_id::text, '','') FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50)'),
          (SELECT string_agg(task_id::text, ',' ORDER BY priority) FROM bokvar.worklist),
          'web_worklist: every task, in the same order, for the coordinator');
SELECT is(pg_temp.web('web_a1', $$SELECT count(*)::text FROM bokvar.web_worklist('b', NULL, NULL, 0, 50)$$), '0',
          'web_worklist: asking for team b shows web_a1 nothing of it');
SELECT is(pg_temp.web('web_co', $$SELECT count(*)::text FROM bokvar.web_worklist(NULL, NULL, 'urgent', 0, 50)$$), '0',
          'web_worklist: by class');
SELECT set_eq($$SELECT pg_temp.web_rows('web_a1', 'SELECT name || '' '' || visible FROM bokvar.web_teams()')$$,
              ARRAY['a true', 'b false'], 'web_teams: every team (where a task may go), and which web_a1 sees');

-- 5. A household's personal data: only after the read is logged.
SELECT matches(pg_temp.web('web_a1', format('SELECT count(*) FROM bokvar.web_household_persons(%s)',
                                            (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
               '^42501: household \d+ was not opened \(and logged\) in this transaction',
               'web_household_persons refuses unless web_household_open logged the read first');
SELECT is(pg_temp.web('web_a1', format('SELECT count(*) FROM bokvar.web_household_open(%1$s); '
                                       'SELECT string_agg(person_id || '' '' || name, '','') FROM bokvar.web_household_persons(%1$s)',
                                       (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
          '196002071014 Anna Alfa', 'after web_household_open: who lives there, identity number in full');
SELECT is((SELECT string_agg(concat_ws(' ', actor, via, path, task_id), ',') FROM bokvar.access_log),
          'web_a1 web_svc web.household ' || (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'),
                  '... one access-log row: web_a1, through web_svc, web.household, her task');
SELECT matches(pg_temp.web('web_a1', format('SELECT count(*) FROM bokvar.web_household_open(%s)',
                                            (SELECT id FROM pg_temp.h WHERE person_id = '196003151021'))),
               '^42501: there is no household \d+ that you may see', 'team b''s household: 42501 for web_a1');
SELECT is((SELECT count(*)::integer FROM bokvar.access_log), 1, '... and no access-log row for it');
SELECT is(pg_temp.web('web_a1', format('SELECT count(*) FROM bokvar.web_household_open(%1$s); '
                                       'SELECT count(*)::text FROM bokvar.web_household_persons(%1$s + 1)',
                                       (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
          '42501: household ' || ((SELECT id FROM pg_temp.h WHERE person_id = '196002071014') + 1)
              || ' was not opened (and logged) in this transaction',
          'the mark is for the household that was opened only');
SELECT matches(pg_temp.web('web_a1', format('SELECT bokvar.web_task_household(%s)',
                                            (SELECT task FROM pg_temp.h WHERE person_id = '196003151021'))),
               '^42501: ', 'web_task_household: team b''s task is none of web_a1''s');
SELECT matches(pg_temp.act('web_a1', 'SELECT count(*) FROM bokvar.web_household_open(1)'), '^42501: ',
               'a caseworker''s own login does not execute the web''s reads');

-- 6. The new actions, as the person.
SELECT matches(pg_temp.web('web_a1', format('SELECT bokvar.task_follow_up(%s, current_date - 1)',
                                            (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
               '^22023: a follow-up date is today or later', 'task_follow_up: not in the past (22023)');
SELECT is(pg_temp.web('web_a1', format('SELECT (bokvar.task_follow_up(%s, current_date + 3, ''call again'')).follow_up',
                                       (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
          (current_date + 3)::text, 'task_follow_up: set, with an event');
SELECT matches(pg_temp.web('web_a1', format('SELECT bokvar.task_reassign(%s, ''web_b1'')',
                                            (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
               '^22023: web_b1 is not a caseworker of team a', 'task_reassign: within the team only');
SELECT is(pg_temp.web('web_a1', format('SELECT (bokvar.task_reassign(%s, ''web_a2'', ''leave'')).assignee',
                                       (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
          'web_a2', 'task_reassign: to web_a2');
SELECT matches(pg_temp.web('web_a1', format('SELECT bokvar.task_follow_up(%s, current_date + 3)',
                                            (SELECT task FROM pg_temp.h WHERE person_id = '196003151021'))),
               '^P0002: no task \d+', 'an action on team b''s task: no task to web_a1');
SELECT is(pg_temp.web('web_a1', format('SELECT bokvar.household_children_correct(%s, 0, ''they moved'')',
                                       (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
          '', 'household_children_correct: the number web_a1 found (it returns nothing)');
SELECT is((SELECT concat_ws(' ', c.old_children, c.new_children, c.by, h.children, t.household_children, s.score)
           FROM bokvar.children_correction c JOIN bokvar.household h ON h.id = c.household_id
           JOIN bokvar.task t ON t.household_id = h.id JOIN bokvar.score s ON s.household_id = h.id),
          '2 0 web_a1 0 0 60',
          '... kept with the value before; household, task and score follow');
SELECT matches(pg_temp.web('web_a1', format('SELECT bokvar.task_hand_over(%s, ''b'', '''')',
                                            (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
               '^22023: handing a task over needs a reason', 'task_hand_over: with a reason only');
SELECT is(pg_temp.web('web_a1', format('SELECT (bokvar.task_hand_over(%s, ''b'', ''lives in b'')).team',
                                       (SELECT task FROM pg_temp.h WHERE person_id = '196002071014'))),
          'b', 'task_hand_over: to team b, though web_a1 may not see it there');
SELECT is(pg_temp.web('web_b1', format('SELECT count(*) FROM bokvar.web_household_open(%1$s); '
                                       'SELECT string_agg(kind || '' '' || from_value || '' '' || to_value || '' '' || note, '','') '
                                       'FROM bokvar.web_household_events(%1$s) WHERE kind = ''handed_over''',
                                       (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
          'handed_over a b lives in b', '... team b''s caseworker opens it and sees whence, whither and why');
SELECT is(pg_temp.web('web_a1', format('SELECT count(*)::text FROM bokvar.web_household_open(%s)',
                                       (SELECT id FROM pg_temp.h WHERE person_id = '196002071014'))),
          '42501: there is no household ' || (SELECT id FROM pg_temp.h WHERE person_id = '196002071014')
              || ' that you may see', '... and web_a1 sees the household no more');

-- 7. Nobody but the owner executes 007's helpers.
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'bokvar' AND has_function_privilege('web_svc', p.oid, 'EXECUTE')
                    AND p.proname IN ('web_household_read', 'web_me', 'task_for_action', 'task_move_team',
                                      'household_children_set', 'stage_table')$$,
                'the web service executes none of 007''s and 008''s internal functions');

SELECT * FROM finish();
