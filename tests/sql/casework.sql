-- SPDX-License-Identifier: GPL-3.0-or-later
-- Casework (sql/007_casework.sql): the order of every list, unknown
-- children kept unknown in every output, a caseworker's count of the
-- children, people who move, merging and splitting households, and the
-- yearly report's new figures (before and after a purge).
--
-- People act as themselves (tests/sql/logins.psql): cw_n is a caseworker
-- of team north (postal codes 111..), cw_s of south (222..), cw_o of order
-- (99..); cw_coord coordinates, cw_op operates, cw_web is the web service.
-- There is no outer transaction: their connections only see what is
-- committed. The database is thrown away after the run.
--
--   1  the order: each rule of it decides one pair     households 101-118 (scores written as score_apply would)
--   2  unknown children in every output                households 106, 108
--   3  people who move, through the real ingest        homes of signals M*
--   4  a caseworker's count of the children            the new home of M3
--   5  merge and split, and the deliveries after them  homes of signals G*, K*
--   6  the report, 2024 beside 2023, and a purge       households 701-711
SET TimeZone = 'UTC';
SET client_min_messages = warning;
CREATE EXTENSION dblink;
SELECT plan(101);

\ir logins.psql

-- ---------------------------------------------------------------------
-- Configuration, people, rules (each team with the words routing compares,
-- as bokvard sends them).
SELECT bokvar.config_sync($j${
        "teams": [{"name": "north", "postal_codes": ["111"], "cities": [], "landlords": [],
                   "postal_keys": ["111"], "city_keys": [], "landlord_keys": [], "default": false,
                   "caseworkers": ["cw_n"], "email": "north@kommun.example"},
                  {"name": "south", "postal_codes": ["222"], "cities": [], "landlords": [],
                   "postal_keys": ["222"], "city_keys": [], "landlord_keys": [], "default": false,
                   "caseworkers": ["cw_s"], "email": null},
                  {"name": "order", "postal_codes": ["99"], "cities": [], "landlords": [],
                   "postal_keys": ["99"], "city_keys": [], "landlord_keys": [], "default": false,
                   "caseworkers": ["cw_o"], "email": "order@kommun.example"},
                  {"name": "rest", "postal_codes": [], "cities": [], "landlords": [],
                   "postal_keys": [], "city_keys": [], "landlord_keys": [], "default": true,
                   "caseworkers": [], "email": null}],
        "channels": [{"name": "hook", "type": "webhook"}, {"name": "mail", "type": "smtp"}],
        "tasks": {},
        "people": {"coordinators": ["cw_coord"], "operators": ["cw_op"]}}$j$::jsonb);
SELECT pg_temp.login('cw_n', 'caseworker');
SELECT pg_temp.login('cw_s', 'caseworker');
SELECT pg_temp.login('cw_o', 'caseworker');
SELECT pg_temp.login('cw_coord', 'coordinator');
SELECT pg_temp.login('cw_op', 'operator');
SELECT pg_temp.login('cw_web', 'web');
SELECT version FROM bokvar.ruleset_load($j${"window_days": 365, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90},
        "rules": [{"name": "notice", "when": {"kind": ["termination_notice"]}, "points": 50},
                  {"name": "scheduled", "when": {"kind": ["eviction_scheduled"], "deadline_passed": false}, "points": 60},
                  {"name": "arrears", "when": {"kind": ["arrears"]}, "points": 20},
                  {"name": "children", "when": {"children_at_least": 1}, "points": 20}]}$j$::jsonb,
        'rules', 'rules.yaml', 'tester');

-- Today + n.
CREATE FUNCTION pg_temp.d(n integer) RETURNS date LANGUAGE sql STABLE AS $$ SELECT current_date + n $$;

-- =====================================================================
-- 1. The order. Households are written as an ingest and score_apply would
-- leave them (team "order" by postal code); eviction signals as the
-- enforcement agency's feed gives them.
CREATE FUNCTION pg_temp.hh(p_id bigint, p_children integer) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.household (id, postal_code, children, last_signal_at)
        VALUES (p_id, '99' || p_id, p_children, current_date)
$$;
CREATE FUNCTION pg_temp.rescore(p_hh bigint, p_class text, p_score integer, p_deadline date) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.score (household_id, score, class, ruleset_version, next_deadline, explanation, fingerprint, as_of)
        VALUES (p_hh, p_score, p_class::bokvar.risk_class, 1, p_deadline,
                '[{"rule": "r", "description": "A rule", "points": 1, "signals": []}]', 0, current_date);
        SELECT bokvar.tasks_sync(ARRAY[p_hh], current_date);
$$;
CREATE FUNCTION pg_temp.evsig(p_id bigint, p_hh bigint, p_kind text, p_occurred date, p_deadline date DEFAULT NULL)
RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, 'tap', p_id::text, 'enforcement', p_kind::bokvar.signal_kind, p_occurred, p_deadline, p_hh, 1)
$$;
-- Where a household stands in the household list, and in the worklist.
CREATE FUNCTION pg_temp.rank(p_hh bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT priority FROM bokvar.household_list WHERE household_id = p_hh $$;
CREATE FUNCTION pg_temp.wrank(p_hh bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT priority FROM bokvar.worklist WHERE household_id = p_hh $$;

--                  id  children
SELECT pg_temp.hh(101, 1);     -- outreach, an eviction in 10 days
SELECT pg_temp.hh(102, 2);     -- urgent, the nearest deadline, the highest score
SELECT pg_temp.hh(103, 0);     -- urgent, no children, a far deadline
SELECT pg_temp.hh(104, 2);     -- outreach with children, tomorrow, score 89
SELECT pg_temp.hh(105, 1);     -- outreach with children, a far deadline, score 50
SELECT pg_temp.hh(106, NULL);  -- outreach, children unknown, near, score 80
SELECT pg_temp.hh(107, NULL);  -- outreach, children unknown, far, score 50
SELECT pg_temp.hh(108, 0);     -- outreach, no children, near, score 80
SELECT pg_temp.hh(109, 1);     -- watch, one child, in 3 days, score 20
SELECT pg_temp.hh(110, 4);     -- watch, four children, in 5 days, score 40
SELECT pg_temp.hh(111, 0);     -- watch, no children, in 7 days, score 30
SELECT pg_temp.hh(112, 0);     -- watch, no children, in 7 days, score 35
SELECT pg_temp.hh(113, 1);     -- watch, one child, no deadline, score 25
SELECT pg_temp.hh(114, 3);     -- watch, three children, no deadline, score 25
SELECT pg_temp.evsig(1011, 101, 'eviction_scheduled', pg_temp.d(-20), pg_temp.d(10));
SELECT pg_temp.rescore(101, 'outreach', 60, pg_temp.d(10));
SELECT pg_temp.rescore(102, 'urgent', 200, pg_temp.d(1));
SELECT pg_temp.rescore(103, 'urgent', 90, pg_temp.d(30));
SELECT pg_temp.rescore(104, 'outreach', 89, pg_temp.d(1));
SELECT pg_temp.rescore(105, 'outreach', 50, pg_temp.d(20));
SELECT pg_temp.rescore(106, 'outreach', 80, pg_temp.d(2));
SELECT pg_temp.rescore(107, 'outreach', 50, pg_temp.d(20));
SELECT pg_temp.rescore(108, 'outreach', 80, pg_temp.d(2));
SELECT pg_temp.rescore(109, 'watch', 20, pg_temp.d(3));
SELECT pg_temp.rescore(110, 'watch', 40, pg_temp.d(5));
SELECT pg_temp.rescore(111, 'watch', 30, pg_temp.d(7));
SELECT pg_temp.rescore(112, 'watch', 35, pg_temp.d(7));
SELECT pg_temp.rescore(113, 'watch', 25, NULL);
SELECT pg_temp.rescore(114, 'watch', 25, NULL);

SELECT ok(pg_temp.rank(101) < pg_temp.rank(102) AND pg_temp.wrank(101) < pg_temp.wrank(102),
          'order 1: a scheduled eviction in a family with children first, before an urgent household with a nearer '
          'deadline and a higher score (household list and worklist)');
SELECT ok(pg_temp.rank(103) < pg_temp.rank(104) AND pg_temp.wrank(103) < pg_temp.wrank(104),
          'order 2: then the class: urgent without children and a far deadline before outreach with children tomorrow');
SELECT ok(pg_temp.rank(105) < pg_temp.rank(106) AND pg_temp.wrank(105) < pg_temp.wrank(106),
          'order 3: then children present before children unknown, whatever the deadline and score');
SELECT ok(pg_temp.rank(107) < pg_temp.rank(108) AND pg_temp.wrank(107) < pg_temp.wrank(108),
          'order 4: then children unknown before no children, whatever the deadline and score');
SELECT ok(pg_temp.rank(109) < pg_temp.rank(110),
          'order 5: then the nearest deadline: one child tomorrow-ish before four children later with a higher score');
SELECT ok(pg_temp.rank(112) < pg_temp.rank(111), 'order 6: then the higher score');
SELECT ok(pg_temp.rank(113) < pg_temp.rank(114),
          'order: the number of children does not count (one child before three, by id, all else equal)');
SELECT results_eq($$SELECT household_id FROM bokvar.household_list WHERE household_id BETWEEN 101 AND 114 ORDER BY priority$$,
                  $$VALUES (101::bigint), (102), (103), (104), (105), (106), (107), (108), (109), (110), (113), (114),
                           (112), (111)$$,
                  'the household list in that order');
SELECT results_eq($$SELECT household_id FROM bokvar.worklist WHERE team = 'order' ORDER BY priority$$,
                  $$VALUES (101::bigint), (102), (103), (104), (105), (106), (107), (108)$$,
                  'the worklist in the same order (watch gets no task)');
SELECT results_eq($$SELECT pg_temp.act_rows('cw_o', 'SELECT household_id FROM bokvar.worklist ORDER BY priority')$$,
                  $$VALUES ('(101)'), ('(102)'), ('(103)'), ('(104)'), ('(105)'), ('(106)'), ('(107)'), ('(108)')$$,
                  '... as the caseworker sees it through their own login');
SELECT is(pg_temp.act('cw_web', $$SELECT bokvar.web_actor('cw_o');
                                   SELECT string_agg(household_id::text, ',') FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50)$$),
          '101,102,103,104,105,106,107,108', '... and the web''s worklist, read from its indexes, the same');
SELECT is(pg_temp.act('cw_web', $$SELECT bokvar.web_actor('cw_o');
                                   SELECT string_agg(household_id::text, ',') FROM bokvar.web_worklist(NULL, NULL, NULL, 2, 3)$$),
          '103,104,105', '... a page of it too');
SELECT is((SELECT eviction_date FROM bokvar.worklist WHERE household_id = 101), pg_temp.d(10),
          'the worklist shows the eviction date');

-- What counts as a scheduled eviction.
SELECT pg_temp.hh(115, 1);
SELECT pg_temp.hh(116, 1);
SELECT pg_temp.hh(117, 1);
SELECT pg_temp.hh(118, 1);
SELECT pg_temp.evsig(1151, 115, 'eviction_scheduled', pg_temp.d(-30), pg_temp.d(-1));
SELECT pg_temp.evsig(1161, 116, 'eviction_scheduled', pg_temp.d(-30), pg_temp.d(10));
SELECT pg_temp.evsig(1162, 116, 'eviction_cancelled', pg_temp.d(-5));
SELECT pg_temp.evsig(1171, 117, 'eviction_scheduled', pg_temp.d(-30), pg_temp.d(10));
SELECT pg_temp.evsig(1172, 117, 'eviction_executed', pg_temp.d(-1));
SELECT pg_temp.evsig(1181, 118, 'eviction_scheduled', pg_temp.d(-30), pg_temp.d(5));
SELECT pg_temp.evsig(1182, 118, 'eviction_cancelled', pg_temp.d(-20));
SELECT pg_temp.evsig(1183, 118, 'eviction_scheduled', pg_temp.d(-10), pg_temp.d(15));
SELECT results_eq($$SELECT household_id, eviction_date FROM bokvar.household_order WHERE household_id BETWEEN 115 AND 118
                    ORDER BY 1$$,
                  $$VALUES (115::bigint, NULL::date), (116, NULL), (117, NULL), (118, pg_temp.d(15))$$,
                  'a scheduled eviction counts while ahead and not cancelled or carried out since; a new date after '
                  'a cancellation counts');
-- A cancellation the same day as the date was set ends it; one the day
-- before does not. Dates passed are pending too (the view keeps them; the
-- lists above look ahead).
SELECT pg_temp.hh(119, 1);
SELECT pg_temp.hh(120, 1);
SELECT pg_temp.evsig(1191, 119, 'eviction_scheduled', pg_temp.d(-10), pg_temp.d(20));
SELECT pg_temp.evsig(1192, 119, 'eviction_cancelled', pg_temp.d(-10));
SELECT pg_temp.evsig(1201, 120, 'eviction_cancelled', pg_temp.d(-11));
SELECT pg_temp.evsig(1202, 120, 'eviction_scheduled', pg_temp.d(-10), pg_temp.d(20));
SELECT results_eq($$SELECT household_id, eviction_date FROM bokvar.eviction_pending WHERE household_id BETWEEN 115 AND 120
                    ORDER BY 1, 2$$,
                  $$VALUES (115::bigint, pg_temp.d(-1)), (118, pg_temp.d(15)), (120, pg_temp.d(20))$$,
                  'eviction_pending: a cancellation on the day a date was set ends it, one the day before does not; '
                  'a date passed stays pending');
-- The view's rows are those of "no cancellation or eviction on or after
-- the day the date was set" (009's anti-join), over random households of
-- several schedulings, cancellations, evictions and other signals each.
INSERT INTO bokvar.household (id, postal_code, children, last_signal_at)
SELECT 90000 + g, '99', 0, current_date FROM generate_series(1, 300) g;
INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, household_id, fetch_id)
OVERRIDING SYSTEM VALUE
SELECT 900000 + i, 'tap', 'r' || i, 'enforcement',
       (ARRAY['eviction_scheduled', 'eviction_scheduled', 'eviction_cancelled', 'eviction_executed',
              'eviction_application', 'arrears'])[1 + (hashint4(i) & 65535) % 6]::bokvar.signal_kind,
       pg_temp.d(-((hashint4(i + 7) & 65535) % 60)),
       CASE WHEN (hashint4(i + 13) & 65535) % 5 > 0 THEN pg_temp.d((hashint4(i + 13) & 65535) % 40 - 10) END,
       90001 + (hashint4(i + 29) & 65535) % 300, 1
FROM generate_series(1, 2000) i;
SELECT results_eq($$SELECT household_id, eviction_date FROM bokvar.eviction_pending WHERE household_id > 90000
                    ORDER BY 1, 2$$,
                  $$SELECT x.household_id, x.deadline FROM bokvar.signal x
                    WHERE x.household_id > 90000 AND x.kind = 'eviction_scheduled' AND x.deadline IS NOT NULL
                      AND NOT EXISTS (SELECT 1 FROM bokvar.signal c
                                      WHERE c.household_id = x.household_id
                                        AND c.kind IN ('eviction_cancelled', 'eviction_executed')
                                        AND c.occurred_at >= x.occurred_at)
                    ORDER BY 1, 2$$,
                  'eviction_pending: the same rows as "nothing cancelled or carried out on or after the day it was set", '
                  'over 2 000 random signals of 300 households');
SELECT cmp_ok((SELECT count(*) FROM bokvar.eviction_pending WHERE household_id > 90000), '>', 50::bigint,
              '... of which some are pending');
SELECT cmp_ok((SELECT count(*) FROM bokvar.signal x WHERE x.household_id > 90000 AND x.kind = 'eviction_scheduled'
               AND x.deadline IS NOT NULL)
              - (SELECT count(*) FROM bokvar.eviction_pending WHERE household_id > 90000), '>', 50::bigint,
              '... and some are not');
DELETE FROM bokvar.signal WHERE household_id > 90000;
DELETE FROM bokvar.household WHERE id > 90000;
SELECT ok(bokvar.priority_key('none', 1, current_date, NULL, -999999, current_date)
          < bokvar.priority_key('urgent', 9, NULL, DATE '1800-01-01', 999999, current_date),
          'priority_key: an eviction today still puts a family with children first, before the most urgent of the rest');
SELECT ok(bokvar.priority_key('urgent', NULL, pg_temp.d(3), NULL, 0, current_date)
          > bokvar.priority_key('urgent', 1, NULL, NULL, 0, current_date),
          'priority_key: not a household whose children are unknown (after one with children, as without the eviction)');
SELECT ok(bokvar.priority_key('watch', 0, NULL, DATE '2200-01-01', 524287, current_date)
          < bokvar.priority_key('watch', 0, NULL, NULL, 999999, current_date)
          AND bokvar.priority_key('watch', 0, NULL, NULL, 999999, current_date)
              < bokvar.priority_key('watch', 0, NULL, NULL, 524286, current_date)
          AND bokvar.priority_key('none', NULL, NULL, NULL, -999999, current_date)
              < bokvar.priority_key('none', 0, NULL, DATE '1800-01-01', 999999, current_date),
          'priority_key: each rule keeps to its own bits, the extremes too (a deadline before none, scores clamped)');
-- The web's worklist reads families whose eviction is ahead, those whose
-- eviction date passed, and the others from two indexes: in the worklist's
-- order all the same.
SELECT pg_temp.rescore(115, 'outreach', 60, pg_temp.d(2));
SELECT pg_temp.rescore(118, 'outreach', 55, pg_temp.d(15));
SELECT is((SELECT string_agg(household_id::text, ',' ORDER BY priority) FROM bokvar.worklist WHERE team = 'order'),
          '101,118,102,103,104,115,105,106,107,108',
          'the worklist: 118''s new date after a cancellation counts, 115''s passed one does not');
SELECT is(pg_temp.act('cw_web', $$SELECT bokvar.web_actor('cw_o');
                                   SELECT string_agg(household_id::text, ',') FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50)$$),
          '101,118,102,103,104,115,105,106,107,108', '... and the web''s worklist the same');
SELECT is(pg_temp.act('cw_web', $$SELECT bokvar.web_actor('cw_o');
                                   SELECT string_agg(household_id::text, ',') FROM bokvar.web_worklist('order', NULL, 'outreach', 1, 4)$$),
          '118,104,115,105', '... a page of its outreach class (101 and 118 are outreach too)');

-- =====================================================================
-- 2. Unknown children stay unknown, in every output (106: unknown; 108: none).
SELECT results_eq($$SELECT household_id, coalesce(children::text, 'unknown') FROM bokvar.worklist
                    WHERE household_id IN (106, 108) ORDER BY 1$$,
                  $$VALUES (106::bigint, 'unknown'), (108, '0')$$, 'worklist: unknown is NULL, none is 0');
SELECT results_eq($$SELECT household_id, coalesce(children::text, 'unknown') FROM bokvar.household_list
                    WHERE household_id IN (106, 108) ORDER BY 1$$,
                  $$VALUES (106::bigint, 'unknown'), (108, '0')$$, 'household list: unknown is NULL, none is 0');
SELECT is(pg_temp.act('cw_web', $$SELECT bokvar.web_actor('cw_o');
                                   SELECT string_agg(household_id || ':' || coalesce(children::text, 'unknown'), ',' ORDER BY household_id)
                                   FROM bokvar.web_worklist(NULL, NULL, NULL, 0, 50) WHERE household_id IN (106, 108)$$),
          '106:unknown,108:0', 'the web''s worklist: unknown is NULL, none is 0');
SELECT is(pg_temp.act('cw_coord', $$SELECT (bokvar.household_show(106)) #> '{household,children}'$$), 'null',
          'household show: children null');
SELECT is(pg_temp.act('cw_coord', $$SELECT (bokvar.household_show(108)) #> '{household,children}'$$), '0',
          '... and 0 for none');
SELECT results_eq($$SELECT t.household_id, o.payload #> '{data,children}' FROM bokvar.outbox o JOIN bokvar.task t ON t.id = o.task_id
                    WHERE t.household_id IN (106, 108) AND o.channel = 'hook' ORDER BY 1$$,
                  $$VALUES (106::bigint, 'null'::jsonb), (108, '0')$$, 'webhook payload: "children": null, or 0');
SELECT results_eq($$SELECT t.household_id, c.children
                    FROM bokvar.outbox_claim('casework-test', 100, 60, '[]', ARRAY['mail']) c
                    JOIN bokvar.task t ON t.id = c.task_id WHERE t.household_id IN (106, 108) ORDER BY 1$$,
                  $$VALUES (106::bigint, NULL::integer), (108, 0)$$,
                  'e-mail: the claim gives the dispatcher children NULL (outreach/mail.c writes "unknown"), or 0');

-- =====================================================================
-- 3. People who move, through the real ingest: feeds hv (landlord) and
-- kfm (enforcement), one CSV mapping.
-- One delivery of feed p_feed: rows pnr;id;kind;date;deadline;street;zip;apt;children;landlord, dates as
-- days from today, staged typed as bokvard stages them (src/ingest/stage.h): the deadline a kind implies
-- when none is given, and the keys and words C makes (the rules themselves are unit-canonical's).
CREATE FUNCTION pg_temp.word(p text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT nullif(translate(upper(replace(p, ' ', '')), 'åäöéü', 'ÅÄÖÉÜ'), '') $$;
SET check_function_bodies = off;
CREATE FUNCTION pg_temp.deliver(p_feed text, VARIADIC p_rows text[]) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        src text := CASE p_feed WHEN 'kfm' THEN 'enforcement' ELSE 'landlord' END;
        r jsonb;
BEGIN
        PERFORM bokvar.feed_claim(p_feed, src::bokvar.feed_source, true);
        PERFORM bokvar.stage_create();
        INSERT INTO pg_temp.stage (seq, line, external_id, kind, occurred_at, deadline, person_id, address, postal_code,
                                   apartment, children, landlord, address_key, postal_key, city_key, landlord_key)
        SELECT n, n + 1, f[2], f[3]::bokvar.signal_kind, pg_temp.d(f[4]::integer),
               CASE WHEN f[5] <> '' THEN pg_temp.d(f[5]::integer)
                    WHEN f[3] IN ('termination_notice', 'utility_disconnection') THEN pg_temp.d(f[4]::integer) + 21
                    WHEN f[3] = 'eviction_scheduled' THEN pg_temp.d(f[4]::integer) END,
               nullif(f[1], ''), nullif(f[6], ''), nullif(f[7], ''), nullif(f[8], ''), nullif(f[9], '')::integer,
               nullif(f[10], ''),
               CASE WHEN f[6] <> '' THEN pg_temp.word(f[6]) || '|' || coalesce(pg_temp.word(f[7]), '') || '|'
                                         || regexp_replace(f[8], '[^0-9]', '', 'g') END,
               pg_temp.word(f[7]), NULL, pg_temp.word(f[10])
        FROM unnest(p_rows) WITH ORDINALITY u(x, n), string_to_array(x, ';') f;
        r := bokvar.ingest_fetch(p_feed, jsonb_build_object('source', src),
                                 jsonb_build_object('url', 'file:///' || p_feed, 'status', 200, 'bytes', 100,
                                                    'started_at', extract(epoch FROM now()), 'interval', 900,
                                                    'header', ARRAY['pnr', 'id', 'kind', 'date', 'deadline', 'street',
                                                                    'zip', 'apt', 'children', 'landlord']));
        PERFORM bokvar.ingest_cleanup();
        RETURN r;
END;
$$;
RESET check_function_bodies;
CREATE FUNCTION pg_temp.home(p_signal text) RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT household_id FROM bokvar.signal WHERE external_id = p_signal $$;
CREATE FUNCTION pg_temp.signals(p_hh bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(external_id::text ORDER BY external_id), '{}') FROM bokvar.signal WHERE household_id = p_hh
$$;
-- The people: identity numbers.
CREATE TABLE pg_temp.who (k text PRIMARY KEY, v text NOT NULL);
INSERT INTO pg_temp.who VALUES ('P', '198112289874'), ('Q', '197001012348'), ('R', '199001013219'),
        ('S', '196509235674'), ('U', '197707077892'), ('V', '198503121231'), ('W', '195505055557'),
        ('X', '197605053458');
CREATE FUNCTION pg_temp.w(p_k text) RETURNS text LANGUAGE sql STABLE AS $$ SELECT v FROM pg_temp.who WHERE k = p_k $$;

-- P and their co-tenant Q live at Ekvägen 1 with two children; the
-- landlord terminates the lease.
SELECT pg_temp.deliver('hv', pg_temp.w('P') || ';M1;termination_notice;-30;;Ekvägen 1;111 11;1001;2;Alfa AB',
                             pg_temp.w('Q') || ';M2;arrears;-28;;Ekvägen 1;111 11;1001;;Alfa AB');
-- P is reported at a new address, with another landlord.
SELECT pg_temp.deliver('hv', pg_temp.w('P') || ';M3;termination_notice;-10;;Granvägen 5;222 22;;;Beta AB');
SELECT isnt(pg_temp.home('M3'), pg_temp.home('M1'), 'moves: P at a new address starts a household there');
SELECT results_eq($$SELECT pg_temp.signals(pg_temp.home('M1')), (SELECT children FROM bokvar.household WHERE id = pg_temp.home('M1'))$$,
                  $$VALUES (ARRAY['M1', 'M2'], 2)$$, 'moves: the old household keeps its signals and its two children');
SELECT results_eq($$SELECT pg_temp.signals(pg_temp.home('M3')), (SELECT children FROM bokvar.household WHERE id = pg_temp.home('M3'))$$,
                  $$VALUES (ARRAY['M3'], NULL::integer)$$, 'moves: the new household has its own signal, children unknown');
SELECT results_eq($$SELECT person_id COLLATE "default", household_id FROM bokvar.household_person ORDER BY 1$$,
                  $$VALUES (pg_temp.w('Q'), pg_temp.home('M1')), (pg_temp.w('P'), pg_temp.home('M3'))$$,
                  'moves: P''s home is the new one, Q''s the old');
-- The enforcement agency schedules the eviction of the old home; a
-- payment order for P comes without an address; the old home's landlord
-- writes to the flat, and sends an old reminder late.
SELECT pg_temp.deliver('kfm', pg_temp.w('Q') || ';M4;eviction_scheduled;-3;12;Ekvägen 1;111 11;1001;;Alfa AB',
                              pg_temp.w('P') || ';M5;payment_order;-2;;;;;;');
SELECT pg_temp.deliver('hv', ';M6;termination_notice;-1;;EKVÄGEN 1;11111;lgh 1001;;Alfa AB',
                             pg_temp.w('P') || ';M7;arrears;-40;;Ekvägen 1;111 11;1001;;Alfa AB');
SELECT results_eq($$SELECT pg_temp.signals(pg_temp.home('M1')), (SELECT children FROM bokvar.household WHERE id = pg_temp.home('M1'))$$,
                  $$VALUES (ARRAY['M1', 'M2', 'M4', 'M6', 'M7'], 2)$$,
                  'moves: the old home''s eviction, its landlord''s notice and a late reminder about P there are the '
                  'old household''s, which keeps its children');
SELECT is(pg_temp.signals(pg_temp.home('M3')), ARRAY['M3', 'M5'],
          'moves: a signal about P without an address goes where P was last reported');
SELECT is((SELECT household_id FROM bokvar.household_person WHERE person_id = pg_temp.w('P')), pg_temp.home('M3'),
          'moves: a late delivery of an old signal at the old address does not move P back');
SELECT ok(pg_temp.rank(pg_temp.home('M1')) < pg_temp.rank(101),
          'moves: the old home, its eviction scheduled and its children known, is at the top of the list');
SELECT is((SELECT household_children || ' ' || eviction_until FROM bokvar.task WHERE household_id = pg_temp.home('M1')),
          '2 ' || pg_temp.d(12), '... and its open task keeps its children and the eviction''s date');
-- A person known by identity number alone: their home learns the address
-- where they are next reported with the same landlord, not one with another.
SELECT pg_temp.deliver('kfm', pg_temp.w('R') || ';M8;eviction_application;-20;;;;;1;Gamma AB',
                              pg_temp.w('S') || ';M10;eviction_application;-20;;;;;2;Gamma AB');
SELECT pg_temp.deliver('hv', pg_temp.w('R') || ';M9;arrears;-5;;Tallvägen 3;111 33;;;Gamma AB',
                             pg_temp.w('S') || ';M11;arrears;-5;;Aspvägen 4;111 44;;;Delta AB');
SELECT results_eq($$SELECT pg_temp.signals(pg_temp.home('M8')), h.address_key COLLATE "default", h.children
                    FROM bokvar.household h WHERE h.id = pg_temp.home('M8')$$,
                  $$VALUES (ARRAY['M8', 'M9'], 'TALLVÄGEN3|11133|', 1)$$,
                  'moves: a home known by identity number learns the address its person is reported at, same landlord');
SELECT results_eq($$SELECT pg_temp.signals(pg_temp.home('M10')), h.address_key COLLATE "default", h.children
                    FROM bokvar.household h WHERE h.id = pg_temp.home('M10')$$,
                  $$VALUES (ARRAY['M10'], NULL::text, 2)$$,
                  '... but not one with another landlord: the person moved on, and the old home keeps its children');
SELECT isnt(pg_temp.home('M11'), pg_temp.home('M10'), '... where they start a household of their own');

-- The subject copy of P covers both homes, P's home first; each read is logged.
CREATE TEMP TABLE copy AS
SELECT pg_temp.act('cw_coord', format('SELECT bokvar.subject_export(%L)', pg_temp.w('P')))::jsonb AS j;
SELECT results_eq($$SELECT (j #>> '{household,household,id}')::bigint, (j #>> '{earlier_households,0,household,id}')::bigint,
                          jsonb_array_length(j -> 'earlier_households')
                   FROM copy$$,
                  $$VALUES (pg_temp.home('M3'), pg_temp.home('M1'), 1)$$,
                  'subject copy of a person who moved: their home, then the home they left');
SELECT is((SELECT array_agg(s ->> 'external_id' ORDER BY s ->> 'external_id') FROM copy, jsonb_array_elements(j -> 'signals') s),
          ARRAY['M1', 'M3', 'M5', 'M7'], '... with their own signals in both, not the co-tenant''s');
SELECT results_eq($$SELECT actor, household_id FROM bokvar.access_log WHERE path = 'subject.export' ORDER BY household_id$$,
                  $$SELECT 'cw_coord', x FROM unnest(ARRAY[pg_temp.home('M1'), pg_temp.home('M3')]) x ORDER BY 1$$,
                  '... one access-log row per household read');

-- =====================================================================
-- 4. A caseworker's count of the children (the new home of M3, team
-- south, children unknown).
CREATE TEMP TABLE b AS SELECT pg_temp.home('M3') AS id;
SELECT is((SELECT class::text || ' ' || score FROM bokvar.score WHERE household_id = (SELECT id FROM b)), 'outreach 50',
          'children: before, the notice alone');
SELECT is(pg_temp.act('cw_s', format($$SELECT bokvar.household_children_correct(%s, 1, 'home visit')$$, (SELECT id FROM b))),
          '', 'children: a caseworker of the household''s team says 1');
SELECT results_eq($$SELECT household_id, old_children, new_children, note, by, at > now() - interval '1 minute'
                    FROM bokvar.children_correction$$,
                  $$SELECT id, NULL::integer, 1, 'home visit', 'cw_s', true FROM b$$,
                  'children: recorded with the count before, their note, who and when');
SELECT is((SELECT s.class::text || ' ' || s.score || ' ' || h.children || ' ' || t.household_children
           FROM bokvar.score s JOIN bokvar.household h ON h.id = s.household_id
           JOIN bokvar.task t ON t.household_id = h.id AND t.status = 'open'
           WHERE h.id = (SELECT id FROM b)), 'outreach 70 1 1',
          'children: the household is scored again (the children rule fires), its task keeps the count');
SELECT results_eq($$SELECT actor, action, subject, detail FROM bokvar.audit_log WHERE action = 'household.children'$$,
                  $$SELECT 'cw_s', 'household.children', id::text, '{"from": null, "to": 1, "session_user": "cw_s"}'::jsonb FROM b$$,
                  'children: in the audit log');
SELECT is(pg_temp.act('cw_n', format('SELECT bokvar.household_children_correct(%s, 3, ''a call'')', (SELECT id FROM b))),
          format('P0002: no household %s', (SELECT id FROM b)), 'children: another team''s household is none to a caseworker');
SELECT matches(pg_temp.act('cw_op', format('SELECT bokvar.household_children_correct(%s, 3, ''a call'')', (SELECT id FROM b))),
               '^42501: ', 'children: no operator''s to correct');
SELECT is(pg_temp.act('cw_s', format('SELECT bokvar.household_children_correct(%s, -1, ''a call'')', (SELECT id FROM b))),
          '22023: the number of children is a whole number from 0 to 30', 'children: a count below 0 is refused');
SELECT is((SELECT count(*)::integer FROM bokvar.children_correction), 1, '... and the refused ones recorded nothing');
-- The latest count wins: a correction made on the day of a signal beats
-- it (the ingest takes the feed's count of today, then settles the count
-- in force), a signal of a later day beats the correction.
SELECT pg_temp.deliver('hv', pg_temp.w('P') || ';M12;arrears;0;;Granvägen 5;222 22;;3;Beta AB');
SELECT is((SELECT children FROM bokvar.household WHERE id = (SELECT id FROM b)), 1,
          'children: a signal of the correction''s day does not replace it');
SELECT pg_temp.deliver('hv', pg_temp.w('P') || ';M13;arrears;1;;Granvägen 5;222 22;;4;Beta AB');
SELECT is((SELECT children FROM bokvar.household WHERE id = (SELECT id FROM b)), 4,
          'children: a signal of a later day does');
SELECT is(pg_temp.act('cw_s', format($$SELECT jsonb_agg(jsonb_build_array(h -> 'children', h -> 'how', h -> 'by', h -> 'in_force'))
                                       FROM jsonb_array_elements((bokvar.household_show(%s)) -> 'children_history') h$$,
                                     (SELECT id FROM b)))::jsonb,
          '[[4, "reported", "hv", true], [1, "corrected", "cw_s", false], [3, "reported", "hv", false]]'::jsonb,
          'children: household show has the history, the one in force first');
SELECT is(pg_temp.act('cw_coord', format($$SELECT (bokvar.subject_export(%L)) #> '{household,children_corrections}'$$,
                                      pg_temp.w('P')))::jsonb -> 0 ->> 'by', 'cw_s',
          'children: the corrections are in the subject copy');
SELECT is((SELECT household_children FROM bokvar.task WHERE household_id = (SELECT id FROM b) AND status = 'open'), 4,
          'children: the open task keeps the count in force');

-- =====================================================================
-- 5. Merge and split.
-- U's home at Lindvägen 1, flat 1101, with children; the enforcement
-- agency writes the same home without the flat number: two households,
-- each with a task of team north.
SELECT pg_temp.deliver('hv', pg_temp.w('U') || ';G1;termination_notice;-6;;Lindvägen 1;111 55;1101;2;Alfa AB');
SELECT pg_temp.deliver('kfm', pg_temp.w('U') || ';G2;eviction_scheduled;-4;20;Lindvägen 1;111 55;;;Alfa AB');
CREATE TEMP TABLE g AS
SELECT pg_temp.home('G1') AS a, pg_temp.home('G2') AS b,
       (SELECT id FROM bokvar.task WHERE household_id = pg_temp.home('G1')) AS ta,
       (SELECT id FROM bokvar.task WHERE household_id = pg_temp.home('G2')) AS tb;
SELECT results_eq($$SELECT household_id, class::text, score FROM bokvar.score WHERE household_id IN (SELECT a FROM g UNION SELECT b FROM g)
                    ORDER BY 1$$,
                  $$SELECT a, 'outreach', 70 FROM g UNION ALL SELECT b, 'outreach', 60 FROM g$$,
                  'merge: before, two households, each with its score (and a task)');
SELECT is(pg_temp.act('cw_s', format('SELECT bokvar.household_merge(%s, %s)', (SELECT a FROM g), (SELECT b FROM g))),
          format('P0002: no household %s', (SELECT a FROM g)), 'merge: not by a caseworker of another team');
SELECT matches(pg_temp.act('cw_op', format('SELECT bokvar.household_merge(%s, %s)', (SELECT a FROM g), (SELECT b FROM g))),
               '^42501: ', 'merge: not by an operator');
SELECT is(pg_temp.act('cw_n', format('SELECT bokvar.household_merge(%s, %s)', (SELECT a FROM g), (SELECT a FROM g))),
          format('22023: household %s cannot be merged with itself', (SELECT a FROM g)), 'merge: not with itself');
SELECT is(pg_temp.act('cw_n', format('SELECT bokvar.household_merge(%s, %s)', (SELECT a FROM g), (SELECT b FROM g)))::jsonb,
          (SELECT jsonb_build_object('household', a, 'children', 2, 'class', 'urgent', 'score', 130, 'merged', b, 'signals', 1,
                                     'tasks', 1, 'people', 1, 'closed_as_duplicate', tb) FROM g),
          'merge by a caseworker who sees both: one household, scored again (notice, eviction, children)');
SELECT results_eq($$SELECT pg_temp.signals(a), (SELECT count(*)::integer FROM bokvar.household WHERE id = g.b),
                          (SELECT household_id FROM bokvar.household_person WHERE person_id = pg_temp.w('U'))
                   FROM g$$,
                  $$SELECT ARRAY['G1', 'G2'], 0, a FROM g$$, 'merge: the signals and the person moved, the other household is gone');
SELECT results_eq($$SELECT t.id, t.household_id, t.status, t.outcome::text, t.class::text FROM bokvar.task t, g
                    WHERE t.id IN (g.ta, g.tb) ORDER BY t.id$$,
                  $$SELECT ta, a, 'open', NULL, 'urgent' FROM g UNION ALL SELECT tb, a, 'closed', 'duplicate', 'outreach' FROM g ORDER BY 1$$,
                  'merge: the kept household''s task follows its new class; the other''s is closed as a duplicate');
SELECT is((SELECT array_agg(kind ORDER BY id) FROM bokvar.task_event, g WHERE task_id = g.ta), ARRAY['created', 'escalated'],
          'merge: ... escalated (and sent)');
SELECT results_eq($$SELECT actor, action, subject, detail - 'session_user' FROM bokvar.audit_log WHERE action = 'household.merge'$$,
                  $$SELECT 'cw_n', 'household.merge', a::text,
                           jsonb_build_object('merged', b, 'signals', 1, 'tasks', 1, 'people', 1, 'closed_as_duplicate', tb) FROM g$$,
                  'merge: in the audit log');
SELECT is((SELECT household_id FROM bokvar.household_alias WHERE address_key = 'LINDVÄGEN1|11155|'), (SELECT a FROM g),
          'merge: the other household''s address is the kept one''s alias');
SELECT is(pg_temp.act('cw_coord', format($$SELECT jsonb_agg(m - 'at') FROM jsonb_array_elements(
                                                   (bokvar.subject_export(%L)) #> '{household,merged_households}') m$$,
                                          pg_temp.w('U')))::jsonb,
          (SELECT jsonb_build_array(jsonb_build_object('household', b, 'address_key', 'LINDVÄGEN1|11155|')) FROM g),
          'merge: the subject copy names the household merged in and the address that leads to it');
SELECT pg_temp.deliver('hv', ';G3;arrears;-1;;Lindvägen 1;111 55;;;Alfa AB');
SELECT is(pg_temp.home('G3'), (SELECT a FROM g), 'merge: a later signal at that address comes to the kept household');

-- V and W at Björkgatan 2 without a flat number: one household of team
-- south; V's notice is another flat's.
SELECT pg_temp.deliver('hv', pg_temp.w('V') || ';K1;termination_notice;-8;;Björkgatan 2;222 66;;;Beta AB',
                             pg_temp.w('W') || ';K2;arrears;-7;;Björkgatan 2;222 66;;;Beta AB');
CREATE TEMP TABLE k AS SELECT pg_temp.home('K1') AS a, (SELECT id FROM bokvar.task WHERE household_id = pg_temp.home('K1')) AS ta;
SELECT is((SELECT class::text || ' ' || score FROM bokvar.score, k WHERE household_id = k.a), 'outreach 70',
          'split: before, one household');
-- bokvarctl reads the number in C (a wrong check digit is refused there:
-- test_casework); the database takes it normalised, and nothing else.
SELECT is(pg_temp.act('cw_s', format('SELECT bokvar.household_split(%s, %L)', (SELECT a FROM k), '850312-1231')),
          '22023: that is not a valid identity number as bokvar keeps them (12, 11 or 9 digits)',
          'split: a number not as bokvar keeps them is refused, not repeated');
SELECT is(pg_temp.act('cw_s', format('SELECT bokvar.household_split(%s, %L)', (SELECT a FROM k), pg_temp.w('X'))),
          format('P0002: household %s has no signal about anyone with that identity number', (SELECT a FROM k)),
          'split: a number without a signal in the household is refused, not repeated');
SELECT is(pg_temp.act('cw_n', format('SELECT bokvar.household_split(%s, %L)', (SELECT a FROM k), pg_temp.w('V'))),
          format('P0002: no household %s', (SELECT a FROM k)), 'split: not by a caseworker of another team');
CREATE TEMP TABLE split AS
SELECT pg_temp.act('cw_s', format('SELECT bokvar.household_split(%s, %L)', (SELECT a FROM k), pg_temp.w('V')))::jsonb AS j;
INSERT INTO k SELECT (j #>> '{new,household}')::bigint, NULL FROM split;
CREATE TEMP TABLE c AS SELECT max(a) AS id FROM k;
SELECT is((SELECT j FROM split),
          (SELECT jsonb_build_object('household', k.a, 'children', NULL, 'class', 'watch', 'score', 20, 'signals', 1,
                                     'new', jsonb_build_object('household', c.id, 'children', NULL, 'class', 'outreach',
                                                               'score', 50)) FROM k, c WHERE k.ta IS NOT NULL),
          'split by the team''s caseworker: V''s notice makes a household of its own; both scored again');
SELECT results_eq($$SELECT pg_temp.signals(k.a), pg_temp.signals(c.id) FROM k, c WHERE k.ta IS NOT NULL$$,
                  $$VALUES (ARRAY['K2'], ARRAY['K1'])$$, 'split: the signals where they belong');
SELECT is((SELECT array_agg(kind ORDER BY id) FROM bokvar.task_event, k WHERE task_id = k.ta), ARRAY['created', 'risk_lowered'],
          'split: the old household''s task notes the lowered risk');
SELECT results_eq($$SELECT team, class::text, status FROM bokvar.task, c WHERE household_id = c.id$$,
                  $$VALUES ('south', 'outreach', 'open')$$, 'split: the new household gets a task of its own');
SELECT results_eq($$SELECT household_id, split_from FROM bokvar.household_person WHERE person_id = pg_temp.w('V')$$,
                  $$SELECT c.id, k.a FROM k, c WHERE k.ta IS NOT NULL$$, 'split: V''s home is the new household');
SELECT results_eq($$SELECT actor, action, subject, detail - 'session_user' FROM bokvar.audit_log WHERE action = 'household.split'$$,
                  $$SELECT 'cw_s', 'household.split', k.a::text, jsonb_build_object('new_household', c.id, 'signals', 1)
                    FROM k, c WHERE k.ta IS NOT NULL$$,
                  'split: in the audit log, without the identity number');
SELECT is(pg_temp.act('cw_coord', format('SELECT bokvar.household_split(%s, %L)', (SELECT id FROM c), pg_temp.w('V'))),
          format('22023: every signal of household %s is about that person: there is nothing to split it from', (SELECT id FROM c)),
          'split: not a household''s only person');
-- Later deliveries: V at the old address comes to V's household, W to the
-- old one; V at a new address starts another, and the split is done with.
SELECT pg_temp.deliver('hv', pg_temp.w('V') || ';K3;arrears;-1;;Björkgatan 2;222 66;;;Beta AB',
                             pg_temp.w('W') || ';K4;arrears;-1;;Björkgatan 2;222 66;;;Beta AB');
SELECT results_eq($$SELECT pg_temp.home('K3') = c.id, pg_temp.home('K4') = k.a FROM k, c WHERE k.ta IS NOT NULL$$,
                  $$VALUES (true, true)$$, 'split: later signals at the old address follow V to V''s household, W''s stay');
SELECT pg_temp.deliver('hv', pg_temp.w('V') || ';K5;arrears;0;;Ringvägen 9;222 77;;;Beta AB');
SELECT results_eq($$SELECT household_id <> ALL (ARRAY(SELECT a FROM k)), split_from FROM bokvar.household_person
                    WHERE person_id = pg_temp.w('V')$$,
                  $$VALUES (true, NULL::bigint)$$, 'split: V reported at a new address moves there, the split done with');

-- =====================================================================
-- 6. The report: 2024, with 2023 to compare. Households 701-711, teams
-- north and south, landlords Alfa AB and Beta AB; signals are received
-- the day after they occurred, at 09:00.
CREATE FUNCTION pg_temp.rsig(p_id bigint, p_hh bigint, p_source text, p_kind text, p_occurred date) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, household_id, fetch_id, received_at)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, 'tap', p_id::text, p_source::bokvar.feed_source, p_kind::bokvar.signal_kind, p_occurred, p_hh, 1,
                p_occurred + 1 + time '09:00')
$$;
CREATE FUNCTION pg_temp.rtask(p_hh bigint, p_team text, p_created timestamptz, p_deadline date, p_closed timestamptz,
                              p_outcome text) RETURNS bigint
LANGUAGE sql AS $$
        INSERT INTO bokvar.task (household_id, status, class, opened_class, top_class, score, team, legal_deadline, due,
                                 created_at, closed_at, closed_by, outcome)
        VALUES (p_hh, CASE WHEN p_closed IS NULL THEN 'open' ELSE 'closed' END, 'outreach', 'outreach', 'outreach', 60,
                p_team, p_deadline, coalesce(p_deadline, p_created::date + 7), p_created, p_closed,
                CASE WHEN p_closed IS NOT NULL THEN 'anna' END, p_outcome::bokvar.task_outcome)
        RETURNING id
$$;
CREATE FUNCTION pg_temp.rcontact(p_hh bigint, p_at timestamptz, p_reached boolean) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.contact (task_id, at, by, channel, reached)
        SELECT max(id), p_at, 'anna', 'phone', p_reached FROM bokvar.task WHERE household_id = p_hh;
        UPDATE bokvar.task SET first_contact_at = least(first_contact_at, p_at), acknowledged_at = coalesce(acknowledged_at, p_at)
        WHERE id = (SELECT max(id) FROM bokvar.task WHERE household_id = p_hh);
        UPDATE bokvar.task SET first_contact_at = p_at WHERE id = (SELECT max(id) FROM bokvar.task WHERE household_id = p_hh)
          AND first_contact_at IS NULL;
$$;
INSERT INTO bokvar.household (id, children, landlord, last_signal_at) VALUES
        (701, 2, 'Alfa AB', '2024-02-01'), (702, NULL, 'Beta AB', '2024-03-01'), (703, 0, 'Alfa AB', '2024-04-01'),
        (704, 3, NULL, '2024-06-15'), (705, 1, 'Beta AB', '2024-07-01'), (706, NULL, NULL, '2024-08-01'),
        (707, 2, 'Beta AB', '2024-10-15'), (708, 0, NULL, '2024-11-01'), (709, 1, 'Alfa AB', '2024-12-20'),
        (710, 0, 'Alfa AB', '2024-05-05'), (711, 2, 'Alfa AB', '2023-04-01');
--                 signal household  source         kind                    occurred
SELECT pg_temp.rsig(7011, 701, 'landlord',    'termination_notice',   '2024-02-01');
SELECT pg_temp.rsig(7021, 702, 'landlord',    'arrears',              '2024-03-01');
SELECT pg_temp.rsig(7031, 703, 'landlord',    'disturbance',          '2024-04-01');
SELECT pg_temp.rsig(7041, 704, 'enforcement', 'eviction_application', '2024-05-01');
SELECT pg_temp.rsig(7042, 704, 'enforcement', 'eviction_executed',    '2024-06-15');
SELECT pg_temp.rsig(7051, 705, 'enforcement', 'eviction_executed',    '2024-07-01');
SELECT pg_temp.rsig(7061, 706, 'landlord',    'arrears',              '2023-06-20');
SELECT pg_temp.rsig(7062, 706, 'enforcement', 'eviction_executed',    '2024-08-01');
SELECT pg_temp.rsig(7071, 707, 'landlord',    'termination_notice',   '2024-09-01');
SELECT pg_temp.rsig(7072, 707, 'enforcement', 'eviction_executed',    '2024-10-15');
SELECT pg_temp.rsig(7081, 708, 'landlord',    'arrears',              '2024-09-20');
SELECT pg_temp.rsig(7082, 708, 'enforcement', 'eviction_executed',    '2024-11-01');
SELECT pg_temp.rsig(7091, 709, 'landlord',    'sanitary',             '2024-12-20');
SELECT pg_temp.rsig(7101, 710, 'landlord',    'eviction_executed',    '2024-05-05');
SELECT pg_temp.rsig(7111, 711, 'landlord',    'termination_notice',   '2023-03-01');
SELECT pg_temp.rsig(7112, 711, 'enforcement', 'eviction_executed',    '2023-04-01');
--                  household team     created              legal deadline closed                outcome
SELECT pg_temp.rtask(701, 'north', '2024-02-03 10:00', '2024-02-22', '2024-03-01 12:00', 'kept_home');
SELECT pg_temp.rtask(702, 'south', '2024-03-05 10:00', NULL,         '2024-04-01 12:00', 'payment_plan');
SELECT pg_temp.rtask(703, 'north', '2024-04-02 10:00', NULL,         '2024-05-01 12:00', 'not_reached');
SELECT pg_temp.rtask(704, 'south', '2024-05-02 10:00', '2024-06-15', '2024-06-20 12:00', 'evicted');
SELECT pg_temp.rtask(706, 'north', '2023-07-01 10:00', NULL,         '2023-08-01 12:00', 'referred');
SELECT pg_temp.rtask(707, 'north', '2024-09-02 10:00', '2024-09-22', '2024-10-20 12:00', 'evicted');
SELECT pg_temp.rtask(708, 'south', '2024-10-01 10:00', '2024-10-21', '2024-11-05 12:00', 'evicted');
SELECT pg_temp.rtask(709, 'north', '2024-12-30 10:00', NULL,         NULL,               NULL);
SELECT pg_temp.rtask(711, 'south', '2023-03-02 10:00', '2023-03-22', '2023-04-05 12:00', 'evicted');
SELECT pg_temp.rcontact(701, '2024-02-05 10:00', true);
SELECT pg_temp.rcontact(702, '2024-03-06 10:00', false);
SELECT pg_temp.rcontact(702, '2024-03-10 10:00', true);
SELECT pg_temp.rcontact(703, '2024-04-03 10:00', false);
SELECT pg_temp.rcontact(706, '2023-07-02 10:00', true);
SELECT pg_temp.rcontact(707, '2024-09-25 10:00', true);    -- reached, three days after its deadline
SELECT pg_temp.rcontact(708, '2024-10-02 10:00', true);
SELECT pg_temp.rcontact(709, '2024-12-31 10:00', true);

CREATE TEMP TABLE rep AS SELECT bokvar.report(2024) AS r, bokvar.report(2023) AS p;
-- Opened in 2024: 701, 702, 703, 704, 707, 708, 709 (706's in 2023).
-- A contact reached 701, 702 (at the second try), 707 (late), 708, 709.
SELECT is((SELECT jsonb_build_array(r -> 'tasks_opened', r -> 'tasks_reached', r -> 'contact_rate') FROM rep),
          '[7, 5, 0.714]'::jsonb, 'report 2024: tasks opened, those a contact reached, the contact rate');
-- Reached with children: 701 (2), 707 (2), 709 (1); 702's are unknown.
SELECT is((SELECT jsonb_build_array(r -> 'families_with_children_reached', r -> 'children_in_families_reached',
                                    r -> 'reached_children_unknown') FROM rep),
          '[3, 5, 1]'::jsonb, 'report 2024: families with children reached, their children, and those unknown');
-- Kept home: 701 (2 children), 702 (unknown).
SELECT is((SELECT jsonb_build_array(r -> 'households_kept_home', r -> 'families_with_children_kept_home',
                                    r -> 'children_kept_home', r -> 'kept_home_children_unknown') FROM rep),
          '[2, 1, 2, 1]'::jsonb, 'report 2024: kept home, families with children among them, children, unknown');
-- Evicted by the enforcement agency: 704 (3), 705 (1), 706 (unknown),
-- 707 (2), 708 (none); 710's is a landlord's word only.
SELECT is((SELECT jsonb_build_array(r -> 'evictions_executed', r -> 'evictions_executed_with_children',
                                    r -> 'children_evicted', r -> 'evictions_executed_children_unknown') FROM rep),
          '[5, 3, 6, 1]'::jsonb, 'report 2024: evictions executed, those involving children, their children, unknown');
-- Missed: 705 had no task; 706's was more than a year before; 704's task
-- reached nobody; 707 was reached after its deadline. 708 was reached in time.
SELECT is((SELECT jsonb_build_array(r -> 'missed_cases', r -> 'missed_no_task', r -> 'missed_no_contact') FROM rep),
          '[4, [705, 706], [704, 707]]'::jsonb, 'report 2024: the missed cases, of each kind, household ids only');
SELECT is((SELECT r -> 'outcomes_by_cause' FROM rep),
          '{"arrears": {"evicted": 1, "payment_plan": 1}, "disturbance": {"not_reached": 1},
            "eviction_application": {"evicted": 1}, "termination_notice": {"evicted": 1, "kept_home": 1}}'::jsonb,
          'report 2024: outcomes by cause, the kind of the first signal of each task''s story');
SELECT is((SELECT r -> 'outcomes_by_landlord' FROM rep),
          '{"Alfa AB": {"kept_home": 1, "not_reached": 1}, "Beta AB": {"evicted": 1, "payment_plan": 1},
            "unknown": {"evicted": 2}}'::jsonb, 'report 2024: outcomes by landlord');
SELECT is((SELECT r -> 'outcomes_by_team' FROM rep),
          '{"north": {"evicted": 1, "kept_home": 1, "not_reached": 1}, "south": {"evicted": 2, "payment_plan": 1}}'::jsonb,
          'report 2024: outcomes by team');
SELECT is((SELECT p - 'signals' - 'outcomes' - 'median_days_signal_to_contact' - 'contact_before_deadline_share' FROM rep),
          '{"year": 2023, "tasks_opened": 2, "tasks_closed": 2, "tasks_reached": 1, "contact_rate": 0.500,
            "outcomes_by_cause": {"arrears": {"referred": 1}, "termination_notice": {"evicted": 1}},
            "outcomes_by_landlord": {"Alfa AB": {"evicted": 1}, "unknown": {"referred": 1}},
            "outcomes_by_team": {"north": {"referred": 1}, "south": {"evicted": 1}},
            "households_kept_home": 0, "families_with_children_kept_home": 0, "children_kept_home": 0,
            "kept_home_children_unknown": 0, "families_with_children_reached": 0, "children_in_families_reached": 0,
            "reached_children_unknown": 1, "eviction_applications": 0, "evictions_executed": 1,
            "evictions_executed_with_children": 1, "children_evicted": 2, "evictions_executed_children_unknown": 0,
            "missed_cases": 1, "missed_no_task": [], "missed_no_contact": [711],
            "signals_by_month": {"arrears": {"06": 1}, "eviction_executed": {"04": 1}, "termination_notice": {"03": 1}},
            "tasks_opened_by_month": {"03": 1, "07": 1}, "tasks_closed_by_month": {"04": 1, "08": 1}}'::jsonb,
          'report 2023, the year to compare: every figure known (and, 008, the months: 711''s signals in March and '
          'April, 706''s in June; tasks opened in March and July, closed in April and August)');

-- A purge on 30 June 2026 takes every household of the fixture but 709
-- (its task is open): their tasks closed more than 18 months before, or
-- they never had one. The reports stay as they were.
SELECT is((bokvar.purge_run('2026-06-30')) -> 'household', '10'::jsonb, 'purge: ten of the eleven households go');
SELECT is((SELECT array_agg(id ORDER BY id) FROM bokvar.household WHERE id BETWEEN 701 AND 711), ARRAY[709::bigint],
          'purge: ... all but 709');
SELECT is(bokvar.report(2024), (SELECT r FROM rep), 'purge: the report of 2024 is what it was, every new figure with it');
SELECT is(bokvar.report(2023), (SELECT p FROM rep), 'purge: ... and that of 2023');
SELECT is((SELECT figures -> 'missed_no_task' FROM bokvar.report_purged WHERE year = 2024), '[705, 706]'::jsonb,
          'purge: the missed households'' ids are kept with the figures, ids only');
SELECT is((bokvar.purge_run('2026-06-30')) -> 'household', '0'::jsonb, 'purge: a second purge deletes nothing');
SELECT is(bokvar.report(2024), (SELECT r FROM rep), '... and changes no report');

SELECT FROM (SELECT dblink_disconnect(c) FROM unnest(dblink_get_connections()) c) x;
SELECT * FROM finish();
