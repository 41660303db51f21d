-- SPDX-License-Identifier: GPL-3.0-or-later
-- Scoring (sql/003_scoring.sql): rulesets as the daemon loads them, the
-- conditions and increments of rules, classes, explanations, priority, the
-- history, daily rescoring and the preview of a new ruleset.
--
-- Every call has a fixed day: "today" is 2026-03-10 (T) unless a step says
-- otherwise, so nothing depends on the real date. Signals are written
-- straight into bokvar.signal with explicit ids (household * 10 + n), their
-- age and deadline in days relative to T. Rulesets have the JSON shape
-- bokvard and bokvarctl send (src/config/rules.c, rules_to_json).
--
--   1  conditions, each alone, and the global window     households 101-125
--   2  combinations; one firing per household            households 131-139
--   3  per increments; negative points                   households 141-169
--   4  household-only rules; thresholds; explanations    households 164-188
--   5  score_apply: stored scores, priority              households 201-210
--   6  history, score_at, a rescore that changes nothing household 301
--   7  ruleset_load, versions, audit log
--   8  rescore_all: once a day, forced, leaving the window (signals, scores cleared first)
--   9  rules_diff against what loading then does          (signals, scores cleared first)
BEGIN;
SELECT plan(171);

-- Rulesets loaded by this file, by a name of its own.
CREATE TEMP TABLE rs (name text PRIMARY KEY, version integer NOT NULL, j jsonb NOT NULL);

-- Loads a ruleset (thresholds watch 20, outreach 50, urgent 90 unless the
-- JSON says otherwise) and remembers its version.
CREATE FUNCTION pg_temp.load(p_name text, p_rules jsonb, p_activate boolean DEFAULT true) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO pg_temp.rs
        SELECT p_name, l.version, p_rules
        FROM bokvar.ruleset_load(p_rules, '# rules ' || p_name, '/etc/bokvar/' || p_name || '.yaml', 'tap', p_activate) l
$$;
CREATE FUNCTION pg_temp.ruleset(p_name text, p_rules jsonb, p_window integer DEFAULT 365) RETURNS void
LANGUAGE sql AS $$
        SELECT pg_temp.load(p_name, jsonb_build_object('window_days', p_window,
                                                       'thresholds', '{"watch": 20, "outreach": 50, "urgent": 90}'::jsonb,
                                                       'rules', p_rules))
$$;
-- A ruleset of one rule, named like the ruleset, without description.
CREATE FUNCTION pg_temp.one(p_name text, p_when jsonb, p_points integer, p_per jsonb DEFAULT NULL,
                            p_window integer DEFAULT 365) RETURNS void
LANGUAGE sql AS $$
        SELECT pg_temp.ruleset(p_name, jsonb_build_array(
                jsonb_build_object('name', p_name, 'points', p_points, 'when', '{"_": 0}'::jsonb || p_when)
                || CASE WHEN p_per IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('per', p_per) END), p_window)
$$;
CREATE FUNCTION pg_temp.v(p_name text) RETURNS integer
LANGUAGE sql STABLE AS $$ SELECT version FROM pg_temp.rs WHERE name = p_name $$;

-- A signal p_age days before T, its deadline p_due days after T.
CREATE FUNCTION pg_temp.sig(p_id bigint, p_hh bigint, p_kind text, p_age integer, p_due integer DEFAULT NULL,
                            p_amount numeric DEFAULT NULL, p_months integer DEFAULT NULL,
                            p_source text DEFAULT 'landlord') RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, amount,
                                   months_in_arrears, household_id, fetch_id)
        OVERRIDING SYSTEM VALUE
        VALUES (p_id, 'tap', p_id::text, p_source::bokvar.feed_source, p_kind::bokvar.signal_kind,
                DATE '2026-03-10' - p_age, DATE '2026-03-10' + p_due, p_amount, p_months, p_hh, 1)
$$;

-- The score of one household under a ruleset, p_day days after T; NULL
-- when the household is not scored at all (no signal in the window).
CREATE FUNCTION pg_temp.score(p_rs text, p_hh bigint, p_day integer DEFAULT 0) RETURNS integer
LANGUAGE sql AS $$
        SELECT c.score FROM bokvar.score_compute(pg_temp.v(p_rs), ARRAY[p_hh], DATE '2026-03-10' + p_day) c
$$;
CREATE FUNCTION pg_temp.explanation(p_rs text, p_hh bigint) RETURNS jsonb
LANGUAGE sql AS $$
        SELECT c.explanation FROM bokvar.score_compute(pg_temp.v(p_rs), ARRAY[p_hh], DATE '2026-03-10') c
$$;
-- The same, with an error as text rather than aborting the whole file.
CREATE FUNCTION pg_temp.try_score(p_rs text, p_hh bigint) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
        RETURN (SELECT c.score::text FROM bokvar.score_compute(pg_temp.v(p_rs), ARRAY[p_hh], DATE '2026-03-10') c);
EXCEPTION WHEN others THEN
        RETURN 'ERROR: ' || SQLERRM;
END;
$$;

-- The scores stored, and what they should be on a day under the ruleset in
-- force: the computed score of every household with a signal in the
-- window, and 0/none/no deadline/no explanation for the others scored before.
CREATE FUNCTION pg_temp.stored() RETURNS TABLE (household_id bigint, score integer, class text, ruleset_version integer,
                                                next_deadline date, explanation jsonb)
LANGUAGE sql STABLE AS $$
        SELECT household_id, score, class::text, ruleset_version, next_deadline, explanation FROM bokvar.score
$$;
CREATE FUNCTION pg_temp.expected(p_day date) RETURNS TABLE (household_id bigint, score integer, class text,
                                                           ruleset_version integer, next_deadline date, explanation jsonb)
LANGUAGE sql AS $$
        SELECT coalesce(c.household_id, s.household_id), coalesce(c.score, 0), coalesce(c.class::text, 'none'),
               (SELECT version FROM bokvar.ruleset_active), c.next_deadline, coalesce(c.explanation, '[]')
        FROM bokvar.score_compute((SELECT version FROM bokvar.ruleset_active), NULL, p_day) c
        FULL JOIN bokvar.score s ON s.household_id = c.household_id
$$;

-- Moments between steps, for score_at.
CREATE TEMP TABLE mark (name text PRIMARY KEY, at timestamptz NOT NULL);

-- =====================================================================
-- 1. Each condition alone.
INSERT INTO bokvar.household (id, children)
SELECT i, 0 FROM generate_series(101, 118) i;
INSERT INTO bokvar.household (id, children) VALUES (119, 2), (120, 1), (121, 3);
INSERT INTO bokvar.household (id, children) SELECT i, 0 FROM generate_series(122, 125) i;

SELECT pg_temp.sig(1011, 101, 'termination_notice', 5);
SELECT pg_temp.sig(1021, 102, 'arrears', 5);                          -- no deadline, amount or months
SELECT pg_temp.sig(1031, 103, 'payment_order', 5, p_source => 'enforcement');
SELECT pg_temp.sig(1041, 104, 'eviction_application', 5, p_source => 'enforcement');
SELECT pg_temp.sig(1051, 105, 'arrears', 5, p_source => 'enforcement');
SELECT pg_temp.sig(1061, 106, 'utility_disconnection', 5, p_source => 'utility');
SELECT pg_temp.sig(1071, 107, 'arrears', 60);
SELECT pg_temp.sig(1081, 108, 'arrears', 61);
SELECT pg_temp.sig(1091, 109, 'eviction_scheduled', 20, 0, p_source => 'enforcement');
SELECT pg_temp.sig(1101, 110, 'eviction_scheduled', 20, 14, p_source => 'enforcement');
SELECT pg_temp.sig(1111, 111, 'eviction_scheduled', 20, 15, p_source => 'enforcement');
SELECT pg_temp.sig(1121, 112, 'eviction_scheduled', 20, -1, p_source => 'enforcement');
SELECT pg_temp.sig(1131, 113, 'arrears', 5);
SELECT pg_temp.sig(1132, 113, 'arrears', 10);
SELECT pg_temp.sig(1141, 114, 'arrears', 5);
SELECT pg_temp.sig(1142, 114, 'arrears', 10);
SELECT pg_temp.sig(1143, 114, 'arrears', 15);
SELECT pg_temp.sig(1151, 115, 'arrears', 5, p_amount => 20000.00);
SELECT pg_temp.sig(1161, 116, 'arrears', 5, p_amount => 19999.99);
SELECT pg_temp.sig(1171, 117, 'arrears', 5, p_months => 3);
SELECT pg_temp.sig(1181, 118, 'arrears', 5, p_months => 2);
SELECT pg_temp.sig(1191, 119, 'disturbance', 5);
SELECT pg_temp.sig(1201, 120, 'disturbance', 5);
SELECT pg_temp.sig(1211, 121, 'disturbance', 400);                   -- outside the window
SELECT pg_temp.sig(1221, 122, 'arrears', 365);
SELECT pg_temp.sig(1231, 123, 'arrears', 366);
SELECT pg_temp.sig(1241, 124, 'arrears', 30);
SELECT pg_temp.sig(1251, 125, 'arrears', 31);

SELECT pg_temp.one('kind-one', '{"kind": ["termination_notice"]}', 50);
SELECT pg_temp.one('kind-list', '{"kind": ["eviction_application", "payment_order"]}', 45);
SELECT pg_temp.one('source', '{"source": ["enforcement", "utility"]}', 25);
SELECT pg_temp.one('within', '{"within_days": 60}', 10);
SELECT pg_temp.one('deadline-within', '{"deadline_within_days": 14}', 80);
SELECT pg_temp.one('deadline-passed', '{"deadline_passed": true}', 15);
SELECT pg_temp.one('deadline-ahead', '{"deadline_passed": false}', 40);
SELECT pg_temp.one('count', '{"count_at_least": 3}', 30);
SELECT pg_temp.one('amount', '{"amount_at_least": "20000.00"}', 10);
SELECT pg_temp.one('months', '{"months_at_least": 3}', 12);
SELECT pg_temp.one('children', '{"children_at_least": 2}', 20);
SELECT pg_temp.one('kind-arrears', '{"kind": ["arrears"]}', 10);
SELECT pg_temp.one('window30', '{"kind": ["arrears"]}', 10, p_window => 30);
SELECT pg_temp.one('within-beyond-window', '{"within_days": 60}', 10, p_window => 30);

SELECT is(pg_temp.score('kind-one', 101), 50, 'kind: a signal of that kind fires the rule');
SELECT is(pg_temp.score('kind-one', 102), 0, 'kind: a signal of another kind does not (score 0, still scored)');
SELECT is(pg_temp.score('kind-list', 103), 45, 'kind list: the second kind of the list fires the rule');
SELECT is(pg_temp.score('kind-list', 104), 45, 'kind list: the first kind of the list fires the rule');
SELECT is(pg_temp.score('kind-list', 101), 0, 'kind list: a kind not in the list does not');
SELECT is(pg_temp.score('source', 105), 25, 'source: an enforcement signal fires a rule for [enforcement, utility]');
SELECT is(pg_temp.score('source', 106), 25, 'source: a utility signal fires it too');
SELECT is(pg_temp.score('source', 102), 0, 'source: a landlord signal does not');
SELECT is(pg_temp.score('within', 107), 10, 'within 60d: a signal exactly 60 days old counts');
SELECT is(pg_temp.score('within', 108), 0, 'within 60d: a signal 61 days old does not');
SELECT is(pg_temp.score('deadline-within', 109), 80, 'deadline_within 14d: a deadline today counts');
SELECT is(pg_temp.score('deadline-within', 110), 80, 'deadline_within 14d: a deadline on the 14th day counts');
SELECT is(pg_temp.score('deadline-within', 111), 0, 'deadline_within 14d: a deadline on the 15th day does not');
SELECT is(pg_temp.score('deadline-within', 112), 0, 'deadline_within 14d: a deadline yesterday does not');
SELECT is(pg_temp.score('deadline-within', 102), 0, 'deadline_within 14d: a signal without deadline does not');
SELECT is(pg_temp.score('deadline-passed', 112), 15, 'deadline_passed true: a deadline yesterday has passed');
SELECT is(pg_temp.score('deadline-passed', 109), 0, 'deadline_passed true: a deadline today has not passed');
SELECT is(pg_temp.score('deadline-ahead', 109), 40, 'deadline_passed false: a deadline today has not passed');
SELECT is(pg_temp.score('deadline-ahead', 111), 40, 'deadline_passed false: a deadline in 15 days has not passed');
SELECT is(pg_temp.score('deadline-ahead', 112), 0, 'deadline_passed false: a deadline yesterday has passed');
-- A signal without deadline meets neither deadline_passed: true nor false.
SELECT is(pg_temp.score('deadline-passed', 102) + pg_temp.score('deadline-ahead', 102), 0,
          'deadline_passed: a signal without a deadline meets neither true nor false');
SELECT is(pg_temp.score('count', 113), 0, 'count_at_least 3: two signals are not enough');
SELECT is(pg_temp.score('count', 114), 30, 'count_at_least 3: three signals are');
SELECT is(pg_temp.score('amount', 115), 10, 'amount_at_least 20000.00: an amount of exactly 20000.00 counts');
SELECT is(pg_temp.score('amount', 116), 0, 'amount_at_least 20000.00: 19999.99 does not');
SELECT is(pg_temp.score('amount', 102), 0, 'amount_at_least: a signal without amount does not');
SELECT is(pg_temp.score('months', 117), 12, 'months_at_least 3: three months count');
SELECT is(pg_temp.score('months', 118), 0, 'months_at_least 3: two months do not');
SELECT is(pg_temp.score('children', 119), 20, 'children_at_least 2: a household with two children');
SELECT is(pg_temp.score('children', 120), 0, 'children_at_least 2: not one with one child');
SELECT is(pg_temp.score('children', 121), NULL::integer,
          'children_at_least 2: three children but no signal in the window: not scored at all');
SELECT is(pg_temp.score('kind-arrears', 122), 10, 'window 365d: a signal exactly 365 days old counts');
SELECT is(pg_temp.score('kind-arrears', 123), NULL::integer, 'window 365d: a signal 366 days old does not: not scored');
SELECT is(pg_temp.score('window30', 124), 10, 'window 30d: a signal exactly 30 days old counts');
SELECT is(pg_temp.score('window30', 125), NULL::integer, 'window 30d: a signal 31 days old does not');
SELECT is(pg_temp.score('within-beyond-window', 125), NULL::integer,
          'window 30d: a rule''s within 60d does not reach beyond the window');
SELECT is(pg_temp.score('kind-arrears', 122, 1), NULL::integer, 'window 365d: the next day the 365-day-old signal is out');

-- Scope: every household (NULL) gives the same as the households listed;
-- a list gives those households alone.
SELECT results_eq($$SELECT * FROM bokvar.score_compute(pg_temp.v('kind-arrears'), NULL, '2026-03-10') ORDER BY 1$$,
                  $$SELECT * FROM bokvar.score_compute(pg_temp.v('kind-arrears'), ARRAY(SELECT id FROM bokvar.household),
                                                       '2026-03-10') ORDER BY 1$$,
                  'score_compute: all households (NULL) gives the same as listing every household');
SELECT results_eq($$SELECT household_id FROM bokvar.score_compute(pg_temp.v('kind-arrears'), ARRAY[102, 102, 123, 999], '2026-03-10')$$,
                  $$VALUES (102::bigint)$$,
                  'score_compute: only listed households with signals in the window, each once');

-- =====================================================================
-- 2. Combinations: all conditions hold on the same signals.
INSERT INTO bokvar.household (id, children) VALUES
        (131, 0), (132, 0), (133, 0), (134, 0), (135, 0), (136, 1), (137, 0), (138, 2), (139, 0);
SELECT pg_temp.sig(1311, 131, 'termination_notice', 10, p_amount => 30000);
SELECT pg_temp.sig(1321, 132, 'termination_notice', 10, p_amount => 5000);
SELECT pg_temp.sig(1322, 132, 'arrears', 10, p_amount => 30000);
SELECT pg_temp.sig(1331, 133, 'termination_notice', 70, p_amount => 30000);
SELECT pg_temp.sig(1332, 133, 'termination_notice', 10, p_amount => 5000);
SELECT pg_temp.sig(1341, 134, 'arrears', 10);
SELECT pg_temp.sig(1342, 134, 'arrears', 70);
SELECT pg_temp.sig(1343, 134, 'termination_notice', 5);
SELECT pg_temp.sig(1351, 135, 'arrears', 10);
SELECT pg_temp.sig(1352, 135, 'arrears', 60);
SELECT pg_temp.sig(1361, 136, 'arrears', 10);
SELECT pg_temp.sig(1371, 137, 'arrears', 10);
SELECT pg_temp.sig(1381, 138, 'termination_notice', 10);
SELECT pg_temp.sig(1382, 138, 'arrears', 10, p_source => 'enforcement');
-- Inserted out of order: the explanation lists them by id.
SELECT pg_temp.sig(1394, 139, 'arrears', 1);
SELECT pg_temp.sig(1391, 139, 'arrears', 40);
SELECT pg_temp.sig(1393, 139, 'arrears', 2);
SELECT pg_temp.sig(1392, 139, 'arrears', 3);
SELECT pg_temp.sig(1395, 139, 'termination_notice', 3);

SELECT pg_temp.one('comb-notice', '{"kind": ["termination_notice"], "amount_at_least": "20000.00", "within_days": 60}', 50);
SELECT pg_temp.one('comb-count', '{"kind": ["arrears"], "within_days": 60, "count_at_least": 2}', 30);
SELECT pg_temp.one('comb-home', '{"kind": ["arrears"], "source": ["landlord"], "children_at_least": 1}', 20);

SELECT is(pg_temp.score('comb-notice', 131), 50, 'kind + amount + within on one signal: fires');
SELECT is(pg_temp.score('comb-notice', 132), 0, 'the kind on one signal and the amount on another: does not fire');
SELECT is(pg_temp.score('comb-notice', 133), 0, 'the amount on an old signal and the age on a small one: does not fire');
SELECT is(pg_temp.score('comb-count', 134), 0,
          'count_at_least 2 counts only signals meeting kind and within: one of three does not fire');
SELECT is(pg_temp.score('comb-count', 135), 30, 'count_at_least 2: two arrears within 60 days fire');
SELECT is(pg_temp.score('comb-home', 136), 20, 'signal conditions and children_at_least, both met: fires');
SELECT is(pg_temp.score('comb-home', 137), 0, 'signal conditions met, no children: does not fire');
SELECT is(pg_temp.score('comb-home', 138), 0,
          'children met, but kind and source met only by different signals: does not fire');
SELECT is(pg_temp.score('kind-arrears', 139), 10, 'four matching signals: the rule fires once, its points once');
SELECT is(pg_temp.explanation('kind-arrears', 139),
          '[{"rule": "kind-arrears", "description": null, "points": 10, "signals": [1391, 1392, 1393, 1394]}]'::jsonb,
          'the explanation lists every matching signal, by ascending id, and no other');

-- =====================================================================
-- 3. Increments (per) and negative points.
INSERT INTO bokvar.household (id, children) VALUES
        (141, 0), (142, 0), (143, 0), (144, 0), (145, 0), (146, 0), (147, 1), (148, 3), (149, 10), (150, 0),
        (151, NULL), (152, 0), (153, 0), (154, 0), (155, 0), (156, 0), (157, 0), (158, 0), (159, 0), (160, 0),
        (161, 0), (162, 0), (163, 0);
SELECT pg_temp.sig(1411, 141, 'arrears', 5, p_amount => 29999.99);
SELECT pg_temp.sig(1421, 142, 'arrears', 5, p_amount => 30000.00);
SELECT pg_temp.sig(1431, 143, 'arrears', 5, p_amount => 25000);
SELECT pg_temp.sig(1432, 143, 'termination_notice', 5, p_amount => 45000);
SELECT pg_temp.sig(1433, 143, 'disturbance', 5, p_amount => 200000);
SELECT pg_temp.sig(1434, 143, 'arrears', 5, p_amount => 1000);
SELECT pg_temp.sig(1441, 144, 'arrears', 5, p_amount => 1000000);
SELECT pg_temp.sig(1451, 145, 'arrears', 5, p_amount => 19999.99);
SELECT pg_temp.sig(1461, 146, 'arrears', 5, p_amount => 2500.50);
SELECT pg_temp.sig(i * 10 + 1, i, 'disturbance', 5) FROM generate_series(147, 151) i;
SELECT pg_temp.sig(1521, 152, 'arrears', 5);
SELECT pg_temp.sig(1522, 152, 'arrears', 6);
SELECT pg_temp.sig(1530 + i, 153, 'arrears', i) FROM generate_series(1, 3) i;
SELECT pg_temp.sig(1540 + i, 154, 'arrears', i) FROM generate_series(1, 5) i;
SELECT pg_temp.sig(1551, 155, 'arrears', 5, p_months => 2);
SELECT pg_temp.sig(1561, 156, 'arrears', 5, p_months => 3);
SELECT pg_temp.sig(1562, 156, 'arrears', 6, p_months => 5);
SELECT pg_temp.sig(1563, 156, 'termination_notice', 6, p_months => 9);
SELECT pg_temp.sig(1571, 157, 'arrears', 5, p_months => 12);
SELECT pg_temp.sig(1581, 158, 'arrears', 40);
SELECT pg_temp.sig(1582, 158, 'resolved', 30);
SELECT pg_temp.sig(1591, 159, 'arrears', 40);
SELECT pg_temp.sig(1592, 159, 'resolved', 31);
SELECT pg_temp.sig(1601, 160, 'resolved', 5, p_amount => 500);
SELECT pg_temp.sig(1611, 161, 'resolved', 5, p_amount => 10000);
SELECT pg_temp.sig(1621, 162, 'arrears', 5, p_amount => 3000000000.00);
SELECT pg_temp.sig(1631, 163, 'arrears', 5, p_amount => 7);

SELECT pg_temp.one('large-debt', '{"kind": ["arrears", "termination_notice"], "amount_at_least": "20000.00"}', 10,
                   '{"unit": "amount", "step": "10000.00", "points": 5, "max": 25}');
SELECT pg_temp.one('per-amount-free', '{"kind": ["arrears"]}', 0, '{"unit": "amount", "step": "1000.00", "points": 1, "max": 100}');
SELECT pg_temp.one('per-child', '{"children_at_least": 1}', 20, '{"unit": "child", "step": 1, "points": 5, "max": 20}');
SELECT pg_temp.one('per-child-two', '{"children_at_least": 1}', 10, '{"unit": "child", "step": 2, "points": 5, "max": 100}');
SELECT pg_temp.one('per-signal', '{"kind": ["arrears"], "count_at_least": 2}', 10,
                   '{"unit": "signal", "step": 1, "points": 3, "max": 6}');
SELECT pg_temp.one('per-signal-any', '{"kind": ["arrears"]}', 10, '{"unit": "signal", "step": 1, "points": 2, "max": 100}');
SELECT pg_temp.one('per-month', '{"kind": ["arrears"], "months_at_least": 2}', 10,
                   '{"unit": "month", "step": 1, "points": 2, "max": 10}');
SELECT pg_temp.ruleset('paid', '[{"name": "arrears", "points": 10, "when": {"_": 0, "kind": ["arrears"]}},
                                 {"name": "paid", "points": -40, "when": {"_": 0, "kind": ["resolved"], "within_days": 30}}]');
SELECT pg_temp.one('neg-per', '{"kind": ["resolved"]}', -40, '{"unit": "amount", "step": "1000.00", "points": -5, "max": -20}');
SELECT pg_temp.one('neg-per-abs', '{"kind": ["resolved"]}', -40, '{"unit": "amount", "step": "1000.00", "points": -5, "max": 20}');
SELECT pg_temp.one('per-fine', '{"kind": ["arrears"]}', 10, '{"unit": "amount", "step": "1.00", "points": 1, "max": 25}');

SELECT is(pg_temp.score('large-debt', 141), 10, 'per amount: 9999.99 beyond the threshold is no full step: no increment');
SELECT is(pg_temp.score('large-debt', 142), 15, 'per amount: exactly one step beyond: one increment');
SELECT is(pg_temp.score('large-debt', 143), 20,
          'per amount: the largest amount among the matching signals (45000, not the disturbance''s 200000): two steps');
SELECT is((pg_temp.explanation('large-debt', 143) -> 0 -> 'signals'), '[1431, 1432]'::jsonb,
          'per amount: the signals are those meeting the amount condition, not the small arrears or the disturbance');
SELECT is(pg_temp.score('large-debt', 144), 35, 'per amount: capped at max (98 steps, 25 points)');
SELECT is(pg_temp.score('large-debt', 145), 0, 'per amount: below amount_at_least the rule does not fire at all');
SELECT is(pg_temp.score('per-amount-free', 146), 2, 'per amount without amount_at_least: steps counted from 0');
SELECT is(pg_temp.score('per-child', 147), 20, 'per child: one child, at children_at_least: no increment');
SELECT is(pg_temp.score('per-child', 148), 30, 'per child: three children: two increments');
SELECT is(pg_temp.score('per-child', 149), 40, 'per child: ten children: capped at max 20');
SELECT is(pg_temp.score('per-child', 150), 0, 'per child: no children: the rule does not fire');
SELECT is(pg_temp.score('per-child', 151), 0, 'per child: children unknown (NULL): the rule does not fire');
SELECT is(pg_temp.score('per-child-two', 149), 30, 'per child step 2: nine children beyond the first are four full steps');
SELECT is(pg_temp.score('per-signal', 152), 10, 'per signal: two signals at count_at_least 2: no increment');
SELECT is(pg_temp.score('per-signal', 153), 13, 'per signal: three signals: one increment');
SELECT is(pg_temp.score('per-signal', 154), 16, 'per signal: five signals: three increments capped at max 6');
SELECT is(pg_temp.score('per-signal-any', 154), 18, 'per signal without count_at_least: increments beyond the first signal');
SELECT is(pg_temp.score('per-month', 155), 10, 'per month: two months at months_at_least 2: no increment');
SELECT is(pg_temp.score('per-month', 156), 16,
          'per month: the most months among matching signals (5, not the termination notice''s 9): three increments');
SELECT is(pg_temp.score('per-month', 157), 20, 'per month: twelve months: capped at max 10');
SELECT is(pg_temp.score('paid', 158), -30, 'negative points: a payment 30 days ago takes 40 off; the score goes below zero');
SELECT is((SELECT class::text FROM bokvar.score_compute(pg_temp.v('paid'), ARRAY[158::bigint], '2026-03-10')), 'none',
          'a score below zero is class none');
SELECT is(pg_temp.score('paid', 159), 10, 'negative points: a payment 31 days ago no longer counts');
-- Negative per points: max bounds the increments in their direction, and
-- nothing is added without a full step, whatever the sign of max.
SELECT is(pg_temp.score('neg-per', 160), -40,
          'per with negative points (max -20): no full step, no increment');
SELECT is(pg_temp.score('neg-per', 161), -60,
          'per with negative points (max -20): ten steps of -5 are capped at -20');
SELECT is(pg_temp.score('neg-per-abs', 161), -60,
          'per with negative points (max 20): ten steps of -5 are capped at 20 points');
-- Steps are counted in numeric before the cap: an amount of 3 000 000 000
-- (the ingest takes up to 10^12) with a step of 1.00 must not overflow an
-- integer and fail the scoring of every household in the call.
SELECT is(pg_temp.try_score('per-fine', 162), '35', 'per amount: a huge amount is capped at max, not an error');
SELECT lives_ok($$SELECT * FROM bokvar.score_compute(pg_temp.v('per-fine'), ARRAY[162, 163], '2026-03-10')$$,
                'per amount: one huge amount does not stop the scoring of other households');
SELECT is(pg_temp.try_score('per-fine', 163), '17', 'per amount step 1.00: an amount of 7 gives seven increments');

-- =====================================================================
-- 4. Household-only rules, thresholds, explanations, next deadline.
INSERT INTO bokvar.household (id, children) VALUES (164, 2);          -- no signal at all
INSERT INTO bokvar.household (id, children) VALUES
        (171, 0), (172, 0), (173, 0), (174, 0), (175, 0), (176, 0), (177, 0),
        (181, 2), (185, 0), (186, 0), (187, 0), (188, 0);

SELECT is(pg_temp.score('children', 164), NULL::integer, 'children_at_least: a household without any signal is not scored');
SELECT is(pg_temp.explanation('children', 119),
          '[{"rule": "children", "description": null, "points": 20, "signals": []}]'::jsonb,
          'a rule with household conditions only fires with an empty list of signals');

-- A ruleset whose score is the months in arrears: 0 points, 1 per month.
SELECT pg_temp.one('months-score', '{"kind": ["arrears"], "months_at_least": 0}', 0,
                   '{"unit": "month", "step": 1, "points": 1, "max": 1000}');
SELECT pg_temp.sig(i * 10 + 1, i, 'arrears', 5, p_months => m)
FROM (VALUES (171, 19), (172, 20), (173, 49), (174, 50), (175, 89), (176, 90), (177, 0)) x(i, m);
SELECT results_eq($$SELECT household_id, score, class::text
                    FROM bokvar.score_compute(pg_temp.v('months-score'), ARRAY[171, 172, 173, 174, 175, 176, 177], '2026-03-10')
                    ORDER BY 1$$,
                  $$VALUES (171::bigint, 19, 'none'), (172, 20, 'watch'), (173, 49, 'watch'), (174, 50, 'outreach'),
                           (175, 89, 'outreach'), (176, 90, 'urgent'), (177, 0, 'none')$$,
                  'thresholds 20/50/90: each class from exactly its threshold, the one below one point short');

-- The rules of the example in rules.yaml, out of alphabetical order.
SELECT pg_temp.ruleset('full', $$[
        {"name": "termination-notice", "description": "Lease terminated", "points": 50,
         "when": {"_": 0, "kind": ["termination_notice"], "within_days": 60}},
        {"name": "large-debt", "description": "A debt of 20 000 or more", "points": 10,
         "when": {"_": 0, "kind": ["arrears", "termination_notice"], "amount_at_least": "20000.00"},
         "per": {"unit": "amount", "step": "10000.00", "points": 5, "max": 25}},
        {"name": "children", "description": "Children live in the home", "points": 20,
         "when": {"_": 0, "children_at_least": 1}, "per": {"unit": "child", "step": 1, "points": 5, "max": 20}},
        {"name": "paid", "description": "The debt was paid", "points": -40,
         "when": {"_": 0, "kind": ["resolved"], "within_days": 30}}]$$);
SELECT pg_temp.sig(1811, 181, 'termination_notice', 10, 11, p_amount => 45000);
SELECT pg_temp.sig(1812, 181, 'arrears', 20, p_amount => 25000);
SELECT pg_temp.sig(1813, 181, 'resolved', 3);
SELECT results_eq($$SELECT household_id, score, class::text, next_deadline, explanation
                    FROM bokvar.score_compute(pg_temp.v('full'), ARRAY[181], '2026-03-10')$$,
                  $$VALUES (181::bigint, 55, 'outreach', DATE '2026-03-21', '[
                        {"rule": "termination-notice", "description": "Lease terminated", "points": 50, "signals": [1811]},
                        {"rule": "large-debt", "description": "A debt of 20 000 or more", "points": 20, "signals": [1811, 1812]},
                        {"rule": "children", "description": "Children live in the home", "points": 25, "signals": []},
                        {"rule": "paid", "description": "The debt was paid", "points": -40, "signals": [1813]}]'::jsonb)$$,
                  'explanation: every rule that fired, in rule order, with description, points including increments '
                  'and signals; the score is their sum');
SELECT is(pg_temp.explanation('kind-one', 102), '[]'::jsonb, 'explanation: no rule fired, an empty array');

SELECT pg_temp.sig(1851, 185, 'arrears', 5, -1);
SELECT pg_temp.sig(1852, 185, 'arrears', 5, 5);
SELECT pg_temp.sig(1853, 185, 'arrears', 5, 0);
SELECT pg_temp.sig(1861, 186, 'arrears', 5, 10);
SELECT pg_temp.sig(1862, 186, 'disturbance', 5, 3);
SELECT pg_temp.sig(1871, 187, 'arrears', 5);
SELECT pg_temp.sig(1881, 188, 'arrears', 5, -2);
SELECT results_eq($$SELECT household_id, next_deadline
                    FROM bokvar.score_compute(pg_temp.v('kind-one'), ARRAY[185, 186, 187, 188], '2026-03-10') ORDER BY 1$$,
                  $$VALUES (185::bigint, DATE '2026-03-10'), (186, DATE '2026-03-13'), (187, NULL), (188, NULL)$$,
                  'next_deadline: the nearest deadline today or later, of any signal; none when all passed or none given');

-- =====================================================================
-- 5. score_apply stores scores; priority over them.
INSERT INTO bokvar.household (id, children) VALUES
        (201, 0), (202, 2), (203, 0), (204, 1), (205, 1), (206, 3), (207, 1), (208, 0), (209, 4), (210, NULL);
SELECT pg_temp.sig(i * 10 + 1, i, 'arrears', 5, d, p_months => m)
FROM (VALUES (201, 95, 5), (202, 60, 20), (203, 70, 1), (204, 55, 10), (205, 80, 10), (206, 60, 10), (207, 60, 10),
             (208, 89, NULL), (209, 5, 0), (210, 60, 10)) x(i, m, d);
SELECT pg_temp.one('prio', '{"kind": ["arrears"], "months_at_least": 0}', 0,
                   '{"unit": "month", "step": 1, "points": 1, "max": 1000}');
SELECT is(bokvar.score_apply(ARRAY(SELECT generate_series(201, 210)::bigint), '2026-03-10'), 10,
          'score_apply: ten new scores');
SELECT results_eq($$SELECT household_id, score, class::text, ruleset_version, next_deadline, as_of
                    FROM bokvar.score WHERE household_id IN (201, 208, 209) ORDER BY 1$$,
                  $$VALUES (201::bigint, 95, 'urgent', pg_temp.v('prio'), DATE '2026-03-15', DATE '2026-03-10'),
                           (208, 89, 'outreach', pg_temp.v('prio'), NULL, DATE '2026-03-10'),
                           (209, 5, 'none', pg_temp.v('prio'), DATE '2026-03-10', DATE '2026-03-10')$$,
                  'score_apply: score, class, the active ruleset version, next deadline and the day');
SELECT is_empty($$SELECT 1 FROM bokvar.score WHERE household_id NOT BETWEEN 201 AND 210$$,
                'score_apply: only the households in scope are scored');
SELECT results_eq($$SELECT household_id FROM bokvar.household_priority WHERE household_id BETWEEN 201 AND 210
                    ORDER BY priority$$,
                  $$VALUES (201::bigint), (205), (206), (207), (204), (202), (210), (203), (208), (209)$$,
                  'priority: class first; then children present (not how many), nearest deadline, score, id; '
                  'unknown children after children, before none; no deadline comes last');
SELECT results_eq($$SELECT class::text, with_children, children, next_deadline, score, ruleset_version, explanation
                    FROM bokvar.household_priority WHERE household_id = 164$$,
                  $$VALUES ('none', true, 2, NULL::date, 0, NULL::integer, NULL::jsonb)$$,
                  'priority: a household never scored is class none, score 0');

-- =====================================================================
-- 6. History and score_at; a rescore that changes nothing.
INSERT INTO bokvar.household (id, children) VALUES (301, 0);
SELECT pg_temp.ruleset('hist', '[{"name": "arrears", "description": "A reminder", "points": 10, "when": {"_": 0, "kind": ["arrears"]}},
                                 {"name": "notice", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}}]');
SELECT pg_temp.sig(3011, 301, 'arrears', 5);
INSERT INTO mark VALUES ('before', clock_timestamp());
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-10'), 1, 'history: a first score');
SELECT results_eq($$SELECT as_of, score, class::text, ruleset_version, explanation
                    FROM bokvar.score_history WHERE household_id = 301$$,
                  $$VALUES (DATE '2026-03-10', 10, 'none', pg_temp.v('hist'),
                            '[{"rule": "arrears", "description": "A reminder", "points": 10, "signals": [3011]}]'::jsonb)$$,
                  'history: the first score is the first history row');
INSERT INTO mark SELECT 'first', scored_at FROM bokvar.score_history WHERE household_id = 301;
INSERT INTO mark SELECT 'first-row', scored_at FROM bokvar.score WHERE household_id = 301;
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-10'), 0, 'a rescore with nothing changed changes no score');
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-11'), 0, '... nor a day later');
SELECT results_eq($$SELECT scored_at, as_of FROM bokvar.score WHERE household_id = 301$$,
                  $$SELECT at, DATE '2026-03-10' FROM mark WHERE name = 'first-row'$$,
                  'a rescore with nothing changed leaves the score row as it was (scored_at, as_of)');
SELECT is((SELECT count(*)::integer FROM bokvar.score_history WHERE household_id = 301), 1,
          'a rescore with nothing changed writes no history');
INSERT INTO mark VALUES ('between', clock_timestamp());
SELECT pg_temp.sig(3012, 301, 'termination_notice', 3);
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-12'), 1, 'history: a new signal changes the score');
INSERT INTO mark SELECT 'second', max(scored_at) FROM bokvar.score_history WHERE household_id = 301;
INSERT INTO mark VALUES ('after', clock_timestamp());
SELECT results_eq($$SELECT as_of, score, class::text FROM bokvar.score_history WHERE household_id = 301 ORDER BY scored_at$$,
                  $$VALUES (DATE '2026-03-10', 10, 'none'), (DATE '2026-03-12', 60, 'outreach')$$,
                  'history: a row per change');
SELECT is_empty($$SELECT * FROM bokvar.score_at(301, (SELECT at FROM mark WHERE name = 'before'))$$,
                'score_at: nothing before the first score');
SELECT results_eq($$SELECT score, class::text, ruleset_version FROM bokvar.score_at(301, (SELECT at FROM mark WHERE name = 'first'))$$,
                  $$VALUES (10, 'none', pg_temp.v('hist'))$$, 'score_at: at the moment of the first score, the first');
SELECT results_eq($$SELECT score, explanation FROM bokvar.score_at(301, (SELECT at FROM mark WHERE name = 'between'))$$,
                  $$VALUES (10, '[{"rule": "arrears", "description": "A reminder", "points": 10, "signals": [3011]}]'::jsonb)$$,
                  'score_at: between the two, the first, with its explanation');
SELECT results_eq($$SELECT scored_at, score, class::text FROM bokvar.score_at(301, (SELECT at FROM mark WHERE name = 'second'))$$,
                  $$SELECT at, 60, 'outreach' FROM mark WHERE name = 'second'$$,
                  'score_at: at the moment of the second score, the second');
SELECT results_eq($$SELECT score FROM bokvar.score_at(301, (SELECT at FROM mark WHERE name = 'after'))$$,
                  $$VALUES (60)$$, 'score_at: after the last, the last');
-- A nearer deadline alone changes the stored score row but not the history.
SELECT pg_temp.sig(3013, 301, 'disturbance', 1, 30);
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-12'), 1, 'a new deadline alone changes the score row');
SELECT results_eq($$SELECT next_deadline, score FROM bokvar.score WHERE household_id = 301$$,
                  $$VALUES (DATE '2026-04-09', 60)$$, 'the score row has the new next deadline');
SELECT is((SELECT count(*)::integer FROM bokvar.score_history WHERE household_id = 301), 2,
          'a deadline alone writes no history (no score, class or explanation changed)');
-- Another ruleset that scores the household the same: the version is part of the record.
SELECT pg_temp.ruleset('hist2', '[{"name": "arrears", "description": "A reminder", "points": 10, "when": {"_": 0, "kind": ["arrears"]}},
                                  {"name": "notice", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}},
                                  {"name": "sanitary", "points": 5, "when": {"_": 0, "kind": ["sanitary"]}}]');
SELECT is(bokvar.score_apply(ARRAY[301::bigint], '2026-03-12'), 1, 'a new ruleset version rewrites the score');
SELECT results_eq($$SELECT score, ruleset_version FROM bokvar.score_history WHERE household_id = 301 ORDER BY scored_at DESC LIMIT 1$$,
                  $$VALUES (60, pg_temp.v('hist2'))$$, 'history: the same score under a new version is a new row');

-- The signals a rule fires on change while their number, the newest of them
-- and the points stay the same: the stored explanation must still be the
-- one of the day. 3111's deadline passes as 3112's comes within 14 days.
INSERT INTO bokvar.household (id, children) VALUES (311, 0);
SELECT pg_temp.one('soon', '{"deadline_within_days": 14}', 80);
SELECT pg_temp.sig(3111, 311, 'utility_disconnection', 20, 1, p_source => 'utility');
SELECT pg_temp.sig(3112, 311, 'termination_notice', 6, 15);
SELECT pg_temp.sig(3113, 311, 'termination_notice', 16, 5);
SELECT is(bokvar.score_apply(ARRAY[311::bigint], '2026-03-10'), 1, 'deadlines: a first score');
SELECT is((SELECT explanation FROM bokvar.score WHERE household_id = 311),
          '[{"rule": "soon", "description": null, "points": 80, "signals": [3111, 3113]}]'::jsonb,
          'deadlines within 14 days of 10 March: 3111 (11 March) and 3113 (15 March)');
SELECT is(bokvar.score_apply(ARRAY[311::bigint], '2026-03-12'), 1, 'on 12 March the score row changes (nearest deadline)');
-- The rule now fires on {3112, 3113} instead of {3111, 3113}: same count,
-- same largest id, same points. The fingerprint covers the set of signals,
-- so the stored explanation and the history follow.
SELECT is((SELECT explanation FROM bokvar.score WHERE household_id = 311),
          '[{"rule": "soon", "description": null, "points": 80, "signals": [3112, 3113]}]'::jsonb,
          'on 12 March the stored explanation names 3112 (deadline 25 March) and 3113, no longer 3111');
SELECT is((SELECT explanation FROM bokvar.score_history WHERE household_id = 311 ORDER BY scored_at DESC LIMIT 1),
          '[{"rule": "soon", "description": null, "points": 80, "signals": [3112, 3113]}]'::jsonb,
          'on 12 March the history has the new explanation');

-- =====================================================================
-- 7. ruleset_load: versions, activation, audit log.
CREATE TEMP TABLE load_result (step text PRIMARY KEY, version integer, new boolean, active_before integer);
CREATE FUNCTION pg_temp.load_step(p_step text, p_rules jsonb, p_text text, p_activate boolean) RETURNS void
LANGUAGE sql AS $$
        INSERT INTO pg_temp.load_result
        SELECT p_step, l.version, l.new, (SELECT version FROM bokvar.ruleset_active)
        FROM bokvar.ruleset_load(p_rules, p_text, '/etc/bokvar/rules.yaml', 'anna.k', p_activate) l
$$;
INSERT INTO rs VALUES ('one-json', 0, $${"window_days": 200, "thresholds": {"watch": 10, "outreach": 40, "urgent": 80},
        "rules": [{"name": "notice", "description": "A notice", "points": 50, "when": {"_": 0, "kind": ["termination_notice"], "within_days": 60}}]}$$);
SELECT pg_temp.load_step('one', (SELECT j FROM rs WHERE name = 'one-json'), 'rules: [notice]', true);
SELECT results_eq($$SELECT new, version > active_before, version = (SELECT version FROM bokvar.ruleset_active)
                    FROM load_result WHERE step = 'one'$$,
                  $$VALUES (true, true, true)$$, 'ruleset_load: new rules are a new version, made active');
SELECT results_eq($$SELECT loaded_by, source_file, source_text, digest, window_days, watch, outreach, urgent
                    FROM bokvar.ruleset WHERE version = (SELECT version FROM load_result WHERE step = 'one')$$,
                  $$SELECT 'anna.k', '/etc/bokvar/rules.yaml', 'rules: [notice]', md5(j::text), 200, 10, 40, 80
                    FROM rs WHERE name = 'one-json'$$,
                  'ruleset_load: the ruleset row keeps who, the file, its text, the digest, the window and thresholds');
-- The same rules, keys in another order, from a file with other comments.
SELECT pg_temp.load_step('same', $${"rules": [{"when": {"within_days": 60, "kind": ["termination_notice"], "_": 0}, "points": 50,
        "description": "A notice", "name": "notice"}], "thresholds": {"urgent": 80, "outreach": 40, "watch": 10}, "window_days": 200}$$,
        '# a comment' || chr(10) || 'rules: [notice]', true);
SELECT results_eq($$SELECT version, new FROM load_result WHERE step = 'same'$$,
                  $$SELECT version, false FROM load_result WHERE step = 'one'$$,
                  'ruleset_load: the same rules again give the same version, new = false');
SELECT is((SELECT count(*)::integer FROM bokvar.ruleset WHERE loaded_by = 'anna.k'), 1,
          'ruleset_load: the same rules again add no ruleset row');
SELECT pg_temp.load_step('preview', $${"window_days": 200, "thresholds": {"watch": 10, "outreach": 40, "urgent": 80},
        "rules": [{"name": "notice", "description": "A notice", "points": 60, "when": {"_": 0, "kind": ["termination_notice"], "within_days": 60}}]}$$,
        'rules: [notice 60]', false);
SELECT results_eq($$SELECT p.new, p.version > o.version, (SELECT version FROM bokvar.ruleset_active) = o.version
                    FROM load_result p, load_result o WHERE p.step = 'preview' AND o.step = 'one'$$,
                  $$VALUES (true, true, true)$$,
                  'ruleset_load with p_activate false: a new version, the active one unchanged');
SELECT pg_temp.load_step('two', $${"window_days": 200, "thresholds": {"watch": 10, "outreach": 40, "urgent": 80},
        "rules": [{"name": "notice", "description": "A notice", "points": 70, "when": {"_": 0, "kind": ["termination_notice"], "within_days": 60}}]}$$,
        'rules: [notice 70]', true);
SELECT results_eq($$SELECT t.new, t.version > p.version, (SELECT version FROM bokvar.ruleset_active) = t.version
                    FROM load_result t, load_result p WHERE t.step = 'two' AND p.step = 'preview'$$,
                  $$VALUES (true, true, true)$$, 'ruleset_load: different rules are a new version, made active');
SELECT results_eq($$SELECT a.action, a.subject, a.detail
                    FROM bokvar.audit_log a WHERE a.actor = 'anna.k' ORDER BY a.id$$,
                  $$SELECT CASE WHEN l.step = 'preview' THEN 'rules.preview' ELSE 'rules.load' END, l.version::text,
                           jsonb_build_object('file', '/etc/bokvar/rules.yaml', 'digest', r.digest, 'previous', l.active_before)
                    FROM load_result l JOIN bokvar.ruleset r ON r.version = l.version
                    WHERE l.new ORDER BY l.version$$,
                  'audit log: a row per new version (rules.load, or rules.preview when not activated) with the file, '
                  'digest and the version in force before; none for the same rules again');
SELECT results_eq($$SELECT position, name, description, kinds::text[], sources::text[], within_days, deadline_within_days,
                           deadline_passed, count_at_least, amount_at_least, months_at_least, children_at_least, points,
                           per_unit, per_step, per_points, per_max
                    FROM bokvar.rule WHERE version = pg_temp.v('full') ORDER BY position$$,
                  $$VALUES (1, 'termination-notice', 'Lease terminated', ARRAY['termination_notice'], NULL::text[], 60,
                            NULL::integer, NULL::boolean, NULL::integer, NULL::numeric, NULL::integer, NULL::integer, 50,
                            NULL::text, NULL::numeric, NULL::integer, NULL::integer),
                           (2, 'large-debt', 'A debt of 20 000 or more', ARRAY['arrears', 'termination_notice'], NULL, NULL,
                            NULL, NULL, NULL, 20000.00, NULL, NULL, 10, 'amount', 10000.00, 5, 25),
                           (3, 'children', 'Children live in the home', NULL, NULL, NULL,
                            NULL, NULL, NULL, NULL, NULL, 1, 20, 'child', 1, 5, 20),
                           (4, 'paid', 'The debt was paid', ARRAY['resolved'], NULL, 30,
                            NULL, NULL, NULL, NULL, NULL, NULL, -40, NULL, NULL, NULL, NULL)$$,
                  'ruleset_load: each rule a typed row, in file order; absent conditions NULL');
SELECT results_eq($$SELECT sources::text[], deadline_within_days, deadline_passed, count_at_least, months_at_least
                    FROM bokvar.rule WHERE version IN (pg_temp.v('source'), pg_temp.v('deadline-within'),
                                                      pg_temp.v('deadline-ahead'), pg_temp.v('count'), pg_temp.v('months'))
                    ORDER BY version$$,
                  $$VALUES (ARRAY['enforcement', 'utility'], NULL::integer, NULL::boolean, NULL::integer, NULL::integer),
                           (NULL, 14, NULL, NULL, NULL), (NULL, NULL, false, NULL, NULL), (NULL, NULL, NULL, 3, NULL),
                           (NULL, NULL, NULL, NULL, 3)$$,
                  'ruleset_load: source, deadline_within_days, deadline_passed, count_at_least, months_at_least are read');

-- =====================================================================
-- 8. rescore_all. The signals and scores so far are cleared: the earlier
-- households stay (tasks may refer to them) but are out of every scope.
DELETE FROM bokvar.signal;
DELETE FROM bokvar.score;
DELETE FROM bokvar.score_history;
INSERT INTO bokvar.household (id, children) VALUES (401, 0), (402, 0), (403, 0), (404, 0);
SELECT pg_temp.ruleset('daily', '[{"name": "arrears", "points": 30, "when": {"_": 0, "kind": ["arrears"]}},
                                  {"name": "notice", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}}]');
SELECT pg_temp.sig(4011, 401, 'arrears', 300);
SELECT pg_temp.sig(4021, 402, 'termination_notice', 10);
SELECT pg_temp.sig(4031, 403, 'disturbance', 10);
SELECT pg_temp.sig(4041, 404, 'disturbance', 200, 200);

SELECT is(bokvar.rescore_all(false, '2026-03-10'), 4, 'rescore_all: every household with a signal in the window is scored');
SELECT results_eq($$SELECT household_id, score, class::text, next_deadline FROM bokvar.score ORDER BY 1$$,
                  $$VALUES (401::bigint, 30, 'watch', NULL::date), (402, 50, 'outreach', NULL), (403, 0, 'none', NULL),
                           (404, 0, 'none', DATE '2026-09-26')$$,
                  'rescore_all: the scores');
SELECT is((SELECT full_rescore_as_of FROM bokvar.scoring_state), DATE '2026-03-10', 'rescore_all: the day is recorded');
SELECT is(bokvar.rescore_all(false, '2026-03-10'), NULL::integer, 'rescore_all: a second call the same day returns NULL');
SELECT pg_temp.sig(4022, 402, 'arrears', 1);
SELECT is(bokvar.rescore_all(false, '2026-03-10'), NULL::integer, 'rescore_all: ... even after a new signal');
SELECT is((SELECT score FROM bokvar.score WHERE household_id = 402), 50, '... and does nothing');
SELECT is(bokvar.rescore_all(true, '2026-03-10'), 1, 'rescore_all forced: rescores the same day');
SELECT is((SELECT score FROM bokvar.score WHERE household_id = 402), 80, 'rescore_all forced: the new score');
SELECT is((SELECT count(*)::integer FROM bokvar.score_history), 5, 'rescore_all: four first scores and one change in the history');
SELECT results_eq($$SELECT * FROM pg_temp.stored() ORDER BY 1$$, $$SELECT * FROM pg_temp.expected('2026-03-10') ORDER BY 1$$,
                  'rescore_all: every stored score is the one computed for the day');
SELECT is(bokvar.rescore_all(true, '2026-03-10'), 0, 'rescore_all forced again, nothing changed: no score changes');
SELECT is((SELECT count(*)::integer FROM bokvar.score_history), 5, '... and no history');
SELECT is(bokvar.rescore_all(false, '2026-05-15'), 1,
          'rescore_all on 15 May: one household changed (its only signal is 366 days old)');
SELECT results_eq($$SELECT score, class::text, explanation, next_deadline, as_of FROM bokvar.score WHERE household_id = 401$$,
                  $$VALUES (0, 'none', '[]'::jsonb, NULL::date, DATE '2026-05-15')$$,
                  'a household whose signals all left the window drops to score 0, class none, no explanation');
SELECT results_eq($$SELECT score, class::text FROM bokvar.score_history WHERE household_id = 401 ORDER BY scored_at$$,
                  $$VALUES (30, 'watch'), (0, 'none')$$, '... and the drop is in its history');
SELECT is(bokvar.rescore_all(false, '2026-05-15'), NULL::integer, 'rescore_all: once a day');
SELECT results_eq($$SELECT * FROM pg_temp.stored() ORDER BY 1$$, $$SELECT * FROM pg_temp.expected('2026-05-15') ORDER BY 1$$,
                  'rescore_all on 15 May: every stored score is the one computed for the day');
-- A household with score 0 and no explanation whose signals leave the
-- window must not keep its next deadline (here one that has passed since):
-- household_priority would rank it by it.
SELECT isnt(bokvar.rescore_all(false, '2026-10-01'), NULL, 'rescore_all on 1 October: a new day, a rescore');
SELECT results_eq($$SELECT household_id, next_deadline FROM bokvar.score WHERE household_id IN (401, 404) ORDER BY 1$$,
                  $$VALUES (401::bigint, NULL::date), (404, NULL)$$,
                  'a household whose signals left the window keeps no next deadline (404''s 26 September has passed)');
SELECT results_eq($$SELECT * FROM pg_temp.stored() ORDER BY 1$$, $$SELECT * FROM pg_temp.expected('2026-10-01') ORDER BY 1$$,
                  'rescore_all on 1 October: every stored score is the one computed for the day');
-- The same rescore in three steps, as bokvard runs it with the halves on
-- two connections: household 122 in the lower half of the ids, 402 and 403
-- (the others' signals have left the window) in the upper.
SELECT pg_temp.sig(1221, 122, 'termination_notice', 1);
SELECT pg_temp.sig(4023, 402, 'arrears', 2);
CREATE TEMP TABLE split AS SELECT * FROM bokvar.rescore_begin(false, '2026-10-02');
SELECT results_eq($$SELECT first_id, last_id, today, query IS NOT NULL FROM split$$,
                  $$SELECT min(id), max(id), DATE '2026-10-02', true FROM bokvar.household$$,
                  'rescore_begin on a new day: the range of household ids, the day, the query');
SELECT ok((SELECT 122 <= middle_id AND middle_id < 401 FROM split), '... and the middle of the range');
SELECT is((SELECT bokvar.score_part_compute(run, query, middle_id + 1, last_id, today) FROM split), 2::bigint,
          'score_part_compute: the upper half, computed first (as the second connection may be)');
SELECT is((SELECT bokvar.score_part_compute(run, query, first_id, middle_id, today) FROM split), 1::bigint,
          'score_part_compute: the lower half');
SELECT is((SELECT bokvar.rescore_finish(run, today) FROM split), 2, 'rescore_finish: 122 is new, 402 has a new signal');
SELECT results_eq($$SELECT * FROM pg_temp.stored() ORDER BY 1$$, $$SELECT * FROM pg_temp.expected('2026-10-02') ORDER BY 1$$,
                  'rescore in halves on 2 October: every stored score is the one computed for the day');
SELECT is((SELECT count(*)::integer FROM bokvar.score_part), 0, 'rescore_finish: score_part emptied');
SELECT is((SELECT full_rescore_as_of FROM bokvar.scoring_state), DATE '2026-10-02', 'rescore_finish: the day is recorded');
SELECT is((SELECT count(*)::integer FROM bokvar.rescore_begin(false, '2026-10-02')), 0,
          'rescore_begin: no row the same day');
SELECT is(bokvar.rescore_all(true, '2026-10-02'), 0, 'rescore_all forced after it, on one connection: nothing changed');
-- Rows a killed pass left behind (another run's) are not read, and go.
INSERT INTO bokvar.score_part VALUES (1, 122, 999, 'urgent', NULL, 1, '[]');
TRUNCATE split;
INSERT INTO split SELECT * FROM bokvar.rescore_begin(true, '2026-10-02');
SELECT is((SELECT bokvar.score_part_compute(run, query, first_id, last_id, today) FROM split), 3::bigint,
          'score_part_compute: the whole range on one connection');
SELECT is((SELECT bokvar.rescore_finish(run, today) FROM split), 0, 'rescore_finish: another run''s rows are not read');
SELECT is((SELECT count(*)::integer FROM bokvar.score_part), 0, '... and are gone after');

-- =====================================================================
-- 9. rules_diff: what a candidate ruleset would change, and what loading it does.
DELETE FROM bokvar.signal;
DELETE FROM bokvar.score;
DELETE FROM bokvar.score_history;
INSERT INTO bokvar.household (id, children) VALUES
        (501, 0), (502, 0), (503, 1), (504, 0), (505, 1), (506, 0), (507, 0), (508, 3), (509, 2), (510, 0);
SELECT pg_temp.sig(5011, 501, 'arrears', 10);
SELECT pg_temp.sig(5021, 502, 'termination_notice', 10);
SELECT pg_temp.sig(5031, 503, 'termination_notice', 10);
SELECT pg_temp.sig(5041, 504, 'eviction_application', 10, p_source => 'enforcement');
SELECT pg_temp.sig(5051, 505, 'termination_notice', 10);
SELECT pg_temp.sig(5052, 505, 'arrears', 10);
SELECT pg_temp.sig(5061, 506, 'disturbance', 10);
SELECT pg_temp.sig(5071, 507, 'arrears', 10);
SELECT pg_temp.sig(5072, 507, 'eviction_application', 10, p_source => 'enforcement');
SELECT pg_temp.sig(5073, 507, 'termination_notice', 10);
SELECT pg_temp.sig(5081, 508, 'arrears', 10);
SELECT pg_temp.sig(5091, 509, 'disturbance', 10);
SELECT pg_temp.sig(5101, 510, 'arrears', 300);
INSERT INTO rs VALUES ('d2-json', 0, $${"window_days": 200, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90}, "rules": [
        {"name": "termination", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}},
        {"name": "arrears", "points": 25, "when": {"_": 0, "kind": ["arrears"]}},
        {"name": "eviction", "points": 45, "when": {"_": 0, "kind": ["eviction_application"]}}]}$$);
SELECT pg_temp.load('d1', $${"window_days": 365, "thresholds": {"watch": 20, "outreach": 50, "urgent": 90}, "rules": [
        {"name": "termination", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}},
        {"name": "arrears", "points": 10, "when": {"_": 0, "kind": ["arrears"]}},
        {"name": "children", "points": 20, "when": {"_": 0, "children_at_least": 1}}]}$$);
SELECT is(bokvar.rescore_all(true, '2026-03-10'), 10, 'rules_diff: ten households scored under the rules in force');
SELECT pg_temp.load('d2', (SELECT j FROM rs WHERE name = 'd2-json'), false);
SELECT is((SELECT version FROM bokvar.ruleset_active), pg_temp.v('d1'), 'rules_diff: the candidate is not in force');
CREATE TEMP TABLE before AS SELECT household_id, class, score FROM bokvar.score;
CREATE TEMP TABLE diff AS SELECT * FROM bokvar.rules_diff(pg_temp.v('d2'), '2026-03-10');
SELECT results_eq($$SELECT household_id, from_class::text, to_class::text, from_score, to_score, class_change,
                           rules_added, rules_removed
                    FROM diff ORDER BY household_id$$,
                  $$VALUES (501::bigint, 'none', 'watch', 10, 25, 1, ARRAY['arrears (25)'], ARRAY['arrears (10)']),
                           (503, 'outreach', 'outreach', 70, 50, 0, '{}', ARRAY['children (20)']),
                           (504, 'none', 'watch', 0, 45, 1, ARRAY['eviction (45)'], '{}'),
                           (505, 'outreach', 'outreach', 80, 75, 0, ARRAY['arrears (25)'], ARRAY['arrears (10)', 'children (20)']),
                           (507, 'outreach', 'urgent', 60, 120, 1, ARRAY['arrears (25)', 'eviction (45)'], ARRAY['arrears (10)']),
                           (508, 'watch', 'watch', 30, 25, 0, ARRAY['arrears (25)'], ARRAY['arrears (10)', 'children (20)']),
                           (509, 'watch', 'none', 20, 0, -1, '{}', ARRAY['children (20)']),
                           (510, 'none', 'none', 10, 0, 0, '{}', ARRAY['arrears (10)'])$$,
                  'rules_diff: exactly the households whose class or score would change, from/to, the rules added and removed '
                  '(502 and 506 stay as they are; 510 leaves the shorter window)');
SELECT is((SELECT count(*)::integer FROM bokvar.score WHERE ruleset_version = pg_temp.v('d1')), 10,
          'rules_diff changes no score');
SELECT is_empty($$SELECT * FROM bokvar.rules_diff(pg_temp.v('d1'), '2026-03-10')$$,
                'rules_diff of the rules in force: no change');
SELECT results_eq($$SELECT version, new FROM bokvar.ruleset_load((SELECT j FROM rs WHERE name = 'd1'), 'd1', 'd1.yaml', 'tap', false)$$,
                  $$VALUES (pg_temp.v('d1'), false)$$,
                  'ruleset_load with p_activate false of the rules in force: their version, new = false');
-- Now load the candidate for real and rescore the same day.
CREATE TEMP TABLE d2_loaded AS
SELECT * FROM bokvar.ruleset_load((SELECT j FROM rs WHERE name = 'd2-json'), 'd2', 'd2.yaml', 'tap');
SELECT results_eq($$SELECT new, version = (SELECT version FROM bokvar.ruleset_active) FROM d2_loaded$$,
                  $$VALUES (true, true)$$, 'the candidate loaded for real is in force');
SELECT is(bokvar.rescore_all(true, '2026-03-10'), 10, 'every household is rescored under the new version');
SELECT results_eq($$SELECT household_id, from_class::text, to_class::text, from_score, to_score FROM diff ORDER BY 1$$,
                  $$SELECT coalesce(b.household_id, s.household_id), coalesce(b.class, 'none')::text,
                           coalesce(s.class, 'none')::text, coalesce(b.score, 0), coalesce(s.score, 0)
                    FROM before b FULL JOIN bokvar.score s ON s.household_id = b.household_id
                    WHERE (coalesce(b.class, 'none'), coalesce(b.score, 0)) IS DISTINCT FROM
                          (coalesce(s.class, 'none'), coalesce(s.score, 0))
                    ORDER BY 1$$,
                  'rules_diff predicted exactly the classes and scores that loading and rescoring produced');
SELECT results_eq($$SELECT * FROM pg_temp.stored() ORDER BY 1$$, $$SELECT * FROM pg_temp.expected('2026-03-10') ORDER BY 1$$,
                  'every score now is the one computed under the new version, and carries that version');

-- Statistics before a large scoring (013's stats_refresh): a table whose
-- statistics say it is empty while it has pages, as a vacuum after a
-- rolled-back load leaves it, is analyzed; one whose statistics are fresh
-- is not; nor a small table.
CREATE TABLE pg_temp.stats_probe AS SELECT g AS id, repeat('x', 40) AS pad FROM generate_series(1, 20000) g;
ANALYZE pg_temp.stats_probe;
SELECT is(bokvar.stats_refresh(ARRAY['pg_temp.stats_probe']::regclass[]), 0, 'fresh statistics: not analyzed again');
UPDATE pg_class SET reltuples = 0 WHERE oid = 'pg_temp.stats_probe'::regclass;
SELECT is(bokvar.stats_refresh(ARRAY['pg_temp.stats_probe']::regclass[]), 1,
          'statistics of no rows over pages that hold 20 000: analyzed');
SELECT is((SELECT reltuples::integer FROM pg_class WHERE oid = 'pg_temp.stats_probe'::regclass), 20000,
          '... and the planner counts 20 000 rows again');
INSERT INTO pg_temp.stats_probe SELECT g, repeat('x', 40) FROM generate_series(20001, 200000) g;
SELECT is(bokvar.stats_refresh(ARRAY['pg_temp.stats_probe']::regclass[]), 1,
          'grown tenfold since its statistics (in this transaction): analyzed, its own rows counted');

-- 016: a rescore that changes a stored score rewrites it on its page (a
-- HOT update: no index of score holds the score or the class, and new
-- pages keep room, fillfactor 85).
SELECT pg_temp.ruleset('hot', '[{"name": "arrears", "points": 10, "when": {"_": 0, "kind": ["arrears"]}},
                                {"name": "notice", "points": 50, "when": {"_": 0, "kind": ["termination_notice"]}}]');
INSERT INTO bokvar.household (id, children) VALUES (391, 0);
SELECT pg_temp.sig(3911, 391, 'arrears', 5);
SELECT is(bokvar.score_apply(ARRAY[391::bigint], '2026-03-10'), 1, 'HOT: a first score');
CREATE TEMP TABLE hot_before AS
SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relid = 'bokvar.score'::regclass;
SELECT pg_temp.sig(3912, 391, 'termination_notice', 3);
SELECT is(bokvar.score_apply(ARRAY[391::bigint], '2026-03-10'), 1, '... a new signal changes it');
SELECT results_eq($$SELECT (x.n_tup_upd - b.n_tup_upd)::integer, (x.n_tup_hot_upd - b.n_tup_hot_upd)::integer
                    FROM pg_stat_xact_user_tables x, hot_before b WHERE x.relid = 'bokvar.score'::regclass$$,
                  $$VALUES (1, 1)$$, '... one update of the stored score, and a HOT one (no index entry written)');

SELECT * FROM finish();
ROLLBACK;
