-- SPDX-License-Identifier: GPL-3.0-or-later
-- Casework: children first for real, people who move, and a report that
-- answers the committee.
--
-- Children. A household's children is NULL while nobody has said how many
-- (landlord notices rarely do), and NULL is never taken for 0: not in the
-- lists, the web's worklist, the webhook (null), the e-mail ("unknown") or
-- the report (which counts the households whose children are unknown).
-- Caseworkers correct the count through 007's household_children_correct
-- (the web, and now bokvarctl), kept in 007's children_correction; the
-- most recent count reported or corrected is the household's
-- (children_reports ranks them; household_children_settle applies the
-- first), where 007 let the correction stand until an ingest overwrote it.
--
-- The order. bokvar.priority_key() is the one definition of the order of
-- every list of households and tasks (the worklist, the household list,
-- the web's worklist): a scheduled eviction in a household with children
-- first, whatever its class; then the class; then children present (yes,
-- unknown, no), not their number; then the nearest deadline; then the
-- score. bokvar.household_order gives each household what the key needs;
-- an open task keeps its household's children and eviction date (007 kept
-- the children, as 0 when unknown) so that the web reads a page of its
-- worklist from an index.
--
-- People who move. Signals belong to the home they concern: the address on
-- a signal decides; the identity number only where a signal has no address
-- (match_households, redefined). A person reported at a new address starts
-- or joins the household there, and the home they left keeps its signals
-- and its children. Caseworkers mend what matching gets wrong:
-- household_merge (the address of the household merged away stays an
-- alias of the one kept, household_alias) and household_split (a person's
-- signals move to a home of their own; later signals about them at the old
-- address follow them there, household_person.split_from).
--
-- The report. New figures (the contact rate, evictions involving children,
-- outcomes by cause, landlord and team, the missed cases) in report_parts'
-- additive form, so that the purge keeps them in report_purged like the
-- others and `report --year` gives the same after a purge.

-- ---------------------------------------------------------------------
-- Tables.

-- The address keys of households merged into another: signals at such an
-- address go to the household kept.
CREATE TABLE bokvar.household_alias (
        address_key text COLLATE "C" PRIMARY KEY,
        household_id bigint NOT NULL REFERENCES bokvar.household (id) ON DELETE CASCADE,
        merged_from bigint NOT NULL,
        merged_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX household_alias_household ON bokvar.household_alias (household_id);

-- A person a caseworker split out of a household: the household they were
-- split from. Signals about them at its address come to their own home,
-- until they are reported somewhere else.
ALTER TABLE bokvar.household_person ADD COLUMN split_from bigint;

-- Free text and addresses are never sampled into the statistics (as
-- sql/006_access.sql has it; 007's note of a correction was).
ALTER TABLE bokvar.children_correction ALTER COLUMN note SET STATISTICS 0;
ALTER TABLE bokvar.household_alias ALTER COLUMN address_key SET STATISTICS 0;

-- Row-level security as on the household's other tables (sql/006_access.sql).
DO $$
DECLARE
        t text;
BEGIN
        FOREACH t IN ARRAY ARRAY['household_alias'] LOOP
                EXECUTE format('ALTER TABLE bokvar.%I ENABLE ROW LEVEL SECURITY', t);
                EXECUTE format('ALTER TABLE bokvar.%I FORCE ROW LEVEL SECURITY', t);
                EXECUTE format('CREATE POLICY system ON bokvar.%I USING (bokvar.session_is_system() OR (SELECT bokvar.elevated())) '
                               'WITH CHECK (bokvar.session_is_system() OR (SELECT bokvar.elevated()))', t);
                EXECUTE format('CREATE POLICY team ON bokvar.%I FOR SELECT USING ('
                               '(SELECT bokvar.actor_function()) = ''coordinator'' '
                               'OR household_id IN (SELECT x.household_id FROM bokvar.task x))', t);
        END LOOP;
END;
$$;

-- ---------------------------------------------------------------------
-- The order of every list.

-- The key every list of households or tasks sorts by, ascending (then by
-- its own id): domain.md's priority. 1. A scheduled eviction, today or
-- later, in a household with children present: first, whatever its class.
-- 2. The class, urgent first. 3. Children present: yes, then unknown, then
-- no; their number does not count. 4. The nearest deadline (none last).
-- 5. The higher score. Reads nothing: the lists give it their values.
-- One bigint, each rule in bits of its own above the next (an array sorts
-- three times slower over 100,000 households): bit 42 the eviction, 40-41
-- the class, 38-39 the children, 20-37 the deadline in days from 1900 (to
-- 2617), 0-19 the score, higher first (scores are clamped to +-524,287).
CREATE FUNCTION bokvar.priority_key(p_class bokvar.risk_class, p_children integer, p_eviction date, p_deadline date,
                                    p_score integer, p_today date) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
        SELECT (CASE WHEN p_children > 0 AND p_eviction >= p_today THEN 0 ELSE 1 END::bigint << 42)
               | (CASE p_class WHEN 'urgent' THEN 0 WHEN 'outreach' THEN 1 WHEN 'watch' THEN 2 ELSE 3 END::bigint << 40)
               | (CASE WHEN p_children > 0 THEN 0 WHEN p_children IS NULL THEN 1 ELSE 2 END::bigint << 38)
               | (CASE WHEN p_deadline IS NULL THEN 262143
                       ELSE least(greatest(p_deadline - DATE '1900-01-01', 0), 262142) END::bigint << 20)
               | (524288 - least(greatest(coalesce(p_score, 0), -524287), 524287))::bigint
$$;

-- What the order asks of each household now: its class, score and nearest
-- deadline (its score), its children (NULL: unknown), and the eviction the
-- enforcement agency has scheduled, today or later, and not cancelled or
-- carried out since (NULL: none). For the views below and the web; people
-- select it through them.
-- The evictions the enforcement agency has scheduled and not cancelled or
-- carried out since: a row per date scheduled, passed or not.
CREATE VIEW bokvar.eviction_pending AS
SELECT x.household_id, x.deadline AS eviction_date FROM bokvar.signal x
WHERE x.kind = 'eviction_scheduled' AND x.deadline IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM bokvar.signal c
                  WHERE c.household_id = x.household_id AND c.kind IN ('eviction_cancelled', 'eviction_executed')
                    AND c.occurred_at >= x.occurred_at);

-- The enforcement agency's eviction dates, cancellations and evictions, for
-- the view above: a few thousand a year in a country, found without
-- reading every signal. A bulk load pays a test of the kind per row, and
-- an index entry for these alone.
CREATE INDEX signal_eviction ON bokvar.signal (household_id)
        WHERE kind IN ('eviction_scheduled', 'eviction_cancelled', 'eviction_executed');

CREATE VIEW bokvar.household_order AS
SELECT h.id AS household_id, coalesce(s.class, 'none') AS class, h.children, s.next_deadline,
       coalesce(s.score, 0) AS score, s.ruleset_version, s.explanation, e.eviction_date
FROM bokvar.household h
LEFT JOIN bokvar.score s ON s.household_id = h.id
LEFT JOIN (SELECT p.household_id, min(p.eviction_date) AS eviction_date FROM bokvar.eviction_pending p
           WHERE p.eviction_date >= current_date GROUP BY p.household_id) e ON e.household_id = h.id;

-- The latest date an eviction is scheduled for in the household, passed or
-- not (NULL: none pending): what an open task keeps of it; the key's first
-- rule compares it with the day.
CREATE FUNCTION bokvar.eviction_until(p_household bigint) RETURNS date
LANGUAGE sql STABLE AS $$
        SELECT max(p.eviction_date) FROM bokvar.eviction_pending p WHERE p.household_id = p_household
$$;

-- 007 keeps the worklist's order on the open task, so that the web reads a
-- page of it from an index. The order is the key's now: the task keeps its
-- household's children as they are (NULL: unknown, where 007 wrote 0) and
-- the date up to which an eviction is scheduled; tasks_follow_households
-- keeps both in step, and a new task takes them (task_children).
ALTER TABLE bokvar.task ALTER COLUMN household_children DROP NOT NULL, ALTER COLUMN household_children DROP DEFAULT;
ALTER TABLE bokvar.task ADD COLUMN eviction_until date;
UPDATE bokvar.task t SET household_children = h.children, eviction_until = bokvar.eviction_until(h.id)
FROM bokvar.household h WHERE h.id = t.household_id AND t.status = 'open';

CREATE OR REPLACE FUNCTION bokvar.task_children() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
        NEW.household_children := (SELECT h.children FROM bokvar.household h WHERE h.id = NEW.household_id);
        NEW.eviction_until := bokvar.eviction_until(NEW.household_id);
        RETURN NEW;
END;
$$;

-- The open tasks of the households listed keep their children and
-- eviction date.
CREATE FUNCTION bokvar.tasks_follow_households(p_households bigint[]) RETURNS void
LANGUAGE sql AS $$
        UPDATE bokvar.task t SET household_children = x.children, eviction_until = x.until
        FROM (SELECT h.id, h.children, bokvar.eviction_until(h.id) AS until
              FROM (SELECT DISTINCT u FROM unnest(p_households) u) k(id)
              JOIN bokvar.task o ON o.household_id = k.id AND o.status = 'open'
              JOIN bokvar.household h ON h.id = k.id) x
        WHERE t.household_id = x.id AND t.status = 'open'
          AND (t.household_children, t.eviction_until) IS DISTINCT FROM (x.children, x.until)
$$;

-- A team's open tasks in the key's order but for its first rule (which
-- depends on the day), in two parts: its families with children whose
-- eviction was scheduled (task_eviction), and all the others
-- (task_worklist); and those families by the date (task_eviction_date),
-- where the few whose date has passed are found. The web's worklist reads
-- a page from them. The key's function is in the first two: a migration
-- that redefines it rebuilds them.
DROP INDEX bokvar.task_worklist;
CREATE INDEX task_worklist ON bokvar.task
        (team, bokvar.priority_key(class, household_children, NULL, deadline, score, DATE '2000-01-01'), id)
        WHERE status = 'open' AND (household_children > 0 AND eviction_until IS NOT NULL) IS NOT TRUE;
CREATE INDEX task_eviction ON bokvar.task
        (team, bokvar.priority_key(class, household_children, NULL, deadline, score, DATE '2000-01-01'), id)
        WHERE status = 'open' AND household_children > 0 AND eviction_until IS NOT NULL;
CREATE INDEX task_eviction_date ON bokvar.task (team, eviction_until)
        WHERE status = 'open' AND household_children > 0 AND eviction_until IS NOT NULL;

-- Schema 3's priority, now by the key (columns kept; the eviction date added).
CREATE OR REPLACE VIEW bokvar.household_priority AS
SELECT o.household_id, o.class, coalesce(o.children, 0) > 0 AS with_children, o.children, o.next_deadline, o.score,
       o.ruleset_version, o.explanation,
       row_number() OVER (ORDER BY bokvar.priority_key(o.class, o.children, o.eviction_date, o.next_deadline, o.score,
                                                       current_date), o.household_id) AS priority,
       o.eviction_date
FROM bokvar.household_order o;

-- The worklist by the key, over the task's own class, deadline and score
-- (what its row shows); children NULL when unknown.
CREATE OR REPLACE VIEW bokvar.worklist AS
SELECT row_number() OVER (ORDER BY bokvar.priority_key(t.class, o.children, o.eviction_date, t.deadline, t.score,
                                                       current_date), t.id) AS priority,
       t.id AS task_id, t.team, t.assignee, t.class, t.score, o.children, t.deadline, t.due,
       t.due < current_date AS overdue, t.created_at, t.acknowledged_at, t.first_contact_at, t.household_id,
       (SELECT string_agg(e ->> 'rule', ', ') FROM jsonb_array_elements(o.explanation) e) AS rules,
       o.eviction_date
FROM bokvar.task t JOIN bokvar.household_order o ON o.household_id = t.household_id
WHERE t.status = 'open';

-- The web's worklist (007's), in the key's order: each team's families with
-- children whose eviction is ahead first, then the others, those whose
-- eviction date has passed among them; each part walked in the order of
-- its index, so that a page costs its rows, not the backlog. Children NULL
-- when unknown.
CREATE OR REPLACE FUNCTION bokvar.web_worklist(p_team text, p_assignee text, p_class bokvar.risk_class,
                                              p_offset integer, p_limit integer)
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
                (SELECT x.* FROM bokvar.task x
                 WHERE x.team = tm.name AND x.status = 'open' AND x.household_children > 0
                   AND x.eviction_until IS NOT NULL AND x.eviction_until >= current_date
                   AND (p_assignee IS NULL OR x.assignee = p_assignee) AND (p_class IS NULL OR x.class = p_class)
                 ORDER BY bokvar.priority_key(x.class, x.household_children, NULL, x.deadline, x.score, DATE '2000-01-01'),
                          x.id
                 LIMIT p_offset + p_limit)
                UNION ALL
                (SELECT x.* FROM bokvar.task x
                 WHERE x.team = tm.name AND x.status = 'open' AND x.household_children > 0
                   AND x.eviction_until IS NOT NULL AND x.eviction_until < current_date
                   AND (p_assignee IS NULL OR x.assignee = p_assignee) AND (p_class IS NULL OR x.class = p_class)
                 ORDER BY bokvar.priority_key(x.class, x.household_children, NULL, x.deadline, x.score, DATE '2000-01-01'),
                          x.id
                 LIMIT p_offset + p_limit)
                UNION ALL
                (SELECT x.* FROM bokvar.task x
                 WHERE x.team = tm.name AND x.status = 'open'
                   AND (x.household_children > 0 AND x.eviction_until IS NOT NULL) IS NOT TRUE
                   AND (p_assignee IS NULL OR x.assignee = p_assignee) AND (p_class IS NULL OR x.class = p_class)
                 ORDER BY bokvar.priority_key(x.class, x.household_children, NULL, x.deadline, x.score, DATE '2000-01-01'),
                          x.id
                 LIMIT p_offset + p_limit)) k
        WHERE p_team IS NULL OR tm.name = p_team
        ORDER BY bokvar.priority_key(k.class, k.household_children, k.eviction_until, k.deadline, k.score, current_date),
                 k.id
        OFFSET p_offset LIMIT p_limit;
END;
$$;

CREATE OR REPLACE VIEW bokvar.household_list AS
SELECT p.priority, p.household_id, p.class, p.score, p.children, p.next_deadline,
       (SELECT string_agg(e ->> 'rule', ', ') FROM jsonb_array_elements(p.explanation) e) AS rules,
       h.postal_code, h.city, p.eviction_date
FROM bokvar.household_priority p JOIN bokvar.household h ON h.id = p.household_id;

-- ---------------------------------------------------------------------
-- Children.

-- Every count of a household's children, the one in force first (rank 1):
-- counts the feeds reported, as of the date of their signal, and counts
-- caseworkers corrected, as of when they did. A signal counts from the
-- start of its day and a correction from its moment: a correction beats a
-- signal of the same day (someone asked the family after the notice was
-- written), a signal of a later day beats the correction. by and source:
-- the feed and the signal's kind, or the caseworker and their note.
CREATE FUNCTION bokvar.children_reports(p_household bigint)
RETURNS TABLE (rank bigint, at timestamptz, children integer, corrected boolean, by text, source text, ref bigint)
LANGUAGE sql STABLE AS $$
        SELECT row_number() OVER (ORDER BY x.at DESC, x.corrected DESC, x.ref DESC), x.*
        FROM (SELECT s.occurred_at::timestamptz AS at, s.children, false AS corrected, s.feed::text AS by,
                     s.kind::text AS source, s.id AS ref
              FROM bokvar.signal s WHERE s.household_id = p_household AND s.children IS NOT NULL
              UNION ALL
              SELECT c.at, c.new_children, true, c.by, c.note, c.id
              FROM bokvar.children_correction c WHERE c.household_id = p_household) x
$$;

-- Sets the children of the households listed to the count in force (NULL
-- when nobody reported or corrected one), and children_at to its day.
-- Returns how many changed.
CREATE FUNCTION bokvar.household_children_settle(p_households bigint[]) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
        n integer;
BEGIN
        UPDATE bokvar.household h SET children = w.children, children_at = w.at::date, updated_at = now()
        FROM (SELECT x.id, r.children, r.at
              FROM (SELECT DISTINCT u FROM unnest(p_households) u) x(id)
              LEFT JOIN LATERAL bokvar.children_reports(x.id) r ON r.rank = 1) w
        WHERE h.id = w.id AND (h.children, h.children_at) IS DISTINCT FROM (w.children, w.at::date);
        GET DIAGNOSTICS n = ROW_COUNT;
        RETURN n;
END;
$$;

-- An ingest's match takes the feeds' latest count; where a caseworker
-- corrected one, the count in force is settled again before scoring (003,
-- 007). The open tasks then keep their household's children and eviction
-- date (007 kept the children of rows that gave a count, as 0 when unknown).
CREATE OR REPLACE FUNCTION bokvar.ingest_done() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        touched bigint[] := ARRAY(SELECT DISTINCT household_id FROM pg_temp.ingest_home);
BEGIN
        PERFORM bokvar.household_children_settle(ARRAY(SELECT DISTINCT c.household_id FROM bokvar.children_correction c
                                                       WHERE c.household_id = ANY (touched)));
        PERFORM bokvar.score_apply(touched, current_date);
        PERFORM bokvar.tasks_follow_households(touched);
END;
$$;

-- The webhook's payload (schema 4's), with children null when unknown.
CREATE OR REPLACE FUNCTION bokvar.task_payload(t bokvar.task, p_kind text, p_event_id text, p_at timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
                'type', 'task.' || p_kind,
                'timestamp', to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'event_id', p_event_id,
                'data', jsonb_build_object(
                        'task_id', t.id, 'status', t.status, 'team', t.team, 'assignee', t.assignee,
                        'class', t.class, 'score', t.score, 'due', t.due, 'deadline', t.deadline,
                        'children', h.children,
                        'rules', coalesce((SELECT jsonb_agg(e -> 'rule') FROM jsonb_array_elements(s.explanation) e),
                                          '[]')))
        FROM bokvar.household h LEFT JOIN bokvar.score s ON s.household_id = h.id
        WHERE h.id = t.household_id
$$;

-- The e-mail (outreach/mail.c, schema 8's outbox_claim columns) says
-- "unknown" where the payload's children is null: the claim reads children
-- from the payload as it is, so the null reaches the dispatcher as NULL.

-- ---------------------------------------------------------------------
-- Reading a household: schema 6's document (kept as household_doc_base)
-- with the eviction scheduled and the history of its children.
ALTER FUNCTION bokvar.household_doc(bigint, timestamptz) RENAME TO household_doc_base;
CREATE FUNCTION bokvar.household_doc(p_household bigint, p_at timestamptz DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT jsonb_set(x.d, '{household,scheduled_eviction}', coalesce(to_jsonb(o.eviction_date), 'null'))
               || jsonb_build_object('children_history', (
                        SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'at', CASE WHEN r.corrected THEN to_jsonb(r.at) ELSE to_jsonb(r.at::date) END,
                                'children', r.children, 'how', CASE WHEN r.corrected THEN 'corrected' ELSE 'reported' END,
                                'by', r.by, 'source', r.source, 'in_force', r.rank = 1) ORDER BY r.rank), '[]')
                        FROM bokvar.children_reports(p_household) r))
        FROM bokvar.household_doc_base(p_household, p_at) x(d)
        LEFT JOIN bokvar.household_order o ON o.household_id = p_household
        WHERE x.d IS NOT NULL
$$;

-- The household, if the actor may see it: else no_data_found, as for a
-- household that does not exist. Called from definer functions, which
-- see by the actor's row-level security.
CREATE FUNCTION bokvar.household_require(p_household bigint) RETURNS void
LANGUAGE plpgsql STABLE AS $$
BEGIN
        IF p_household IS NULL OR NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = p_household) THEN
                RAISE EXCEPTION 'no household %', p_household USING ERRCODE = 'no_data_found';
        END IF;
END;
$$;

-- What a household is now, for the answers of the actions below.
CREATE FUNCTION bokvar.household_now(p_household bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object('household', o.household_id, 'children', o.children, 'class', o.class,
                                  'score', o.score)
        FROM bokvar.household_order o WHERE o.household_id = p_household
$$;

-- `bokvarctl household children` and the web's form: 007's check, with
-- a household the actor may not see refused as none (P0002, as household
-- show, merge and split do; the web takes it as it took 42501).
CREATE OR REPLACE FUNCTION bokvar.household_children_correct(p_household bigint, p_children integer,
                                                            p_note text DEFAULT NULL)
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
        PERFORM bokvar.household_require(p_household);
        PERFORM bokvar.household_children_set(p_household, p_children, who, p_note);
END;
$$;

-- 007's writer of a correction, with the rule above: the correction is
-- kept with the count before it, the count in force settled (a signal of
-- a later day still wins), the household scored again; its open task keeps
-- the count and notes the correction; the audit log has who.
CREATE OR REPLACE FUNCTION bokvar.household_children_set(p_household bigint, p_children integer, p_who text,
                                                        p_note text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        before integer;
        t bigint;
BEGIN
        -- An ingest settles the same households: one after the other.
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT children INTO before FROM bokvar.household WHERE id = p_household FOR UPDATE;
        INSERT INTO bokvar.children_correction (household_id, by, old_children, new_children, note)
        VALUES (p_household, p_who, before, p_children, p_note);
        PERFORM bokvar.household_children_settle(ARRAY[p_household]);
        PERFORM bokvar.score_apply(ARRAY[p_household], current_date);
        PERFORM bokvar.tasks_follow_households(ARRAY[p_household]);
        SELECT id INTO t FROM bokvar.task WHERE household_id = p_household AND status = 'open';
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

-- ---------------------------------------------------------------------
-- Matching, redefined: the address first.

-- Matches the valid rows of pg_temp.ingest_row to households, into
-- pg_temp.ingest_home (k, household_id), as schema 2's did; the rule is
-- new. A row with an address goes to the home at that address (or to the
-- one it was merged into), unless its person was split out of that home by
-- a caseworker: then to the person's own. An address without a home yet
-- goes to the home of someone reported there whose home has no address of
-- its own and no other landlord, and was not split off by a caseworker (it
-- learns the address), else to a new home: co-tenants at a new address
-- share it. A row without an address goes to its person's home:
-- where their latest signal with an address is, else the home they are
-- known at, else a new home of their own. A person's home follows their
-- latest signal with an address, unless it is older than the latest signal
-- of the home they are known at (a late delivery of old signals moves
-- nobody back). A home never follows a person: the home they left keeps
-- its signals and its children. Serialised across feeds by a transaction
-- lock, so two feeds never create one home twice. The temporary tables
-- are those of schema 2 (ingest_cleanup drops them).
CREATE OR REPLACE FUNCTION bokvar.match_households() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
        first_id bigint;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);

        -- What the rows say, per identity number and address: the latest
        -- values, each from the latest row that has one ((date, seq) packed
        -- in one bigint makes "latest" a max()); and where the key could go:
        -- the home at its address, the person's home and what of it counts.
        CREATE TEMP TABLE ingest_keys ON COMMIT DROP AS
        SELECT a.k, a.person_id, a.address_key, coalesce(h.id, al.household_id) AS at_address,
               hp.household_id AS person_home, hp.split_from, hp.person_id IS NOT NULL AS known_person,
               ph.id IS NOT NULL AND ph.address_key IS NULL AS person_home_unaddressed,
               ph.last_signal_at AS person_home_last, ph.landlord AS person_home_landlord, a.first_at, a.last_at,
               bokvar.norm_word(p.postal_code) AS postal_code, p.city, ll.landlord, ll.occurred_at AS landlord_at,
               c.children, c.occurred_at AS children_at
        FROM (SELECT r.k, min(r.person_id) AS person_id, min(r.address_key) AS address_key,
                     min(r.occurred_at) AS first_at, max(r.occurred_at) AS last_at,
                     max((r.occurred_at - DATE '2000-01-01')::bigint << 32 | r.seq)
                         FILTER (WHERE r.postal_code IS NOT NULL) AS latest_postal,
                     max((r.occurred_at - DATE '2000-01-01')::bigint << 32 | r.seq)
                         FILTER (WHERE r.children IS NOT NULL) AS latest_children,
                     max((r.occurred_at - DATE '2000-01-01')::bigint << 32 | r.seq)
                         FILTER (WHERE r.landlord IS NOT NULL) AS latest_landlord
              FROM ingest_row r WHERE r.problem = ''
              GROUP BY r.k) a
        LEFT JOIN ingest_row p ON p.seq = (a.latest_postal & 4294967295)::integer
        LEFT JOIN ingest_row c ON c.seq = (a.latest_children & 4294967295)::integer
        LEFT JOIN ingest_row ll ON ll.seq = (a.latest_landlord & 4294967295)::integer
        LEFT JOIN bokvar.household_person hp ON hp.person_id = a.person_id
        LEFT JOIN bokvar.household ph ON ph.id = hp.household_id
        LEFT JOIN bokvar.household h ON h.address_key = a.address_key
        LEFT JOIN bokvar.household_alias al ON al.address_key = a.address_key;
        ANALYZE ingest_keys;

        -- Addresses without a home yet that a home without an address learns:
        -- not where the report names another landlord than the home's (the
        -- person moved on; their old landlord's signals carried no address),
        -- nor a home a caseworker split off (its address is the one it was
        -- split from: the person reported elsewhere moved).
        CREATE TEMP TABLE ingest_address ON COMMIT DROP AS
        SELECT address_key, min(person_home) AS household_id FROM ingest_keys
        WHERE address_key IS NOT NULL AND at_address IS NULL AND person_home_unaddressed AND split_from IS NULL
          AND (landlord IS NULL OR person_home_landlord IS NULL
               OR bokvar.norm_word(landlord) = bokvar.norm_word(person_home_landlord))
        GROUP BY address_key;

        -- Rows with an address: their home, or (g) the new home of their address.
        CREATE TEMP TABLE ingest_home0 ON COMMIT DROP AS
        SELECT k.k, k.person_id, k.address_key, k.last_at,
               CASE WHEN k.at_address IS NULL THEN a.household_id
                    WHEN k.split_from = k.at_address THEN k.person_home
                    ELSE k.at_address END AS household_id
        FROM ingest_keys k LEFT JOIN ingest_address a ON a.address_key = k.address_key
        WHERE k.address_key IS NOT NULL;

        -- Each person's latest row with an address.
        CREATE TEMP TABLE ingest_home1 ON COMMIT DROP AS
        SELECT DISTINCT ON (person_id) k, person_id, address_key, household_id, last_at
        FROM ingest_home0 WHERE person_id IS NOT NULL
        ORDER BY person_id, last_at DESC, address_key DESC;

        -- Every row: a home, or the group (g) of the new home it makes with others.
        CREATE TEMP TABLE ingest_home2 ON COMMIT DROP AS
        SELECT h.k, h.household_id, CASE WHEN h.household_id IS NULL THEN h.address_key END AS g
        FROM ingest_home0 h
        UNION ALL
        SELECT k.k, CASE WHEN moved THEN l.household_id ELSE k.person_home END,
               CASE WHEN moved THEN CASE WHEN l.household_id IS NULL THEN l.address_key END
                    WHEN k.person_home IS NULL THEN 'p:' || k.person_id END
        FROM ingest_keys k
        LEFT JOIN ingest_home1 l ON l.person_id = k.person_id,
        LATERAL (SELECT l.k IS NOT NULL AND (k.person_home IS NULL OR l.last_at >= k.person_home_last)) m(moved)
        WHERE k.address_key IS NULL;

        -- Ids for the new homes, as one block of the sequence (the lock above
        -- keeps other writers of households out meanwhile), in the order of
        -- their addresses: ids and address keys then both grow together, and
        -- both unique indexes take the new homes at their right edge.
        CREATE TEMP TABLE ingest_new_home ON COMMIT DROP AS
        SELECT g, row_number() OVER (ORDER BY g) AS n FROM (SELECT DISTINCT g FROM ingest_home2 WHERE g IS NOT NULL) x;
        IF EXISTS (SELECT 1 FROM ingest_new_home) THEN
                first_id := nextval(pg_get_serial_sequence('bokvar.household', 'id'));
                PERFORM setval(pg_get_serial_sequence('bokvar.household', 'id'),
                               first_id + (SELECT count(*) FROM ingest_new_home) - 1);
        END IF;

        CREATE TEMP TABLE ingest_home ON COMMIT DROP AS
        SELECT h.k, coalesce(h.household_id, first_id + n.n - 1) AS household_id
        FROM ingest_home2 h LEFT JOIN ingest_new_home n ON n.g = h.g;
        ANALYZE ingest_home;

        -- Per home, what its rows say, merged over its keys: each value the
        -- latest one given.
        CREATE TEMP TABLE ingest_home_facts ON COMMIT DROP AS
        SELECT h.household_id, min(k.first_at) AS first_at, max(k.last_at) AS last_at,
               (array_agg(k.postal_code ORDER BY k.last_at DESC) FILTER (WHERE k.postal_code IS NOT NULL))[1]
                       AS postal_code,
               (array_agg(k.city ORDER BY k.last_at DESC) FILTER (WHERE k.city IS NOT NULL))[1] AS city,
               (array_agg(k.landlord ORDER BY k.landlord_at DESC) FILTER (WHERE k.landlord IS NOT NULL))[1] AS landlord,
               (array_agg(k.children ORDER BY k.children_at DESC) FILTER (WHERE k.children IS NOT NULL))[1]
                       AS children,
               max(k.children_at) AS children_at
        FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
        GROUP BY h.household_id;

        INSERT INTO bokvar.household (id, address_key, postal_code, city, landlord, children, children_at,
                                      first_signal_at, last_signal_at)
        SELECT f.household_id, CASE WHEN n.g LIKE 'p:%' THEN NULL ELSE n.g END, f.postal_code, f.city, f.landlord,
               f.children, f.children_at, f.first_at, f.last_at
        FROM ingest_new_home n JOIN ingest_home_facts f ON f.household_id = first_id + n.n - 1;

        UPDATE bokvar.household h
        SET first_signal_at = least(h.first_signal_at, f.first_at),
            last_signal_at = greatest(h.last_signal_at, f.last_at),
            postal_code = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                               THEN coalesce(f.postal_code, h.postal_code) ELSE h.postal_code END,
            city = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                        THEN coalesce(f.city, h.city) ELSE h.city END,
            landlord = CASE WHEN f.last_at >= h.last_signal_at OR h.last_signal_at IS NULL
                            THEN coalesce(f.landlord, h.landlord) ELSE h.landlord END,
            children = CASE WHEN f.children IS NOT NULL AND (h.children_at IS NULL OR f.children_at >= h.children_at)
                            THEN f.children ELSE h.children END,
            children_at = CASE WHEN f.children IS NOT NULL AND (h.children_at IS NULL OR f.children_at >= h.children_at)
                               THEN f.children_at ELSE h.children_at END,
            updated_at = now()
        FROM ingest_home_facts f
        WHERE h.id = f.household_id AND (first_id IS NULL OR f.household_id < first_id);

        -- Each person's home after this delivery (the rule above): new
        -- people are added in key order (a B-tree fed in order splits only
        -- its right edge); a known person who moved is moved, and a split
        -- no longer holds for them.
        WITH person AS (
                SELECT k.person_id, bool_or(k.known_person) AS known, min(k.person_home) AS person_home,
                       min(k.person_home_last) AS person_home_last
                FROM ingest_keys k WHERE k.person_id IS NOT NULL GROUP BY k.person_id
        ), target AS (
                SELECT p.person_id, p.known,
                       coalesce(CASE WHEN l.k IS NOT NULL AND (p.person_home IS NULL OR l.last_at >= p.person_home_last)
                                     THEN lh.household_id END,
                                p.person_home, own.household_id) AS household_id
                FROM person p
                LEFT JOIN ingest_home1 l ON l.person_id = p.person_id
                LEFT JOIN ingest_home lh ON lh.k = l.k
                LEFT JOIN (SELECT k.person_id, h.household_id FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                           WHERE k.address_key IS NULL) own ON own.person_id = p.person_id
        ), moved AS (
                UPDATE bokvar.household_person hp SET household_id = t.household_id, split_from = NULL
                FROM target t
                WHERE t.known AND hp.person_id = t.person_id AND hp.household_id <> t.household_id
                RETURNING 1
        )
        INSERT INTO bokvar.household_person (person_id, household_id)
        SELECT person_id, household_id FROM target WHERE NOT known ORDER BY person_id;

        -- A home known by identity number alone learns its address: one
        -- without a home of its own yet. Only a home that existed before this
        -- call can lack one: new homes are made per address, or per person
        -- seen without any.
        UPDATE bokvar.household hh SET address_key = x.address_key
        FROM (SELECT DISTINCT ON (address_key) household_id, address_key
              FROM (SELECT DISTINCT ON (h.household_id) h.household_id, k.address_key
                    FROM ingest_keys k JOIN ingest_home h ON h.k = k.k
                    WHERE k.address_key IS NOT NULL AND k.at_address IS NULL
                      AND (first_id IS NULL OR h.household_id < first_id)
                      AND EXISTS (SELECT 1 FROM bokvar.household o
                                  WHERE o.id = h.household_id AND o.address_key IS NULL)
                    ORDER BY h.household_id, k.last_at DESC) y
              ORDER BY address_key, household_id) x
        WHERE hh.id = x.household_id AND hh.address_key IS NULL
          AND NOT EXISTS (SELECT 1 FROM bokvar.household o WHERE o.address_key = x.address_key);
END;
$$;

-- ---------------------------------------------------------------------
-- Merging and splitting: what matching got wrong, mended by a person.

-- `bokvarctl household merge A B`: household p_from is the same home as
-- p_into and goes into it. Caseworkers may merge two households they may
-- both see (each has a task of their teams), coordinators any two.
CREATE FUNCTION bokvar.household_merge(p_into bigint, p_from bigint) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'merge households', false);
BEGIN
        IF p_into = p_from THEN
                RAISE EXCEPTION 'household % cannot be merged with itself', p_into USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM bokvar.household_require(p_into);
        PERFORM bokvar.household_require(p_from);
        RETURN bokvar.household_merge_as(p_into, p_from, who);
END;
$$;

-- The merge, once checked (elevated; granted to nobody). Everything of
-- p_from moves to p_into: signals and their earlier versions, people,
-- tasks (an open one is closed as a duplicate when p_into has its own),
-- corrections of the children, score history; its address becomes an alias
-- of p_into (or p_into's address, when p_into had none), so that signals
-- there keep coming to p_into. p_from is deleted and p_into scored again.
CREATE FUNCTION bokvar.household_merge_as(p_into bigint, p_from bigint, p_by text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        a bokvar.household;
        b bokvar.household;
        duplicate bigint;
        n_signals integer;
        n_tasks integer;
        n_people integer;
BEGIN
        -- No ingest matches a signal to either meanwhile.
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT * INTO a FROM bokvar.household WHERE id = p_into FOR UPDATE;
        SELECT * INTO b FROM bokvar.household WHERE id = p_from FOR UPDATE;
        IF a.id IS NULL OR b.id IS NULL THEN
                RAISE EXCEPTION 'no household %', CASE WHEN a.id IS NULL THEN p_into ELSE p_from END
                        USING ERRCODE = 'no_data_found';
        END IF;

        SELECT t.id INTO duplicate FROM bokvar.task t
        WHERE t.household_id = p_from AND t.status = 'open'
          AND EXISTS (SELECT 1 FROM bokvar.task o WHERE o.household_id = p_into AND o.status = 'open');
        IF duplicate IS NOT NULL THEN
                PERFORM bokvar.task_close_as(duplicate, p_by, 'duplicate',
                                             format('household %s was merged into household %s', p_from, p_into));
        END IF;
        UPDATE bokvar.task SET household_id = p_into WHERE household_id = p_from;
        GET DIAGNOSTICS n_tasks = ROW_COUNT;
        UPDATE bokvar.signal SET household_id = p_into WHERE household_id = p_from;
        GET DIAGNOSTICS n_signals = ROW_COUNT;
        UPDATE bokvar.signal_version SET household_id = p_into WHERE household_id = p_from;
        UPDATE bokvar.household_person SET household_id = p_into WHERE household_id = p_from;
        GET DIAGNOSTICS n_people = ROW_COUNT;
        UPDATE bokvar.household_person SET split_from = p_into WHERE split_from = p_from;
        UPDATE bokvar.children_correction SET household_id = p_into WHERE household_id = p_from;
        UPDATE bokvar.household_alias SET household_id = p_into WHERE household_id = p_from;
        INSERT INTO bokvar.score_history (household_id, scored_at, as_of, score, class, ruleset_version, explanation)
        SELECT p_into, scored_at, as_of, score, class, ruleset_version, explanation FROM bokvar.score_history
        WHERE household_id = p_from
        ON CONFLICT DO NOTHING;
        DELETE FROM bokvar.score_history WHERE household_id = p_from;
        DELETE FROM bokvar.score WHERE household_id = p_from;
        DELETE FROM bokvar.household WHERE id = p_from;
        IF b.address_key IS NOT NULL AND a.address_key IS NOT NULL THEN
                INSERT INTO bokvar.household_alias (address_key, household_id, merged_from)
                VALUES (b.address_key, p_into, p_from);
        END IF;
        UPDATE bokvar.household
        SET address_key = coalesce(address_key, b.address_key), postal_code = coalesce(postal_code, b.postal_code),
            city = coalesce(city, b.city), landlord = coalesce(landlord, b.landlord),
            first_signal_at = least(first_signal_at, b.first_signal_at),
            last_signal_at = greatest(last_signal_at, b.last_signal_at), updated_at = now()
        WHERE id = p_into;

        PERFORM bokvar.household_children_settle(ARRAY[p_into]);
        PERFORM bokvar.score_apply(ARRAY[p_into], current_date);
        -- A task that came over follows its new household's score even
        -- when the score itself did not change, and its children and
        -- eviction date.
        PERFORM bokvar.tasks_sync(ARRAY[p_into], current_date);
        PERFORM bokvar.tasks_follow_households(ARRAY[p_into]);
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'household.merge', p_into::text,
                jsonb_build_object('merged', p_from, 'signals', n_signals, 'tasks', n_tasks, 'people', n_people,
                                   'closed_as_duplicate', duplicate, 'session_user', session_user));
        RETURN bokvar.household_now(p_into)
               || jsonb_build_object('merged', p_from, 'signals', n_signals, 'tasks', n_tasks, 'people', n_people,
                                     'closed_as_duplicate', duplicate);
END;
$$;

-- The identity number in p_text, normalised; else an error with SQLSTATE
-- p_errcode that says what is wrong with it and never repeats it.
CREATE FUNCTION bokvar.identity_require(p_text text, p_errcode text) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
        pid text;
        problem text;
BEGIN
        SELECT x.id, x.problem INTO pid, problem FROM bokvar.identity_number(coalesce(p_text, ''), current_date) x;
        IF pid IS NULL THEN
                RAISE EXCEPTION 'that is not a valid identity number: %',
                        regexp_replace(coalesce(problem, 'is empty'), '^is ', 'it is ') USING ERRCODE = p_errcode;
        END IF;
        RETURN pid;
END;
$$;

-- `bokvarctl household split A --person NUMBER`: the person's signals in
-- household p_household are another home's. Caseworkers may split a
-- household they may see, coordinators any. An invalid number, or one
-- without a signal in the household, is refused without repeating it.
CREATE FUNCTION bokvar.household_split(p_household bigint, p_person text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator}', 'split a household', false);
        pid text := bokvar.identity_require(p_person, 'invalid_parameter_value');
BEGIN
        PERFORM bokvar.household_require(p_household);
        RETURN bokvar.household_split_as(p_household, pid, who);
END;
$$;

-- The split, once checked (elevated; granted to nobody): a new household
-- gets the person's signals (and their earlier versions); the person's
-- home is it, split from p_household, so that later signals about them at
-- p_household's address come to it too. The tasks stay. Both households
-- are scored again.
CREATE FUNCTION bokvar.household_split_as(p_household bigint, p_person text, p_by text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        c bigint;
        n integer;
BEGIN
        PERFORM pg_advisory_xact_lock(7243155002);
        PERFORM 1 FROM bokvar.household WHERE id = p_household FOR UPDATE;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no household %', p_household USING ERRCODE = 'no_data_found';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM bokvar.signal WHERE household_id = p_household AND person_id = p_person) THEN
                RAISE EXCEPTION 'household % has no signal about anyone with that identity number', p_household
                        USING ERRCODE = 'no_data_found';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM bokvar.signal WHERE household_id = p_household
                                                     AND person_id IS DISTINCT FROM p_person) THEN
                RAISE EXCEPTION 'every signal of household % is about that person: there is nothing to split it from',
                        p_household USING ERRCODE = 'invalid_parameter_value';
        END IF;

        INSERT INTO bokvar.household (postal_code, city, landlord, first_signal_at, last_signal_at)
        SELECT bokvar.norm_word((array_agg(s.postal_code ORDER BY s.occurred_at DESC, s.id DESC)
                                 FILTER (WHERE s.postal_code IS NOT NULL))[1]),
               (array_agg(s.city ORDER BY s.occurred_at DESC, s.id DESC) FILTER (WHERE s.city IS NOT NULL))[1],
               (array_agg(s.landlord ORDER BY s.occurred_at DESC, s.id DESC) FILTER (WHERE s.landlord IS NOT NULL))[1],
               min(s.occurred_at), max(s.occurred_at)
        FROM bokvar.signal s WHERE s.household_id = p_household AND s.person_id = p_person
        RETURNING id INTO c;
        UPDATE bokvar.signal_version v SET household_id = c
        FROM bokvar.signal s
        WHERE s.household_id = p_household AND s.person_id = p_person AND v.feed = s.feed
          AND v.external_id = s.external_id;
        UPDATE bokvar.signal SET household_id = c WHERE household_id = p_household AND person_id = p_person;
        GET DIAGNOSTICS n = ROW_COUNT;
        INSERT INTO bokvar.household_person AS hp (person_id, household_id, split_from) VALUES (p_person, c, p_household)
        ON CONFLICT (person_id) DO UPDATE SET household_id = excluded.household_id, split_from = excluded.split_from;
        UPDATE bokvar.household h SET first_signal_at = x.first_at, last_signal_at = x.last_at, updated_at = now()
        FROM (SELECT min(occurred_at) AS first_at, max(occurred_at) AS last_at FROM bokvar.signal
              WHERE household_id = p_household) x
        WHERE h.id = p_household;

        PERFORM bokvar.household_children_settle(ARRAY[p_household, c]);
        PERFORM bokvar.score_apply(ARRAY[p_household, c], current_date);
        PERFORM bokvar.tasks_follow_households(ARRAY[p_household, c]);
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (p_by, 'household.split', p_household::text,
                jsonb_build_object('new_household', c, 'signals', n, 'session_user', session_user));
        RETURN bokvar.household_now(p_household)
               || jsonb_build_object('new', bokvar.household_now(c), 'signals', n);
END;
$$;

-- ---------------------------------------------------------------------
-- The data subject's copy: every home with signals about the person, as
-- far as the actor may see them, and the corrections of their children.

-- One household of a copy: schema 6's household part, with the children's
-- corrections (who, when, before and after, their note) instead of the
-- whole history (whose reported counts come from signals that may be
-- other people's), and the households merged into it with the addresses
-- that still lead to it (household_alias).
CREATE FUNCTION bokvar.subject_household(p_household bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT (bokvar.household_doc(p_household) - 'signals' - 'why' - 'children_history')
               || jsonb_build_object(
                        'children_corrections', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'at', c.at, 'before', c.old_children, 'children', c.new_children, 'by', c.by,
                                'note', c.note)
                                ORDER BY c.at, c.id), '[]')
                                FROM bokvar.children_correction c WHERE c.household_id = p_household),
                        'merged_households', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'household', a.merged_from, 'at', a.merged_at, 'address_key', a.address_key)
                                ORDER BY a.merged_at, a.address_key), '[]')
                                FROM bokvar.household_alias a WHERE a.household_id = p_household),
                        'score_history', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'scored_at', s.scored_at, 'as_of', s.as_of, 'score', s.score, 'class', s.class,
                                'ruleset_version', s.ruleset_version, 'explanation', s.explanation)
                                ORDER BY s.scored_at), '[]')
                                FROM bokvar.score_history s WHERE s.household_id = p_household),
                        'rulesets', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'version', r.version, 'loaded_at', r.loaded_at, 'rules',
                                (SELECT jsonb_agg(jsonb_build_object('rule', u.name, 'description', u.description,
                                                                     'points', u.points) ORDER BY u.position)
                                 FROM bokvar.rule u WHERE u.version = r.version)) ORDER BY r.version), '[]')
                                FROM bokvar.ruleset r
                                WHERE r.version IN (SELECT s.ruleset_version FROM bokvar.score s
                                                    WHERE s.household_id = p_household
                                                    UNION SELECT s.ruleset_version FROM bokvar.score_history s
                                                    WHERE s.household_id = p_household)),
                        'tasks', (SELECT coalesce(jsonb_agg((bokvar.task_doc(t.id) - 'household' - 'score' - 'why'
                                                             - 'signals' - 'children_history') ORDER BY t.id), '[]')
                                  FROM bokvar.task t WHERE t.household_id = p_household),
                        'read_by', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'at', a.at, 'who', a.actor, 'function', a.function, 'through', a.path)
                                ORDER BY a.at, a.id), '[]')
                                FROM bokvar.access_log a WHERE a.household_id = p_household))
$$;

-- The copy of person p_person over households p_households (the person's
-- home first): each household's part, and every column of the person's own
-- signals there and their earlier versions. Elevated, to see all of a
-- household's tasks and who read it; granted to no one but the owner:
-- subject_export decides which households a person may have copied.
DROP FUNCTION bokvar.subject_doc(text, bigint);
CREATE FUNCTION bokvar.subject_doc(p_person text, p_households bigint[]) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
        SELECT jsonb_build_object(
                'identity_number', p_person,
                'exported_at', now(),
                'household', bokvar.subject_household(p_households[1]),
                'earlier_households', (SELECT coalesce(jsonb_agg(bokvar.subject_household(u.h) ORDER BY u.n), '[]')
                                       FROM unnest(p_households[2:]) WITH ORDINALITY u(h, n)),
                'signals', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'id' - 'household_id' - 'fetch_id' - 'line'
                                                      ORDER BY s.occurred_at, s.id), '[]')
                            FROM bokvar.signal s WHERE s.person_id = p_person AND s.household_id = ANY (p_households)),
                'earlier_versions', (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'signal_id' - 'household_id' - 'fetch_id'
                                                               ORDER BY v.feed, v.external_id, v.version), '[]')
                                     FROM bokvar.signal_version v
                                     WHERE v.person_id = p_person AND v.household_id = ANY (p_households)))
$$;

-- `bokvarctl subject export`: the copy of a person, over the homes the
-- actor may see that hold signals about them: the home they are known at
-- first, then the others, latest first. Each household read is logged.
CREATE OR REPLACE FUNCTION bokvar.subject_export(p_person text, p_reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        pid text;
        home bigint;
        homes bigint[];
        hh bigint;
        doc jsonb;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'export a person''s data', true);
        PERFORM bokvar.check_text('the reason', p_reason, 500);
        pid := bokvar.identity_require(p_person, 'no_data_found');
        SELECT p.household_id INTO home FROM bokvar.household_person p WHERE p.person_id = pid;
        SELECT array_agg(h.id ORDER BY h.id IS NOT DISTINCT FROM home DESC, h.last_signal_at DESC NULLS LAST, h.id DESC)
        INTO homes
        FROM bokvar.household h
        WHERE h.id = home OR h.id IN (SELECT s.household_id FROM bokvar.signal s WHERE s.person_id = pid);
        IF homes IS NULL THEN
                RAISE EXCEPTION 'bokvar holds nothing you may see about anyone with that identity number'
                        USING ERRCODE = 'no_data_found';
        END IF;
        doc := bokvar.subject_doc(pid, homes);
        -- Logged after the document is built: its read_by lists the reads before this one.
        FOREACH hh IN ARRAY homes LOOP
                PERFORM bokvar.access_logged(hh, NULL, 'subject.export', p_reason);
        END LOOP;
        RETURN doc;
END;
$$;

-- ---------------------------------------------------------------------
-- The yearly report: the figures a committee asks for.

-- The signals of the story a task answers: the household's signals
-- received since its previous task was closed, up to when the task opened.
CREATE FUNCTION bokvar.task_story(t bokvar.task) RETURNS SETOF bokvar.signal
LANGUAGE sql STABLE AS $$
        SELECT s.* FROM bokvar.signal s
        WHERE s.household_id = t.household_id AND s.occurred_at <= t.created_at::date
          AND s.received_at <= t.created_at
          AND s.received_at > coalesce((SELECT max(p.closed_at) FROM bokvar.task p
                                        WHERE p.household_id = t.household_id AND p.closed_at < t.created_at),
                                       '-infinity')
$$;

-- Schema 4's first signal of a task's story, from the story's one definition.
CREATE OR REPLACE FUNCTION bokvar.task_first_signal(t bokvar.task) RETURNS date
LANGUAGE sql STABLE AS $$
        SELECT min(s.occurred_at) FROM bokvar.task_story(t) s
$$;

-- What a task answered, for the report: the kind of the first signal of
-- its story ('unknown' without one).
CREATE FUNCTION bokvar.task_cause(t bokvar.task) RETURNS text
LANGUAGE sql STABLE AS $$
        SELECT coalesce((SELECT s.kind::text FROM bokvar.task_story(t) s ORDER BY s.occurred_at, s.id LIMIT 1), 'unknown')
$$;

-- The year's new figures, in report_parts' additive form (counts, counts
-- by key, sets of household ids):
--   tasks_reached        tasks opened in the year that a contact reached
--                        (the contact rate is them over the tasks opened)
--   families_with_children_reached, children_in_families_reached,
--   reached_children_unknown
--                        the households of those tasks: with children (and
--                        how many), and with children unknown
--   kept_home_children_unknown
--                        households that kept their home, children unknown
--   evictions_executed_with_children, children_evicted,
--   evictions_executed_children_unknown
--                        households the enforcement agency evicted in the
--                        year: with children (and how many), unknown
--   outcomes_by_cause, outcomes_by_landlord, outcomes_by_team
--                        outcomes of the tasks closed in the year, by the
--                        kind of the first signal of each task's story, the
--                        household's landlord, the task's team
--   missed_no_task, missed_no_contact
--                        the households evicted in the year that had no
--                        task opened in the year up to the eviction, or
--                        had one, but no contact reached them on or before
--                        its deadline (the legal one, else the task's
--                        deadline, else the due date)
CREATE FUNCTION bokvar.report_parts_casework(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        WITH y AS (
                SELECT make_date(p_year, 1, 1) AS first, make_date(p_year + 1, 1, 1) AS next
        ), opened AS (
                SELECT t.household_id, h.children,
                       EXISTS (SELECT 1 FROM bokvar.contact c WHERE c.task_id = t.id AND c.reached) AS reached
                FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id, y
                WHERE t.created_at >= y.first AND t.created_at < y.next
        ), reached AS (
                SELECT DISTINCT household_id, children FROM opened WHERE reached
        ), closed AS (
                SELECT t AS task, t.outcome::text AS outcome, t.team, h.children, h.landlord
                FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id, y
                WHERE t.closed_at >= y.first AND t.closed_at < y.next
        ), kept AS (
                SELECT DISTINCT (c.task).household_id, c.children FROM closed c WHERE bokvar.kept_home(c.outcome::bokvar.task_outcome)
        ), by_outcome AS (
                SELECT dim, key, jsonb_object_agg(outcome, n ORDER BY outcome) AS counts
                FROM (SELECT dim, key, outcome, count(*) AS n
                      FROM (SELECT 'outcomes_by_cause' AS dim, bokvar.task_cause(c.task) AS key, c.outcome FROM closed c
                            UNION ALL SELECT 'outcomes_by_landlord', coalesce(c.landlord, 'unknown'), c.outcome FROM closed c
                            UNION ALL SELECT 'outcomes_by_team', c.team, c.outcome FROM closed c) x
                      GROUP BY 1, 2, 3) z
                GROUP BY dim, key
        ), evicted AS (
                SELECT s.household_id, max(s.occurred_at) AS day, h.children
                FROM bokvar.signal s JOIN bokvar.household h ON h.id = s.household_id, y
                WHERE s.source = 'enforcement' AND s.kind = 'eviction_executed'
                  AND s.occurred_at >= y.first AND s.occurred_at < y.next
                GROUP BY s.household_id, h.children
        ), missed AS (
                SELECT e.household_id,
                       NOT EXISTS (SELECT 1 FROM bokvar.task t WHERE t.household_id = e.household_id
                                   AND t.created_at::date BETWEEN e.day - 365 AND e.day) AS no_task,
                       NOT EXISTS (SELECT 1 FROM bokvar.task t JOIN bokvar.contact c ON c.task_id = t.id AND c.reached
                                   WHERE t.household_id = e.household_id
                                     AND t.created_at::date BETWEEN e.day - 365 AND e.day
                                     AND c.at::date <= coalesce(t.legal_deadline, t.deadline, t.due)) AS no_contact
                FROM evicted e
        )
        SELECT jsonb_build_object(
                'tasks_reached', (SELECT count(*) FROM opened WHERE reached),
                'families_with_children_reached', (SELECT count(*) FROM reached WHERE children > 0),
                'children_in_families_reached', (SELECT coalesce(sum(children), 0) FROM reached WHERE children > 0),
                'reached_children_unknown', (SELECT count(*) FROM reached WHERE children IS NULL),
                'kept_home_children_unknown', (SELECT count(*) FROM kept WHERE children IS NULL),
                'evictions_executed_with_children', (SELECT count(*) FROM evicted WHERE children > 0),
                'children_evicted', (SELECT coalesce(sum(children), 0) FROM evicted WHERE children > 0),
                'evictions_executed_children_unknown', (SELECT count(*) FROM evicted WHERE children IS NULL),
                'missed_no_task', (SELECT coalesce(jsonb_agg(household_id ORDER BY household_id), '[]')
                                   FROM missed WHERE no_task),
                'missed_no_contact', (SELECT coalesce(jsonb_agg(household_id ORDER BY household_id), '[]')
                                      FROM missed WHERE NOT no_task AND no_contact))
               || jsonb_build_object('outcomes_by_cause', '{}'::jsonb, 'outcomes_by_landlord', '{}'::jsonb,
                                     'outcomes_by_team', '{}'::jsonb)
               || coalesce((SELECT jsonb_object_agg(dim, counts)
                            FROM (SELECT dim, jsonb_object_agg(key, counts ORDER BY key) AS counts FROM by_outcome
                                  GROUP BY dim) d), '{}')
$$;

-- The year's figures in additive form: schema 8's (schema 6's, kept as
-- report_parts_yearly, and the months), but for "families with children
-- reached out to" and their children, which counted tasks opened whatever
-- came of them; the families a contact reached replace them. Schema 8's
-- report_combine and report_combine_counts already add counts by key
-- (outcomes by cause, landlord, team) and lists (the missed households) as
-- this needs.
CREATE OR REPLACE FUNCTION bokvar.report_parts(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT bokvar.report_parts_yearly(p_year) - 'families_with_children_reached_out_to' - 'children_in_them'
               || bokvar.report_months(p_year) || bokvar.report_parts_casework(p_year)
$$;

-- The year's report: what is there and what was purged, with the figures
-- taken from others: the median and the share (schema 6), the contact
-- rate, and the number of missed cases.
CREATE OR REPLACE FUNCTION bokvar.report(p_year integer) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        f jsonb;
BEGIN
        PERFORM bokvar.actor_require('{coordinator,auditor}', 'read the yearly report', true);
        f := bokvar.report_combine(bokvar.report_parts(p_year),
                                   (SELECT r.figures FROM bokvar.report_purged r WHERE r.year = p_year), 1);
        RETURN f - 'contact_days' - 'contact_before' - 'contact_counted'
               || jsonb_build_object(
                        'median_days_signal_to_contact',
                        (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d::integer)
                         FROM jsonb_array_elements_text(f -> 'contact_days') d),
                        'contact_before_deadline_share',
                        CASE WHEN (f ->> 'contact_counted')::numeric > 0
                             THEN round((f ->> 'contact_before')::numeric / (f ->> 'contact_counted')::numeric, 3) END,
                        'contact_rate',
                        CASE WHEN (f ->> 'tasks_opened')::numeric > 0
                             THEN round((f ->> 'tasks_reached')::numeric / (f ->> 'tasks_opened')::numeric, 3) END,
                        'missed_cases',
                        (SELECT count(DISTINCT d) FROM (SELECT jsonb_array_elements(f -> 'missed_no_task')
                                                        UNION ALL SELECT jsonb_array_elements(f -> 'missed_no_contact')) x(d)));
END;
$$;

-- ---------------------------------------------------------------------
-- The purge: corrections and aliases go with their household (ON DELETE
-- CASCADE); schema 6's purge (kept as purge_run_households) counts them too.
ALTER FUNCTION bokvar.purge_run(date) RENAME TO purge_run_households;
CREATE FUNCTION bokvar.purge_run(p_today date) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        corrections bigint := (SELECT count(*) FROM bokvar.children_correction);
        aliases bigint := (SELECT count(*) FROM bokvar.household_alias);
        c jsonb;
BEGIN
        c := bokvar.purge_run_households(p_today);
        RETURN c || jsonb_build_object(
                'children_correction', corrections - (SELECT count(*) FROM bokvar.children_correction),
                'household_alias', aliases - (SELECT count(*) FROM bokvar.household_alias));
END;
$$;

-- ---------------------------------------------------------------------
-- Privileges: access_grant (schema 8's wrapper around 007's, kept as
-- access_grant_web) redefined in full with the caseworkers' and
-- coordinators' merge and split beside schema 8's grants, so that every
-- grant beyond 007's is in one place.
CREATE OR REPLACE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
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
        IF p_function IN ('caseworker', 'coordinator') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.household_merge(bigint, bigint), '
                               'bokvar.household_split(bigint, text) TO %I', p_role);
        END IF;
        RETURN notes;
END;
$$;

-- Nobody but the owner executes a new function unless access_grant grants
-- it; the order's key is for everyone (the views call it as the person).
REVOKE EXECUTE ON FUNCTION bokvar.children_reports(bigint), bokvar.household_children_settle(bigint[]),
        bokvar.household_doc(bigint, timestamptz), bokvar.household_require(bigint),
        bokvar.household_now(bigint), bokvar.identity_require(text, text), bokvar.eviction_until(bigint),
        bokvar.tasks_follow_households(bigint[]), bokvar.household_merge(bigint, bigint),
        bokvar.household_merge_as(bigint, bigint, text), bokvar.household_split(bigint, text),
        bokvar.household_split_as(bigint, text, text), bokvar.subject_household(bigint),
        bokvar.subject_doc(text, bigint[]), bokvar.task_story(bokvar.task), bokvar.task_cause(bokvar.task),
        bokvar.report_parts_casework(integer), bokvar.purge_run(date)
        FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bokvar.priority_key(bokvar.risk_class, integer, date, date, integer, date) TO PUBLIC;
