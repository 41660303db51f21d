-- SPDX-License-Identifier: GPL-3.0-or-later
-- People and the law (sql/006_access.sql): who acts, what each function
-- of person may select, change and execute, row-level security by team,
-- the access log, the masked quarantine, and the SECURITY DEFINER
-- functions under SET ROLE tricks and search_path games.
--
-- Every check of what a person may do runs as that person's own login, on
-- a connection of its own (tests/sql/logins.psql), never as the superuser
-- running this file; the database belongs to a role of its own, no
-- superuser (tests/sql/run-pgtap), as on a server.
--
-- Team a (postal codes 601): caseworkers acc_a1, acc_a2; household 1 with
-- task t1 (assigned to acc_a1), two people (pnr1, pnr4). Team b (602,
-- the default): caseworker acc_b1; household 2 with task t2 (pnr2).
-- Household 3 (pnr3) has no task. acc_coord coordinates, acc_op operates,
-- acc_aud audits, acc_cs is the case system of team b, acc_web the web
-- service; acc_nobody has a login in the caseworkers' role but is declared
-- nowhere. Quarantined rows of feeds qcsv and qjson carry pnr5.
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION dblink;
SELECT plan(109);

\ir logins.psql

\set tap_owner ''
\set tap_owner_password ''
\getenv tap_owner TAP_OWNER
\getenv tap_owner_password TAP_OWNER_PASSWORD
SELECT '' FROM (SELECT set_config('tap.owner', :'tap_owner', false),
                       set_config('tap.owner_password', :'tap_owner_password', false)) x;

-- The people and the data of the sketch above.
CREATE TABLE pg_temp.who (k text PRIMARY KEY, v text NOT NULL);
INSERT INTO pg_temp.who VALUES ('pnr1', '19600207-1014'), ('pnr2', '19600315-1021'), ('pnr3', '19600421-1030'),
        ('pnr4', '19600528-1040'), ('pnr5', '19600704-1053'), ('name1', 'Anna Alfa'), ('name2', 'Bertil Beta'),
        ('name3', 'Cecilia Gamma'), ('name4', 'Doris Delta'), ('name5', 'Erik Epsilon'),
        ('street1', 'Alfagatan 1'), ('street2', 'Betagatan 2'), ('street3', 'Gammagatan 3'), ('street5', 'Epsilongatan 5');
CREATE FUNCTION pg_temp.w(p_k text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.who WHERE k = p_k $$;

SELECT bokvar.config_sync($j${
        "teams": [{"name": "a", "postal_codes": ["601"], "cities": [], "landlords": [], "default": false,
                   "caseworkers": ["acc_a1", "acc_a2"]},
                  {"name": "b", "postal_codes": ["602"], "cities": [], "landlords": [], "default": true,
                   "caseworkers": ["acc_b1"]}],
        "channels": [{"name": "hook", "type": "webhook"}],
        "tasks": {},
        "people": {"coordinators": ["acc_coord"], "operators": ["acc_op"], "auditors": ["acc_aud"],
                   "case_systems": [{"login": "acc_cs", "teams": ["b"]}]},
        "feeds": {"qcsv": {"source": "landlord", "format": "csv", "delimiter": ";",
                           "fields": {"external_id": {"column": "Ärende"}, "kind": {"column": "Typ"},
                                      "occurred_at": {"column": "Datum"}, "person_id": {"column": "Pnr"},
                                      "name": {"column": "Namn"}, "address": {"column": "Adress"},
                                      "amount": {"column": "Skuld"}}},
                  "qjson": {"source": "enforcement", "format": "ndjson",
                            "fields": {"external_id": {"path": ["case", "id"]}, "kind": {"path": ["type"]},
                                       "person_id": {"path": ["debtor", "pnr"]}, "name": {"path": ["debtor", "name"]},
                                       "address": {"path": ["debtor", "street"]}}}}}$j$::jsonb);
SELECT pg_temp.login('acc_a1', 'caseworker');
SELECT pg_temp.login('acc_a2', 'caseworker');
SELECT pg_temp.login('acc_b1', 'caseworker');
SELECT pg_temp.login('acc_coord', 'coordinator');
SELECT pg_temp.login('acc_op', 'operator');
SELECT pg_temp.login('acc_aud', 'auditor');
SELECT pg_temp.login('acc_cs', 'case_system');
SELECT pg_temp.login('acc_web', 'web');
SELECT pg_temp.login('acc_nobody', 'caseworker');
SELECT pg_temp.login('acc_none', NULL);

INSERT INTO bokvar.feed (name, source) VALUES ('f', 'landlord'), ('qcsv', 'landlord'), ('qjson', 'enforcement');
INSERT INTO bokvar.fetch (id, feed, url, started_at, header) OVERRIDING SYSTEM VALUE VALUES
        (1, 'f', 'file:///f.csv', now(), NULL),
        (2, 'qcsv', 'file:///q.csv', now(), ARRAY['Ärende', 'Typ', 'Datum', 'Pnr', 'Namn', 'Adress', 'Skuld']),
        (3, 'qjson', 'file:///q.ndjson', now(), NULL);
INSERT INTO bokvar.household (id, postal_code, city, children, last_signal_at) VALUES
        (1, '60111', 'Norrköping', 2, current_date - 3), (2, '60211', 'Norrköping', 0, current_date - 3),
        (3, '60211', 'Norrköping', 1, current_date - 3);
INSERT INTO bokvar.household_person
SELECT translate(pg_temp.w('pnr' || p), '-', ''), h FROM (VALUES (1, 1), (4, 1), (2, 2), (3, 3)) v(p, h);
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, person_id, name, address, postal_code,
                           household_id, fetch_id) OVERRIDING SYSTEM VALUE
SELECT n, 'f', 'S' || n, 'landlord', 'termination_notice', current_date - 3, current_date + 18,
       translate(pg_temp.w('pnr' || p), '-', ''), pg_temp.w('name' || p), pg_temp.w('street' || h), '60' || h || '11', h, 1
FROM (VALUES (1, 1, 1), (2, 2, 2), (3, 3, 3), (4, 4, 1)) v(n, p, h);
-- An earlier version of signal 1, under another spelling of the name.
UPDATE bokvar.signal SET name = 'Anna Alfa-Svensson' WHERE id = 1;
INSERT INTO bokvar.score (household_id, score, class, ruleset_version, next_deadline, explanation, as_of)
SELECT h, 60, 'outreach', 1, current_date + 18,
       jsonb_build_array(jsonb_build_object('rule', 'notice', 'description', 'A notice', 'points', 60,
                                            'signals', jsonb_build_array(h))), current_date
FROM generate_series(1, 3) h;
INSERT INTO bokvar.task (id, household_id, class, opened_class, top_class, score, team, assignee, due, created_at)
OVERRIDING SYSTEM VALUE VALUES
        (11, 1, 'outreach', 'outreach', 'outreach', 60, 'a', 'acc_a1', current_date + 7, now() - interval '1 hour'),
        (12, 2, 'outreach', 'outreach', 'outreach', 60, 'b', 'acc_b1', current_date + 7, now() - interval '1 hour');
INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload)
VALUES ('evt_1', 11, 'created', 'hook', '{"type": "task.created", "data": {"task_id": 11}}');
-- Quarantined rows as bokvard stages them (migration 008): with what
-- operators may see of them, masked in C by the feed's mapping (ingest/
-- mapping.c, unit-mapping has the masking's cases).
INSERT INTO bokvar.quarantine (feed, fetch_id, line, raw, fields, doc, reason, masked) VALUES
        ('qcsv', 2, 2, 'Q-1;Uppsägning;2026-03-01;' || pg_temp.w('pnr5') || ';Erik Epsilon;Epsilongatan 5;1 200',
         ARRAY['Q-1', 'Uppsägning', '2026-03-01', pg_temp.w('pnr5'), 'Erik Epsilon', 'Epsilongatan 5', '1 200'],
         NULL, 'kind ''Uppsägning'' is not a signal kind; about ' || pg_temp.w('pnr5'),
         'Q-1;Uppsägning;2026-03-01;19600704-****;***;***;1 200'),
        ('qjson', 3, 1, '{"case": {"id": "K-1"}}', NULL,
         jsonb_build_object('case', jsonb_build_object('id', 'K-1'), 'type', 'eviction_application',
                            'debtor', jsonb_build_object('pnr', pg_temp.w('pnr5'), 'name', 'Erik Epsilon',
                                                         'street', 'Epsilongatan 5')),
         'occurred_at is empty',
         '{"case": {"id": "K-1"}, "type": "eviction_application", "debtor": {"pnr": "19600704-****", "name": "***", "street": "***"}}'),
        ('qjson', 3, 2, '{"debtor": "Erik Epsilon ' || pg_temp.w('pnr5') || '", ', NULL, NULL,
         'JSON syntax error at column 40', NULL);

-- Everything login p_name can select from the relations p_group's role
-- may select, as one text.
CREATE FUNCTION pg_temp.readable(p_name text, p_group text) RETURNS text
LANGUAGE sql AS $$
        SELECT string_agg(t, E'\n')
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
             LATERAL pg_temp.act_rows(p_name, format('SELECT * FROM bokvar.%I', c.relname)) t
        WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
          AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = p_group), c.oid, 'SELECT')
$$;

-- Which of the words p_keys (identity numbers with and without their
-- hyphen, names, streets) appear in p_text.
CREATE FUNCTION pg_temp.found(p_text text, p_keys text[]) RETURNS text[]
LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(w.k ORDER BY w.k), '{}')
        FROM pg_temp.who w
        WHERE w.k = ANY (p_keys) AND (strpos(p_text, w.v) > 0 OR strpos(p_text, translate(w.v, '-', '')) > 0)
$$;

-- The access log's rows since id p_after, in order.
CREATE FUNCTION pg_temp.logged(p_after bigint) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
        SELECT row(actor, function, via, household_id, task_id, path, reason)::text FROM bokvar.access_log
        WHERE id > p_after ORDER BY id
$$;
CREATE FUNCTION pg_temp.last_log() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT coalesce(max(id), 0) FROM bokvar.access_log $$;

-- =====================================================================
-- 1. What each function's role may select, change and execute.

SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                  AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = 'caseworker'), c.oid, 'SELECT')$$,
              ARRAY['schema_migrations', 'team', 'worklist', 'household_list'],
              'caseworkers select the worklist and the household list (no identity, name or address), nothing else');
SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                  AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = 'coordinator'), c.oid, 'SELECT')$$,
              ARRAY['schema_migrations', 'team', 'worklist', 'household_list'],
              'coordinators select the same lists (row-level security shows them every team)');
SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                  AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = 'case_system'), c.oid, 'SELECT')$$,
              ARRAY['schema_migrations', 'team', 'worklist'], 'case systems select the worklist');
SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                  AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = 'operator'), c.oid, 'SELECT')$$,
              ARRAY['schema_migrations', 'team', 'feed', 'fetch', 'quarantine_masked', 'outbox', 'channel', 'ruleset',
                    'rule', 'task_settings', 'retention', 'feed_file'],
              'operators select feeds, fetches, the masked quarantine, the outbox, rules and settings, (009) the '
              'files drop folders ingested');
SELECT set_eq($$SELECT c.relname::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                  AND has_table_privilege((SELECT role FROM bokvar.access_role WHERE function = 'auditor'), c.oid, 'SELECT')$$,
              ARRAY['schema_migrations', 'team', 'access_log', 'audit_log'], 'auditors select the logs, no case data');
SELECT is_empty($$SELECT a.function, c.relname FROM bokvar.access_role a, pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                  WHERE n.nspname = 'bokvar' AND c.relkind IN ('r', 'v', 'p')
                    AND (has_table_privilege(a.role, c.oid, 'INSERT') OR has_table_privilege(a.role, c.oid, 'UPDATE')
                         OR has_table_privilege(a.role, c.oid, 'DELETE') OR has_table_privilege(a.role, c.oid, 'TRUNCATE'))$$,
                'no group role may insert, update, delete or truncate anything: changes go through functions');

-- Functions beyond those everyone may execute (the helpers policies and
-- views call, which reveal nothing).
CREATE FUNCTION pg_temp.executes(p_function text) RETURNS SETOF text
LANGUAGE sql STABLE AS $$
        SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = 'bokvar'
          AND has_function_privilege((SELECT role FROM bokvar.access_role WHERE function = p_function), p.oid, 'EXECUTE')
          AND NOT has_function_privilege('acc_none', p.oid, 'EXECUTE')
$$;
SELECT set_eq($$SELECT pg_temp.executes('caseworker')$$,
              ARRAY['bokvar.household_show(bigint,timestamp with time zone,text)', 'bokvar.task_show(bigint,text)',
                    'bokvar.subject_export(text,text)', 'bokvar.task_ack(bigint)',
                    'bokvar.task_contact(bigint,bokvar.contact_channel,boolean,text)',
                    'bokvar.task_close(bigint,bokvar.task_outcome,text)', 'bokvar.task_follow_up(bigint,date,text)',
                    'bokvar.task_reassign(bigint,text,text)', 'bokvar.task_hand_over(bigint,text,text)',
                    'bokvar.household_children_correct(bigint,integer,text)',
                    'bokvar.household_merge(bigint,bigint)', 'bokvar.household_split(bigint,text)',
                    'bokvar.my_language_set(text)', 'bokvar.signal_register(jsonb)'],
              'caseworkers execute: show a household or task, the subject copy, the actions on tasks (007: and the '
              'web''s), correct the number of children, (008) choose their language, (009) merge and split '
              'households, (011) register a notice read by bokvarctl');
SELECT set_eq($$SELECT pg_temp.executes('coordinator')$$,
              ARRAY['bokvar.household_show(bigint,timestamp with time zone,text)', 'bokvar.task_show(bigint,text)',
                    'bokvar.subject_export(text,text)', 'bokvar.task_ack(bigint)',
                    'bokvar.task_contact(bigint,bokvar.contact_channel,boolean,text)',
                    'bokvar.task_close(bigint,bokvar.task_outcome,text)', 'bokvar.task_follow_up(bigint,date,text)',
                    'bokvar.task_reassign(bigint,text,text)', 'bokvar.task_hand_over(bigint,text,text)',
                    'bokvar.household_children_correct(bigint,integer,text)',
                    'bokvar.report(integer)', 'bokvar.household_merge(bigint,bigint)', 'bokvar.household_split(bigint,text)',
                    'bokvar.my_language_set(text)', 'bokvar.signal_register(jsonb)'],
              'coordinators execute what caseworkers do, and the report');
SELECT set_eq($$SELECT pg_temp.executes('case_system')$$,
              ARRAY['bokvar.task_ack(bigint)', 'bokvar.task_contact(bigint,bokvar.contact_channel,boolean,text)',
                    'bokvar.task_close(bigint,bokvar.task_outcome,text)', 'bokvar.case_system_read(bigint)'],
              'case systems execute the three actions and their read of a task''s household');
SELECT set_eq($$SELECT pg_temp.executes('operator')$$,
              ARRAY['bokvar.quarantine_raw(text,integer)', 'bokvar.quarantine_retry_rows(text)', 'bokvar.stage_create()',
                    'bokvar.quarantine_retry_fetch(text,bokvar.feed_source,bigint,bigint[])',
                    'bokvar.quarantine_retried(text,jsonb)', 'bokvar.quarantine_outside(text,bigint,bigint[])',
                    'bokvar.outbox_retry(bigint)', 'bokvar.rules_preview(jsonb,text,text)', 'bokvar.purge(boolean,date)',
                    'bokvar.my_language_set(text)'],
              'operators execute: the raw quarantine, its retry (rows, stage, ingest, record; 011: rows now outside '
              'a regional feed''s area), outbox retry, rules preview, the purge, (008) choose their language');
SELECT set_eq($$SELECT pg_temp.executes('auditor')$$,
              ARRAY['bokvar.access_log_read(bigint,text,timestamp with time zone,boolean,integer)', 'bokvar.report(integer)',
                    'bokvar.my_language_set(text)'],
              'auditors execute: the access log, the report, (008) choose their language');
SELECT set_eq($$SELECT pg_temp.executes('web')$$,
              $$SELECT pg_temp.executes(f) FROM unnest(ARRAY['caseworker', 'coordinator', 'operator', 'auditor']) f
                UNION SELECT 'bokvar.act_for(text)'
                UNION SELECT unnest(ARRAY['bokvar.web_actor(text)', 'bokvar.web_teams()',
                                          'bokvar.web_worklist(text,text,bokvar.risk_class,integer,integer)',
                                          'bokvar.web_task_household(bigint)', 'bokvar.web_household_open(bigint)',
                                          'bokvar.web_household_persons(bigint)', 'bokvar.web_household_signals(bigint)',
                                          'bokvar.web_household_score(bigint)', 'bokvar.web_household_history(bigint)',
                                          'bokvar.web_household_tasks(bigint)', 'bokvar.web_household_events(bigint)',
                                          'bokvar.web_household_corrections(bigint)',
                                          'bokvar.web_person(text)', 'bokvar.web_team_overview()',
                                          'bokvar.web_task_brief(bigint)', 'bokvar.web_feeds()',
                                          'bokvar.web_dead_letters(integer)', 'bokvar.web_outbox_retry(bigint)',
                                          'bokvar.web_access_log(bigint,text,timestamp with time zone,'
                                          'timestamp with time zone,boolean,integer,integer)',
                                          'bokvar.web_purges(integer)', 'bokvar.signal_register(jsonb)'])$$,
              'the web service executes what any person may, act_for, (007, 008) its pages'' reads and (010) the '
              'registering of a notice it read by the ingest''s rules');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'bokvar' AND has_function_privilege('acc_none', p.oid, 'EXECUTE')$$,
              ARRAY['bokvar.session_is_system()', 'bokvar.elevated()', 'bokvar.current_actor()', 'bokvar.actor_function()',
                    'bokvar.actor_teams()', 'bokvar.visible_tasks()', 'bokvar.whoami()', 'bokvar.mask_identity(text)',
                    'bokvar.mask_numbers(text)',
                    'bokvar.priority_key(bokvar.risk_class,integer,date,date,integer,date)'],
              'everyone executes only the helpers policies and views call (a new function is nobody''s until granted)');
SELECT ok(NOT has_database_privilege('acc_none', current_database(), 'CONNECT')
          AND (SELECT bool_and(has_database_privilege(role, current_database(), 'CONNECT')) FROM bokvar.access_role),
          'only this database''s group roles connect (and the owner): CONNECT is not PUBLIC''s');
SELECT matches(pg_temp.act('acc_none', 'SELECT 1'), '^08001: ',
               'a login in none of the roles cannot connect');

-- =====================================================================
-- 2. Who acts: the session's login, whatever the session says.

SELECT is(pg_temp.act('acc_a1', 'SELECT row(w.*)::text FROM bokvar.whoami() w'), '(acc_a1,caseworker,{a},acc_a1,f)',
          'whoami: the login, its function and teams');
SELECT is(pg_temp.act('acc_nobody', 'SELECT row(w.*)::text FROM bokvar.whoami() w'), '(,,,acc_nobody,f)',
          'a login bokvar.yaml does not declare is no actor');
SELECT is(pg_temp.act('acc_nobody', 'SELECT count(*)::text FROM bokvar.worklist'), '0', '... and sees nothing');
SELECT is(pg_temp.act('acc_nobody', 'SELECT bokvar.task_show(11)'),
          '42501: login acc_nobody is not an actor of this bokvar database (bokvar.yaml declares them): it may not see a task',
          '... and may do nothing, being told why');
SELECT is(pg_temp.act_exec('acc_a1', format('SET ROLE %I', (SELECT role FROM bokvar.access_role WHERE function = 'caseworker'))),
          'SET', 'SET ROLE to the caseworkers'' group role');
SELECT is(pg_temp.act('acc_a1', 'SELECT current_user::text <> session_user::text AND (bokvar.whoami()).login = ''acc_a1'''),
          't', '... changes who the session is for privileges, not who acts');
SELECT is(pg_temp.act('acc_a1', format('SELECT (bokvar.task_ack(%s)).acknowledged_by', 11)), 'acc_a1',
          '... and an action under it is still the login''s');
SELECT FROM pg_temp.act_exec('acc_a1', 'RESET ROLE');
SELECT matches(pg_temp.act_exec('acc_a1', format('SET ROLE %I', (SELECT role FROM bokvar.access_role WHERE function = 'web'))),
               '^42501: ', 'SET ROLE to a role the login is not a member of: refused');
SELECT matches(pg_temp.act_exec('acc_a1', 'SET SESSION AUTHORIZATION acc_coord'), '^42501: ',
               'SET SESSION AUTHORIZATION: refused');
SELECT is(pg_temp.act('acc_b1', $$SELECT set_config('bokvar.act_for', txid_current() || ':acc_coord', false) IS NOT NULL
                                  AND (bokvar.whoami()).login = 'acc_b1'$$),
          't', 'the setting act_for uses, set by anyone but the web service: ignored');
SELECT is(pg_temp.act('acc_b1', $$SELECT bokvar.act_for('acc_coord')$$), '42501: permission denied for function act_for',
          'act_for by a caseworker: refused');
SELECT is(pg_temp.act('acc_web', 'SELECT coalesce((bokvar.whoami()).login, ''nobody'')'), 'nobody',
          'the web service acts for nobody until it says whom');
SELECT is(pg_temp.act('acc_web', 'SELECT count(*)::text FROM bokvar.worklist'), '0', '... and then sees nothing');
SELECT is(pg_temp.act('acc_web', $$SELECT bokvar.act_for('acc_a1'); SELECT string_agg(task_id::text, ',') FROM bokvar.worklist$$),
          '11', 'the web service acting for acc_a1 sees what acc_a1 sees, in that transaction');
SELECT is(pg_temp.act('acc_web', 'SELECT coalesce((bokvar.whoami()).login, ''nobody'')'), 'nobody',
          '... and in the next transaction for nobody again');
SELECT is(pg_temp.act('acc_web', $$SELECT set_config('bokvar.act_for', '1:acc_coord', false); SELECT count(*)::text FROM bokvar.worklist$$),
          '0', 'the web service setting the value by hand, for another transaction: nobody');
SELECT is(pg_temp.act('acc_web', $$SELECT bokvar.act_for('acc_cs')$$),
          '42501: no person with that login is declared in bokvar.yaml', 'the web service cannot act for a case system');
SELECT is(pg_temp.act('acc_web', $$SELECT bokvar.act_for('acc_aud'); SELECT bokvar.task_ack(12)$$),
          '42501: acc_aud is an auditor: only a caseworker, coordinator or case system may acknowledge a task',
          'the web service acting for an auditor may not act on a task, and is told why');
SELECT results_eq($$SELECT actor, action, detail ->> 'session_user' FROM bokvar.audit_log WHERE action = 'task.ack'$$,
                  $$VALUES ('acc_a1', 'task.ack', 'acc_a1')$$, 'the audit log: the actor and the login that called');

-- =====================================================================
-- 3. What each sees: row-level security by team, by function.

SELECT set_eq($$SELECT pg_temp.act_rows('acc_a1', 'SELECT task_id FROM bokvar.worklist')$$, ARRAY['(11)'],
              'worklist: a caseworker of team a sees team a''s task');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_b1', 'SELECT task_id FROM bokvar.worklist')$$, ARRAY['(12)'],
              'worklist: a caseworker of team b, team b''s');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_coord', 'SELECT task_id FROM bokvar.worklist')$$, ARRAY['(11)', '(12)'],
              'worklist: a coordinator, every team''s');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_cs', 'SELECT task_id FROM bokvar.worklist')$$, ARRAY['(12)'],
              'worklist: the case system, its team''s');
SELECT matches(pg_temp.act('acc_op', 'SELECT count(*) FROM bokvar.worklist'), '^42501: ', 'worklist: no operator''s');
SELECT matches(pg_temp.act('acc_aud', 'SELECT count(*) FROM bokvar.worklist'), '^42501: ', 'worklist: no auditor''s');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_a1', 'SELECT household_id FROM bokvar.household_list')$$, ARRAY['(1)'],
              'household list: team a''s caseworker, the household with a task of team a');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_coord', 'SELECT household_id FROM bokvar.household_list')$$,
              ARRAY['(1)', '(2)', '(3)'], 'household list: a coordinator, every household (with a task or not)');
SELECT is(pg_temp.act('acc_a1', 'SELECT bokvar.task_show(12)'), 'P0002: no task 12',
          'team b''s task is no task to team a''s caseworker');
SELECT is(pg_temp.act('acc_a1', 'SELECT bokvar.household_show(2)'), 'P0002: no household 2', '... nor its household');
SELECT is(pg_temp.act('acc_a1', 'SELECT bokvar.household_show(3)'), 'P0002: no household 3',
          '... nor a household without a task');
SELECT is(pg_temp.act('acc_a1', $$SELECT bokvar.task_close(12, 'other')$$), 'P0002: no task 12',
          'team a''s caseworker cannot close team b''s task');
SELECT is(pg_temp.act('acc_a1', $$SELECT bokvar.task_contact(12, 'phone', true, 'x')$$), 'P0002: no task 12',
          '... nor record a contact on it');
SELECT is(pg_temp.act('acc_a1', format('SELECT bokvar.subject_export(%L)', translate(pg_temp.w('pnr2'), '-', ''))),
          'P0002: bokvar holds nothing you may see about anyone with that identity number',
          '... nor export team b''s person');
SELECT results_eq($$SELECT status, acknowledged_at, (SELECT count(*) FROM bokvar.contact WHERE task_id = 12)::integer
                    FROM bokvar.task WHERE id = 12$$,
                  $$VALUES ('open', NULL::timestamptz, 0)$$, '... and team b''s task is as it was');
SELECT is(pg_temp.act('acc_cs', 'SELECT bokvar.case_system_read(11)'), 'P0002: no task 11',
          'the case system reads no household of a team it does not serve');
SELECT matches(pg_temp.act('acc_a1', 'SELECT count(*) FROM bokvar.signal'), '^42501: permission denied for table signal',
               'no person selects a table of personal data');
-- Row-level security holds even where privileges would not: with SELECT
-- granted on the tables, a caseworker still sees only their team's rows.
GRANT SELECT ON bokvar.task, bokvar.household, bokvar.signal TO acc_a1;
SELECT set_eq($$SELECT pg_temp.act_rows('acc_a1', 'SELECT id FROM bokvar.task')$$, ARRAY['(11)'],
              'with SELECT granted: task, team a''s only');
SELECT bag_eq($$SELECT pg_temp.act_rows('acc_a1', 'SELECT household_id FROM bokvar.signal')$$, ARRAY['(1)', '(1)'],
              'with SELECT granted: signals, of team a''s household only');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_a1', 'SELECT id FROM bokvar.household')$$, ARRAY['(1)'],
              'with SELECT granted: households, team a''s only');
REVOKE SELECT ON bokvar.task, bokvar.household, bokvar.signal FROM acc_a1;

-- Nothing any of them may select holds what their function may not see.
CREATE TEMP TABLE seen AS
SELECT f, pg_temp.readable(l, f) AS t
FROM (VALUES ('acc_a1', 'caseworker'), ('acc_b1', 'caseworker'), ('acc_op', 'operator'), ('acc_aud', 'auditor'),
             ('acc_cs', 'case_system')) v(l, f);
SELECT is((SELECT pg_temp.found(t, ARRAY['pnr1', 'pnr2', 'pnr3', 'pnr4', 'pnr5', 'name1', 'name2', 'name3', 'name4',
                                        'name5', 'street1', 'street2', 'street3', 'street5'])
           FROM seen WHERE f = 'operator'), '{}'::text[],
          'an operator can select no identity number, name or address anywhere');
SELECT ok((SELECT strpos(t, '19600704-****') > 0 AND strpos(t, 'Q-1;Uppsägning;2026-03-01') > 0
           FROM seen WHERE f = 'operator'), '... while it does see the quarantine, masked');
SELECT is((SELECT array_agg(DISTINCT x) FROM seen, unnest(pg_temp.found(t, ARRAY['pnr1', 'pnr2', 'pnr3', 'pnr4', 'pnr5',
                                                                            'name1', 'name2', 'name3', 'name4', 'name5',
                                                                            'street1', 'street2', 'street3', 'street5'])) x
           WHERE f <> 'operator'), NULL, 'nor can caseworkers, auditors or case systems select one: they read through logged functions');

-- =====================================================================
-- 4. The quarantine as operators see it: never-personal fields as they
-- are, identity numbers as their date of birth, the rest starred.

SELECT results_eq($$SELECT raw, reason FROM bokvar.quarantine_masked WHERE feed = 'qcsv'$$,
                  $$VALUES ('Q-1;Uppsägning;2026-03-01;19600704-****;***;***;1 200',
                            'kind ''Uppsägning'' is not a signal kind; about ***')$$,
                  'a CSV row: masked by the feed''s mapping and the fetch''s header; numbers in the reason starred');
SELECT is((SELECT raw::jsonb FROM bokvar.quarantine_masked WHERE feed = 'qjson' AND line = 1),
          '{"case": {"id": "K-1"}, "type": "eviction_application", "debtor": {"pnr": "19600704-****", "name": "***", "street": "***"}}'::jsonb,
          'a JSON row: masked path by path');
SELECT is((SELECT raw FROM bokvar.quarantine_masked WHERE feed = 'qjson' AND line = 2),
          format('(%s characters that could not be read; bokvarctl quarantine --raw shows them)',
                 length('{"debtor": "Erik Epsilon ' || pg_temp.w('pnr5') || '", ')),
          'a row that could not be read: its length only');
SELECT is((SELECT count(*)::integer FROM bokvar.quarantine_masked WHERE raw ~ '\d{6}-?\d{4}'), 0,
          'no masked row shows an identity number');
SELECT ok(strpos(pg_temp.act('acc_op', $$SELECT string_agg(raw, ' ') FROM bokvar.quarantine_raw(NULL, 10)$$),
                 pg_temp.w('pnr5')) > 0, 'quarantine_raw: the operator sees the rows as delivered');
SELECT results_eq($$SELECT actor, function::text, household_id, path, detail FROM bokvar.access_log ORDER BY id DESC LIMIT 1$$,
                  $$VALUES ('acc_op', 'operator', NULL::bigint, 'quarantine.raw', '{"feed": null, "rows": 3}'::jsonb)$$,
                  '... which the access log records, once');
SELECT matches(pg_temp.act('acc_a1', $$SELECT count(*) FROM bokvar.quarantine_raw(NULL, 10)$$), '^42501: ',
               'quarantine_raw: no caseworker''s');

-- =====================================================================
-- 5. The access log: one row per read of a household's personal data,
-- through every path; none for a read refused.

CREATE TEMP TABLE mark (n bigint);
INSERT INTO mark SELECT pg_temp.last_log();
SELECT is(pg_temp.act('acc_a1', $$SELECT (bokvar.task_show(11)) #>> '{task,team}'$$), 'a', 'task_show: the task');
SELECT is(pg_temp.act('acc_a1', $$SELECT bokvar.household_show(1, NULL, 'a call from the landlord') #>> '{household,id}'$$),
          '1', 'household_show: the household');
SELECT is(pg_temp.act('acc_a2', $$SELECT jsonb_array_length(bokvar.household_show(1) -> 'signals')::text$$), '2',
          'household_show by a colleague of the same team: its two signals');
SELECT set_eq($$SELECT pg_temp.act_rows('acc_cs', 'SELECT person_id, name, address FROM bokvar.case_system_read(12)')$$,
              ARRAY[format('(%s,"Bertil Beta","Betagatan 2")', translate(pg_temp.w('pnr2'), '-', ''))],
              'case_system_read: the identity number, name and address of the household of a task it holds');
SELECT is(pg_temp.act('acc_coord', format($$SELECT (bokvar.subject_export(%L)) ->> 'identity_number'$$,
                                          translate(pg_temp.w('pnr1'), '-', ''))),
          translate(pg_temp.w('pnr1'), '-', ''), 'subject_export: the person''s copy');
SELECT is(pg_temp.act('acc_a1', 'SELECT bokvar.task_show(12)'), 'P0002: no task 12', 'a refused read ...');
SELECT results_eq($$SELECT * FROM pg_temp.logged((SELECT n FROM mark))$$,
                  $$VALUES ('(acc_a1,caseworker,acc_a1,1,11,task.show,)'),
                           ('(acc_a1,caseworker,acc_a1,1,,household.show,"a call from the landlord")'),
                           ('(acc_a2,caseworker,acc_a2,1,,household.show,)'),
                           ('(acc_cs,case_system,acc_cs,2,12,case_system.read,)'),
                           ('(acc_coord,coordinator,acc_coord,1,,subject.export,)')$$,
                  'each read wrote one row (who, function, login, household, task, path, reason); the refused one none');
DELETE FROM mark;
INSERT INTO mark SELECT pg_temp.last_log();
SELECT is(pg_temp.act('acc_web', $$SELECT bokvar.act_for('acc_a1'); SELECT (bokvar.task_show(11)) #>> '{task,id}'$$), '11',
          'the web service acting for acc_a1 reads the task ...');
SELECT results_eq($$SELECT * FROM pg_temp.logged((SELECT n FROM mark))$$,
                  $$VALUES ('(acc_a1,caseworker,acc_web,1,11,task.show,)')$$,
                  '... logged as acc_a1''s read, through the web service''s login');

-- The subject copy: the person's own signals (not a co-tenant's), their
-- earlier versions, the household's tasks and who read it; logged after.
CREATE TEMP TABLE copy AS
SELECT pg_temp.act('acc_coord', format('SELECT bokvar.subject_export(%L)', translate(pg_temp.w('pnr1'), '-', '')))::jsonb AS j;
SELECT is((SELECT jsonb_agg(s ->> 'name') FROM copy, jsonb_array_elements(j -> 'signals') s), '["Anna Alfa-Svensson"]'::jsonb,
          'subject_export: the person''s signals, not the co-tenant''s');
SELECT is((SELECT jsonb_agg(s ->> 'name') FROM copy, jsonb_array_elements(j -> 'earlier_versions') s), '["Anna Alfa"]'::jsonb,
          '... and their earlier versions');
SELECT is((SELECT jsonb_agg(t #>> '{task,id}') FROM copy, jsonb_array_elements(j #> '{household,tasks}') t), '["11"]'::jsonb,
          '... the household''s tasks');
SELECT ok((SELECT jsonb_array_length(j #> '{household,read_by}') >= 4 FROM copy), '... and who read the household, when');
SELECT ok((SELECT strpos(j::text, pg_temp.w('name4')) = 0 AND strpos(j::text, translate(pg_temp.w('pnr4'), '-', '')) = 0
           FROM copy), '... nothing of the co-tenant');
SELECT is(pg_temp.act('acc_coord', $$SELECT bokvar.subject_export('19600207-1015')$$),
          'P0002: that is not a valid identity number as bokvar keeps them (12, 11 or 9 digits)',
          'subject_export of a number not read and normalised (bokvarctl reads it in C): P0002, without the number');
SELECT is(pg_temp.act('acc_coord', $$SELECT bokvar.subject_export('196008101062')$$),
          'P0002: bokvar holds nothing you may see about anyone with that identity number',
          'subject_export of a number nobody has: P0002, the same as for one the actor may not see');

-- Append-only, for everyone, the owner included; only the purge removes.
SELECT throws_ok('UPDATE bokvar.access_log SET actor = ''someone else''', 'P0001', 'bokvar.access_log is append-only',
                 'the access log cannot be changed (even by a superuser)');
SELECT throws_ok('DELETE FROM bokvar.access_log', 'P0001', 'bokvar.access_log is append-only',
                 '... nor emptied');
SELECT FROM pg_temp.conn_of(current_setting('tap.owner'), current_setting('tap.owner_password'));
SELECT is(pg_temp.act_exec(current_setting('tap.owner'), 'DELETE FROM bokvar.access_log'),
          'P0001: bokvar.access_log is append-only', '... nor by bokvard''s own role, which owns it');
SELECT matches(pg_temp.act_exec('acc_aud', 'DELETE FROM bokvar.access_log'), '^42501: ', 'an auditor reads it, no more');
SELECT matches(pg_temp.act_exec('acc_a1', $$INSERT INTO bokvar.access_log (actor, path) VALUES ('acc_b1', 'x')$$), '^42501: ',
               'nobody writes it but through the functions that read');
SELECT is(pg_temp.act('acc_a1', $$SET search_path = pg_catalog, pg_temp, "bokvar: elevated";
                                  SELECT count(*)::text FROM bokvar.worklist$$),
          '1', 'the elevation mark in a person''s own search_path elevates nothing');
INSERT INTO bokvar.access_log (at, actor, household_id, path) VALUES (now() - interval '3 years', 'acc_a1', 1, 'task.show');
SELECT is(pg_temp.act('acc_op', $$SELECT (bokvar.purge(false)) ->> 'access_log'$$), '1',
          'the purge deletes the access log''s rows past their retention (an operator runs it)');
SELECT is((SELECT count(*)::integer FROM bokvar.access_log WHERE at < now() - interval '2 years'), 0, '... they are gone');
SELECT results_eq($$SELECT actor, action FROM bokvar.audit_log WHERE action = 'purge'$$, $$VALUES ('acc_op', 'purge')$$,
                  '... and the purge is in the audit log');

-- The auditor's view: reads of a household the reader had no task for.
SELECT set_eq($$SELECT pg_temp.act_rows('acc_aud', 'SELECT actor, path FROM bokvar.access_log_read(NULL, NULL, NULL, true, NULL)')$$,
              ARRAY['(acc_a2,household.show)', '(acc_coord,subject.export)', '(acc_coord,subject.export)'],
              'unusual reads: a colleague of the assignee who had done nothing on the task, a coordinator with no task');
SELECT is(pg_temp.act('acc_aud', 'SELECT count(*)::text FROM bokvar.access_log_read(1, ''acc_a1'', now() - interval ''1 day'', false, NULL)'),
          '3', 'the access log by household, actor and time');
SELECT matches(pg_temp.act('acc_a1', 'SELECT count(*) FROM bokvar.access_log_read(NULL, NULL, NULL, false, NULL)'),
               '^42501: ', 'the access log is the auditors''');

-- =====================================================================
-- 6. The SECURITY DEFINER functions: a pinned search_path each, elevated
-- only where the function must see every row, and no trick of a caller's
-- session reaches into them.

SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'bokvar' AND p.prosecdef
                    AND NOT coalesce(p.proconfig, '{}') && ARRAY['search_path=pg_catalog, pg_temp',
                                                                  'search_path=pg_catalog, pg_temp, "bokvar: elevated"']$$,
                'every SECURITY DEFINER function pins its search_path to pg_catalog, pg_temp');
SELECT set_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                WHERE n.nspname = 'bokvar' AND p.prosecdef
                  AND 'search_path=pg_catalog, pg_temp, "bokvar: elevated"' = ANY (p.proconfig)$$,
              ARRAY['bokvar.report(integer)', 'bokvar.rules_preview(jsonb,text,text)', 'bokvar.purge(boolean,date)',
                    'bokvar.access_log_read(bigint,text,timestamp with time zone,boolean,integer)',
                    'bokvar.quarantine_retry_rows(text)',
                    'bokvar.quarantine_retry_fetch(text,bokvar.feed_source,bigint,bigint[])',
                    'bokvar.quarantine_outside(text,bigint,bigint[])',
                    'bokvar.subject_doc(text,bigint[])',
                    'bokvar.signal_register(jsonb)', 'bokvar.task_move_team(bigint,text,text,text)',
                    'bokvar.household_children_set(bigint,integer,text,text)', 'bokvar.web_feeds()',
                    'bokvar.web_dead_letters(integer)', 'bokvar.web_outbox_retry(bigint)',
                    'bokvar.household_merge_as(bigint,bigint,text)', 'bokvar.household_split_as(bigint,text,text)',
                    'bokvar.task_household_exists()', 'bokvar.event_task_exists()', 'bokvar.household_without_tasks()',
                    'bokvar.task_without_events()', 'bokvar.task_household_moved()', 'bokvar.event_task_moved()',
                    'bokvar.id_renumbered()'],
              'elevated: the report, the rules preview, the purge, the access log, the retry and the subject copy, '
              '(007) a notice''s ingest, a task''s move to another team, a household''s children, (008) the '
              'quarantine''s count by feed, the dead letters and their retry by a coordinator, and (009) the '
              'writes of a merge and a split, after their checks as the person, and (013) the checks of a task''s '
              'household and an event''s task, which see every row');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                  WHERE n.nspname = 'bokvar' AND p.prosecdef AND p.proowner <> n.nspowner$$,
                'every one of them belongs to the schema''s owner');
-- A caseworker's session with temporary look-alikes first in its path.
SELECT is(pg_temp.act_exec('acc_a1', $$CREATE TEMP TABLE task (id bigint, team text, household_id bigint);
                                       INSERT INTO pg_temp.task VALUES (12, 'a', 2);
                                       CREATE TEMP TABLE actor (login text, function text, teams text[]);
                                       INSERT INTO pg_temp.actor VALUES ('acc_a1', 'coordinator', '{a,b}');
                                       CREATE TEMP VIEW worklist AS SELECT 12::bigint AS task_id;
                                       SET search_path = pg_temp, bokvar, public$$),
          'SET', 'a caseworker''s session with temporary look-alikes of task, actor and worklist first in its path');
SELECT is(pg_temp.act('acc_a1', 'SELECT count(*)::text FROM worklist'), '1', '(its own look-alike, unqualified)');
SELECT is(pg_temp.act('acc_a1', 'SELECT bokvar.task_show(12)'), 'P0002: no task 12',
          'through the look-alikes: team b''s task is still none');
SELECT is(pg_temp.act('acc_a1', $$SELECT (bokvar.task_show(11)) #>> '{task,team}'$$), 'a',
          '... and team a''s is the real one');
SELECT is(pg_temp.act('acc_a1', $$SELECT string_agg(task_id::text, ',') FROM bokvar.worklist$$), '11',
          '... and the real worklist is team a''s');
SELECT is(pg_temp.act('acc_a1', 'SELECT count(*)::text FROM bokvar.household_list'), '1',
          'the household list through a path of look-alikes: team a''s one household');
SELECT matches(pg_temp.act('acc_a1', 'SELECT bokvar.report(2026)'), '^42501: ', 'an elevated function not granted: refused');
-- (The year the two tasks were opened in: an hour ago.)
SELECT is(pg_temp.act('acc_aud', $$SELECT (bokvar.report(extract(year FROM now() - interval '1 hour')::integer)) ->> 'tasks_opened'$$), '2',
          'the report for an auditor: figures of every team, no rows');
SELECT is((SELECT jsonb_object_agg(r.key, r.value) FROM jsonb_each(bokvar.report(extract(year FROM current_date)::integer)) r
           WHERE bokvar.report_live(extract(year FROM current_date)::integer) ? r.key),
          bokvar.report_live(extract(year FROM current_date)::integer) - 'families_with_children_reached_out_to'
          - 'children_in_them',
          'the report has report_live''s figures when nothing was purged (but the two casework replaced)');
SELECT is(array(SELECT k FROM jsonb_object_keys(bokvar.report(extract(year FROM current_date)::integer)) k
                WHERE k LIKE '%\_by\_month' ORDER BY k),
          ARRAY['signals_by_month', 'tasks_closed_by_month', 'tasks_opened_by_month'],
          'and (008) the months, for the report page''s charts');

-- =====================================================================
-- 7. Group role names: per database, at most 63 bytes.

SELECT is(bokvar.group_role_name('bokvar', 'case_system'), 'bokvar_bokvar_case_system', 'a short name: the database''s');
SELECT ok(octet_length(bokvar.group_role_name(repeat('x', 63), 'coordinator')) <= 63
          AND bokvar.group_role_name(repeat('x', 63), 'coordinator') LIKE '%\_bokvar\_coordinator',
          'a long name: cut to 63 bytes, the function kept');
SELECT isnt(bokvar.group_role_name(repeat('x', 62) || 'a', 'web'), bokvar.group_role_name(repeat('x', 62) || 'b', 'web'),
            'two long names that differ only at the end: different roles');
SELECT ok(octet_length(bokvar.group_role_name(repeat('å', 40), 'caseworker')) <= 63, 'multi-byte names: bytes counted');

SELECT * FROM finish();
