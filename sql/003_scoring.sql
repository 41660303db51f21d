-- SPDX-License-Identifier: GPL-3.0-or-later
-- Risk scoring. Operators write rules in rules.yaml; bokvar checks them and
-- loads them here as a versioned ruleset of typed rows. One static query,
-- bokvar.score_compute(), scores households from those rows: no SQL is ever
-- built from a rules file. Every score keeps its explanation (which rules
-- fired, for how many points, on which signals) and its ruleset version;
-- changed scores go to the history, so a past score can be explained too.

CREATE TYPE bokvar.risk_class AS ENUM ('none', 'watch', 'outreach', 'urgent');

-- One row per loaded rules file that differed from the one before.
CREATE TABLE bokvar.ruleset (
        version integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        loaded_at timestamptz NOT NULL DEFAULT now(),
        loaded_by text NOT NULL,
        source_file text NOT NULL,
        source_text text NOT NULL,          -- the rules file as it was
        digest text NOT NULL,               -- md5 of the rules as data: a reload of the same rules is no new version
        window_days integer NOT NULL CHECK (window_days BETWEEN 1 AND 3660),
        watch integer NOT NULL,
        outreach integer NOT NULL,
        urgent integer NOT NULL,
        CHECK (watch <= outreach AND outreach <= urgent)
);

-- The one ruleset in force.
CREATE TABLE bokvar.ruleset_active (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        version integer NOT NULL REFERENCES bokvar.ruleset (version),
        since timestamptz NOT NULL DEFAULT now()
);

-- The rules of a ruleset, a typed column per condition; NULL means the
-- condition is not used. Nothing else can be a condition: in particular no
-- field that could carry a protected characteristic.
CREATE TABLE bokvar.rule (
        version integer NOT NULL REFERENCES bokvar.ruleset (version),
        position integer NOT NULL,           -- order in the file
        name text NOT NULL CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,63}$'),
        description text,
        kinds bokvar.signal_kind[],
        sources bokvar.feed_source[],
        within_days integer CHECK (within_days >= 0),             -- signal no older than this
        deadline_within_days integer CHECK (deadline_within_days >= 0),  -- deadline from today to today + this
        deadline_passed boolean,
        count_at_least integer CHECK (count_at_least >= 1),       -- matching signals needed
        amount_at_least numeric(14, 2),
        months_at_least integer,
        children_at_least integer,
        points integer NOT NULL,
        per_unit text CHECK (per_unit IN ('amount', 'child', 'signal', 'month')),
        per_step numeric(14, 2) CHECK (per_step > 0),
        per_points integer,
        per_max integer,
        PRIMARY KEY (version, position),
        UNIQUE (version, name)
);

-- Each household's score now.
CREATE TABLE bokvar.score (
        household_id bigint PRIMARY KEY,
        score integer NOT NULL,
        class bokvar.risk_class NOT NULL,
        ruleset_version integer NOT NULL,
        next_deadline date,                  -- the nearest deadline still ahead, for priority
        explanation jsonb NOT NULL,          -- [{rule, description, points, signals: [ids]}], in rule order
        fingerprint bigint,                  -- a hash of (rule, points, the signals it fired on) for every rule
                                             -- that fired: whether the explanation changed, seen cheaply
        as_of date NOT NULL,                 -- the day the score was computed for
        scored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX score_priority ON bokvar.score (class DESC, next_deadline, score DESC);

-- Every score a household had, from when it was computed until the next
-- differing one: "why was this family urgent on 3 March?"
CREATE TABLE bokvar.score_history (
        household_id bigint NOT NULL,
        scored_at timestamptz NOT NULL,
        as_of date NOT NULL,
        score integer NOT NULL,
        class bokvar.risk_class NOT NULL,
        ruleset_version integer NOT NULL,
        explanation jsonb NOT NULL,
        PRIMARY KEY (household_id, scored_at)
);

-- When everything was last rescored (the daemon does it daily: scores
-- depend on the date, as deadlines come nearer and signals grow old).
CREATE TABLE bokvar.scoring_state (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        full_rescore_at timestamptz,
        full_rescore_as_of date
);
INSERT INTO bokvar.scoring_state DEFAULT VALUES;

-- ---------------------------------------------------------------------

-- Loads a ruleset written by the daemon or bokvarctl from a checked rules
-- file: {"window_days": 365, "thresholds": {"watch": 20, ...}, "rules":
-- [{"name": ..., "when": {...}, "points": ..., "per": {...}}, ...]}.
-- The same rules as the active ones give the active version back (new =
-- false); different ones a new version, made active unless p_activate is
-- false (rules diff). Loading is logged in the audit log.
CREATE FUNCTION bokvar.ruleset_load(p_rules jsonb, p_source_text text, p_source_file text, p_actor text,
                                    p_activate boolean DEFAULT true, OUT version integer, OUT new boolean)
LANGUAGE plpgsql AS $$
DECLARE
        d text := md5(p_rules::text);
        active integer;
BEGIN
        -- Two daemons loading at once load one version.
        PERFORM pg_advisory_xact_lock(7243155003);
        SELECT a.version INTO active FROM bokvar.ruleset_active a;
        IF active IS NOT NULL AND (SELECT digest FROM bokvar.ruleset r WHERE r.version = active) = d THEN
                version := active;
                new := false;
                RETURN;
        END IF;

        INSERT INTO bokvar.ruleset (loaded_by, source_file, source_text, digest, window_days, watch, outreach, urgent)
        VALUES (p_actor, p_source_file, p_source_text, d, (p_rules ->> 'window_days')::integer,
                (p_rules #>> '{thresholds,watch}')::integer, (p_rules #>> '{thresholds,outreach}')::integer,
                (p_rules #>> '{thresholds,urgent}')::integer)
        RETURNING ruleset.version INTO version;

        INSERT INTO bokvar.rule (version, position, name, description, kinds, sources, within_days,
                                 deadline_within_days, deadline_passed, count_at_least, amount_at_least,
                                 months_at_least, children_at_least, points, per_unit, per_step, per_points, per_max)
        SELECT version, r.n, r.j ->> 'name', r.j ->> 'description',
               (SELECT array_agg(k::bokvar.signal_kind) FROM jsonb_array_elements_text(r.j #> '{when,kind}') k),
               (SELECT array_agg(k::bokvar.feed_source) FROM jsonb_array_elements_text(r.j #> '{when,source}') k),
               (r.j #>> '{when,within_days}')::integer, (r.j #>> '{when,deadline_within_days}')::integer,
               (r.j #>> '{when,deadline_passed}')::boolean, (r.j #>> '{when,count_at_least}')::integer,
               (r.j #>> '{when,amount_at_least}')::numeric, (r.j #>> '{when,months_at_least}')::integer,
               (r.j #>> '{when,children_at_least}')::integer, (r.j ->> 'points')::integer,
               r.j #>> '{per,unit}', (r.j #>> '{per,step}')::numeric, (r.j #>> '{per,points}')::integer,
               (r.j #>> '{per,max}')::integer
        FROM jsonb_array_elements(p_rules -> 'rules') WITH ORDINALITY r(j, n);

        IF p_activate THEN
                INSERT INTO bokvar.ruleset_active (version) VALUES (version)
                ON CONFLICT (only_one) DO UPDATE SET version = excluded.version, since = now();
        END IF;
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_actor, CASE WHEN p_activate THEN 'rules.load' ELSE 'rules.preview' END, version::text,
                jsonb_build_object('file', p_source_file, 'digest', d, 'previous', active));
        new := true;
END;
$$;

-- The score of every household in scope (households NULL: every household
-- with a signal in the window) under ruleset p_version, as of p_today.
-- Reads, never writes (but for its own temporary tables). A rule fires at
-- most once per household: its points, plus its per increments. Conditions
-- on signals are met by the household's signals within the window;
-- count_at_least asks for that many of them; children_at_least is about the
-- household. A rule with household conditions only fires for households
-- with any signal in the window. Without p_explain the explanation is left
-- out (NULL) and only its fingerprint computed: that is how a daily rescore
-- finds, cheaply, the few scores that changed.
CREATE FUNCTION bokvar.score_compute(p_version integer, p_households bigint[], p_today date,
                                     p_explain boolean DEFAULT true)
RETURNS TABLE (household_id bigint, score integer, class bokvar.risk_class, next_deadline date,
               fingerprint bigint, explanation jsonb)
LANGUAGE plpgsql SET work_mem = '256MB' SET random_page_cost = 1.1 AS $$
DECLARE
        rs bokvar.ruleset;
BEGIN
        SELECT * INTO rs FROM bokvar.ruleset WHERE version = p_version;

        -- The rules that look at signals, one row per kind they look at, so
        -- that a signal meets only the rules of its kind; and position 0,
        -- which every signal meets, for what is said of the household as a
        -- whole (that it has signals in the window, its nearest deadline).
        CREATE TEMP TABLE score_rule_kind ON COMMIT DROP AS
        SELECT r.position, k.kind, r.sources, r.within_days, r.deadline_within_days, r.deadline_passed,
               r.amount_at_least, r.months_at_least
        FROM bokvar.rule r, unnest(coalesce(r.kinds, enum_range(NULL::bokvar.signal_kind))) k(kind)
        WHERE r.version = p_version
          AND (r.kinds IS NOT NULL OR r.sources IS NOT NULL OR r.within_days IS NOT NULL
               OR r.deadline_within_days IS NOT NULL OR r.deadline_passed IS NOT NULL
               OR r.count_at_least IS NOT NULL OR r.amount_at_least IS NOT NULL OR r.months_at_least IS NOT NULL)
        UNION ALL
        SELECT 0, k.kind, NULL, NULL, NULL, NULL, NULL, NULL
        FROM unnest(enum_range(NULL::bokvar.signal_kind)) k(kind);
        ANALYZE score_rule_kind;

        -- Signals meeting each rule's signal conditions, per household, in one
        -- pass over the signals in the window (every signal, or those of the
        -- households in scope: a join, so a large list is hashed).
        CREATE TEMP TABLE score_match ON COMMIT DROP AS
        SELECT rk.position, s.household_id, count(*) AS n, max(s.amount) AS amount, max(s.months_in_arrears) AS months,
               min(s.deadline) FILTER (WHERE s.deadline >= p_today) AS next_deadline,
               bit_xor(hashint8extended(s.id, 0)) AS signal_set,
               array_agg(s.id ORDER BY s.id) FILTER (WHERE p_explain AND rk.position > 0) AS signals
        FROM (SELECT x.id, x.household_id, x.kind, x.source, x.occurred_at, x.deadline, x.amount, x.months_in_arrears
              FROM bokvar.signal x
              WHERE p_households IS NULL AND x.occurred_at >= p_today - rs.window_days
              UNION ALL
              SELECT x.id, x.household_id, x.kind, x.source, x.occurred_at, x.deadline, x.amount, x.months_in_arrears
              FROM (SELECT DISTINCT u FROM unnest(p_households) u) h(id)
              JOIN bokvar.signal x ON x.household_id = h.id
              WHERE p_households IS NOT NULL AND x.occurred_at >= p_today - rs.window_days) s
        JOIN score_rule_kind rk ON rk.kind = s.kind
        WHERE (rk.sources IS NULL OR s.source = ANY (rk.sources))
          AND (rk.within_days IS NULL OR s.occurred_at >= p_today - rk.within_days)
          AND (rk.deadline_within_days IS NULL
               OR (s.deadline >= p_today AND s.deadline <= p_today + rk.deadline_within_days))
          AND (rk.deadline_passed IS NULL OR (s.deadline < p_today) = rk.deadline_passed)
          AND (rk.amount_at_least IS NULL OR s.amount >= rk.amount_at_least)
          AND (rk.months_at_least IS NULL OR s.months_in_arrears >= rk.months_at_least)
        GROUP BY rk.position, s.household_id;
        ANALYZE score_match;

        -- The households in scope, with what rules may ask of them.
        CREATE TEMP TABLE score_home ON COMMIT DROP AS
        SELECT m.household_id, m.next_deadline, h.children
        FROM score_match m JOIN bokvar.household h ON h.id = m.household_id
        WHERE m.position = 0;
        ANALYZE score_home;

        RETURN QUERY
        WITH fired AS (
                -- Rules on signals that fire, and rules on the household alone
                -- for every household with a signal in the window.
                SELECT m.household_id, r.position, m.n, m.amount, m.months, m.signal_set, m.signals, r.name,
                       r.description, r.points, r.per_unit, r.per_step, r.per_points, r.per_max, r.amount_at_least,
                       r.months_at_least, r.count_at_least, r.children_at_least, h.children
                FROM score_match m
                JOIN bokvar.rule r ON r.version = p_version AND r.position = m.position
                JOIN score_home h ON h.household_id = m.household_id
                WHERE m.position > 0 AND m.n >= coalesce(r.count_at_least, 1)
                  AND (r.children_at_least IS NULL OR h.children >= r.children_at_least)
                UNION ALL
                SELECT h.household_id, r.position, NULL, NULL, NULL, NULL, NULL, r.name, r.description, r.points,
                       r.per_unit, r.per_step, r.per_points, r.per_max, r.amount_at_least, r.months_at_least,
                       r.count_at_least, r.children_at_least, h.children
                FROM score_home h
                JOIN bokvar.rule r ON r.version = p_version
                 AND r.position NOT IN (SELECT rk.position FROM score_rule_kind rk)
                WHERE r.children_at_least IS NULL OR h.children >= r.children_at_least
        ), points AS (
                -- The rule's points, and its increments: one per step beyond
                -- the condition's own threshold, together at most max points
                -- in the direction of the per points. In numeric: an amount
                -- may make billions of steps.
                SELECT f.*, f.points + coalesce((sign(f.per_points::numeric) * least(abs(f.per_max), abs(f.per_points) * floor(
                        CASE f.per_unit
                        WHEN 'amount' THEN (f.amount - coalesce(f.amount_at_least, 0)) / f.per_step
                        WHEN 'child' THEN (f.children - coalesce(f.children_at_least, 0)) / f.per_step
                        WHEN 'signal' THEN (f.n - coalesce(f.count_at_least, 1)) / f.per_step
                        WHEN 'month' THEN (f.months - coalesce(f.months_at_least, 0)) / f.per_step
                        END::numeric)))::integer, 0) AS total
                FROM fired f
        ), per_home AS (
                SELECT p.household_id, sum(p.total)::integer AS score,
                       bit_xor(hashint8extended(p.position * 1000003 + p.total,
                                                coalesce(p.signal_set, 0))) AS fingerprint,
                       jsonb_agg(jsonb_build_object('rule', p.name, 'description', p.description, 'points', p.total,
                                                    'signals', coalesce(to_jsonb(p.signals), '[]'))
                                 ORDER BY p.position) FILTER (WHERE p_explain) AS explanation
                FROM points p
                GROUP BY p.household_id
        )
        SELECT o.household_id, coalesce(x.score, 0),
               CASE WHEN coalesce(x.score, 0) >= rs.urgent THEN 'urgent'
                    WHEN coalesce(x.score, 0) >= rs.outreach THEN 'outreach'
                    WHEN coalesce(x.score, 0) >= rs.watch THEN 'watch'
                    ELSE 'none' END::bokvar.risk_class,
               o.next_deadline, coalesce(x.fingerprint, 0),
               CASE WHEN p_explain THEN coalesce(x.explanation, '[]') END
        FROM score_home o
        LEFT JOIN per_home x ON x.household_id = o.household_id;

        DROP TABLE score_rule_kind, score_match, score_home;
END;
$$;

-- Scores the households in scope (NULL: all) under the active ruleset and
-- writes what changed: the current score, and a history row when what
-- explains the class changed (a nearer deadline alone does not). First
-- every score in short, by fingerprint; explanations then only for those
-- that changed. Households in scope whose signals all left the window drop
-- to score 0, class none. Returns how many scores changed.
CREATE FUNCTION bokvar.score_apply(p_households bigint[], p_today date DEFAULT current_date) RETURNS integer
LANGUAGE plpgsql SET work_mem = '256MB' SET random_page_cost = 1.1 AS $$
DECLARE
        v integer;
        changed integer;
BEGIN
        SELECT a.version INTO v FROM bokvar.ruleset_active a;
        IF v IS NULL THEN
                RETURN 0;
        END IF;
        -- The new scores. For the households an ingest touched, with their
        -- explanations at once; for everyone (a rescore), in short first:
        -- most are unchanged, and only the changed are explained, below.
        CREATE TEMP TABLE score_new ON COMMIT DROP AS
        SELECT * FROM bokvar.score_compute(v, p_households, p_today, p_households IS NOT NULL);
        ANALYZE score_new;

        -- What changed; households scored before but without signals in the
        -- window now drop to none. (The scores in scope: all, or those of
        -- the households listed, found by their key.)
        CREATE TEMP TABLE score_changed ON COMMIT DROP AS
        SELECT coalesce(n.household_id, s.household_id) AS household_id, coalesce(n.score, 0) AS score,
               coalesce(n.class, 'none') AS class, n.next_deadline, coalesce(n.fingerprint, 0) AS fingerprint,
               s.household_id IS NULL
               OR (s.score, s.class, s.ruleset_version, s.fingerprint)
                  IS DISTINCT FROM (coalesce(n.score, 0), coalesce(n.class, 'none'), v, coalesce(n.fingerprint, 0))
                       AS explained_differently,
               n.explanation
        FROM score_new n
        FULL JOIN (SELECT * FROM bokvar.score x WHERE p_households IS NULL
                   UNION ALL
                   SELECT * FROM bokvar.score x WHERE x.household_id = ANY (p_households)) s
               ON s.household_id = n.household_id
        WHERE s.household_id IS NULL
           OR (s.score, s.class, s.ruleset_version, s.next_deadline, s.fingerprint)
              IS DISTINCT FROM (coalesce(n.score, 0), coalesce(n.class, 'none'), v, n.next_deadline,
                                coalesce(n.fingerprint, 0));
        GET DIAGNOSTICS changed = ROW_COUNT;
        DROP TABLE score_new;
        IF changed = 0 THEN
                DROP TABLE score_changed;
                RETURN 0;
        END IF;
        ANALYZE score_changed;

        -- Explanations for the scores whose explanation changed, where the
        -- first pass left them out.
        IF p_households IS NULL THEN
                UPDATE score_changed c SET explanation = e.explanation
                FROM bokvar.score_compute(v, ARRAY(SELECT household_id FROM score_changed WHERE explained_differently),
                                          p_today, true) e
                WHERE e.household_id = c.household_id;
        END IF;

        INSERT INTO bokvar.score_history (household_id, scored_at, as_of, score, class, ruleset_version, explanation)
        SELECT c.household_id, clock_timestamp(), p_today, c.score, c.class, v, coalesce(c.explanation, '[]')
        FROM score_changed c
        WHERE c.explained_differently;

        INSERT INTO bokvar.score AS s (household_id, score, class, ruleset_version, next_deadline, explanation,
                                       fingerprint, as_of, scored_at)
        SELECT c.household_id, c.score, c.class, v, c.next_deadline, coalesce(c.explanation, '[]'), c.fingerprint,
               p_today, clock_timestamp()
        FROM score_changed c
        ON CONFLICT (household_id) DO UPDATE
        SET score = excluded.score, class = excluded.class, ruleset_version = excluded.ruleset_version,
            next_deadline = excluded.next_deadline, as_of = excluded.as_of, fingerprint = excluded.fingerprint,
            explanation = CASE WHEN (s.score, s.class, s.ruleset_version, s.fingerprint)
                                    IS DISTINCT FROM (excluded.score, excluded.class, excluded.ruleset_version,
                                                      excluded.fingerprint)
                               THEN excluded.explanation ELSE s.explanation END,
            scored_at = CASE WHEN (s.score, s.class, s.ruleset_version, s.fingerprint)
                                  IS DISTINCT FROM (excluded.score, excluded.class, excluded.ruleset_version,
                                                    excluded.fingerprint)
                             THEN excluded.scored_at ELSE s.scored_at END;

        PERFORM bokvar.scores_changed(ARRAY(SELECT household_id FROM score_changed), p_today);
        DROP TABLE score_changed;
        RETURN changed;
END;
$$;

-- What follows changed scores in their transaction: tasks, later.
CREATE FUNCTION bokvar.scores_changed(p_households bigint[], p_today date) RETURNS void
LANGUAGE sql AS $$
        SELECT
$$;

-- Rescores everything (after a new ruleset, and daily), once per day and
-- version however many daemons ask; p_force rescores anyway.
CREATE FUNCTION bokvar.rescore_all(p_force boolean DEFAULT false, p_today date DEFAULT current_date)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer;
BEGIN
        PERFORM 1 FROM bokvar.scoring_state FOR UPDATE;
        IF NOT p_force AND (SELECT full_rescore_as_of FROM bokvar.scoring_state) = p_today THEN
                RETURN NULL;
        END IF;
        -- Ingests score what they touch under this lock (match_households
        -- takes it): waiting for it, the rescore sees their commits and
        -- never writes an older score over a newer one.
        PERFORM pg_advisory_xact_lock(7243155002);
        n := bokvar.score_apply(NULL, p_today);
        UPDATE bokvar.scoring_state SET full_rescore_at = now(), full_rescore_as_of = p_today;
        RETURN n;
END;
$$;

-- The score as it was at a moment: the latest history row before it.
CREATE FUNCTION bokvar.score_at(p_household bigint, p_at timestamptz)
RETURNS TABLE (scored_at timestamptz, score integer, class bokvar.risk_class, ruleset_version integer, explanation jsonb)
LANGUAGE sql STABLE AS $$
        SELECT h.scored_at, h.score, h.class, h.ruleset_version, h.explanation
        FROM bokvar.score_history h
        WHERE h.household_id = p_household AND h.scored_at <= p_at
        ORDER BY h.scored_at DESC LIMIT 1
$$;

-- Priority, the order of every worklist: class, then households with
-- children, then the nearest deadline, then the score.
CREATE VIEW bokvar.household_priority AS
SELECT h.id AS household_id, coalesce(s.class, 'none') AS class, coalesce(h.children, 0) > 0 AS with_children,
       h.children, s.next_deadline, coalesce(s.score, 0) AS score, s.ruleset_version, s.explanation,
       row_number() OVER (ORDER BY coalesce(s.class, 'none') DESC, coalesce(h.children, 0) > 0 DESC,
                          s.next_deadline ASC NULLS LAST, coalesce(s.score, 0) DESC, h.id) AS priority
FROM bokvar.household h LEFT JOIN bokvar.score s ON s.household_id = h.id;

-- An ingest scores the households it touched, in its own transaction.
CREATE OR REPLACE FUNCTION bokvar.ingest_done() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM bokvar.score_apply(ARRAY(SELECT DISTINCT household_id FROM pg_temp.ingest_home), current_date);
END;
$$;

-- What loading ruleset p_version would change, household by household:
-- the class and score now and under the new rules, and the rules that make
-- the difference. The same computation a load runs, so the preview is what
-- the load will do (on the same day, with the same signals).
CREATE FUNCTION bokvar.rules_diff(p_version integer, p_today date DEFAULT current_date)
RETURNS TABLE (household_id bigint, from_class bokvar.risk_class, to_class bokvar.risk_class, from_score integer,
               to_score integer, class_change integer, rules_added text[], rules_removed text[])
LANGUAGE sql AS $$
        WITH n AS (
                SELECT * FROM bokvar.score_compute(p_version, NULL, p_today)
        ), both_ AS (
                SELECT coalesce(n.household_id, s.household_id) AS household_id,
                       coalesce(s.class, 'none') AS from_class, coalesce(n.class, 'none') AS to_class,
                       coalesce(s.score, 0) AS from_score, coalesce(n.score, 0) AS to_score,
                       coalesce(s.explanation, '[]') AS before, coalesce(n.explanation, '[]') AS after
                FROM n FULL JOIN bokvar.score s ON s.household_id = n.household_id
        )
        SELECT b.household_id, b.from_class, b.to_class, b.from_score, b.to_score,
               array_position(enum_range(NULL::bokvar.risk_class), b.to_class)
               - array_position(enum_range(NULL::bokvar.risk_class), b.from_class),
               ARRAY(SELECT format('%s (%s)', a ->> 'rule', a ->> 'points') FROM jsonb_array_elements(b.after) a
                     WHERE NOT b.before @> jsonb_build_array(jsonb_build_object('rule', a -> 'rule', 'points', a -> 'points'))),
               ARRAY(SELECT format('%s (%s)', a ->> 'rule', a ->> 'points') FROM jsonb_array_elements(b.before) a
                     WHERE NOT b.after @> jsonb_build_array(jsonb_build_object('rule', a -> 'rule', 'points', a -> 'points')))
        FROM both_ b
        WHERE b.from_class <> b.to_class OR b.from_score <> b.to_score
$$;
