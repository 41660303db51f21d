-- SPDX-License-Identifier: GPL-3.0-or-later
-- People and the law: who acts (actors, established by PostgreSQL, never
-- claimed by the caller), what each may see (row-level security keyed on
-- the actor), a log of every read of a household's personal data, retention
-- that deletes, and the data subject's copy.
--
-- Who is acting. bokvar.yaml declares actors (teams' caseworkers, and
-- coordinators, operators, auditors and case systems under people:); the
-- daemon stores them in bokvar.actor (config_sync). An actor's login is a
-- PostgreSQL role: bokvar.current_actor() maps session_user to it, so SET
-- ROLE changes nothing about who acts. The one exception is the web
-- service: a member of this database's web group role may state, per
-- transaction, which signed-on person it acts for (bokvar.act_for).
--
-- Who sees what. Every table holding personal data has row-level security,
-- enabled and forced, so that the SECURITY DEFINER functions (which run as
-- the schema's owner) are held to the calling person's rows too. The owner's
-- own sessions (bokvard, bokvarctl migrate) see every row: the policies
-- reduce to true for them at plan time (bokvar.session_is_system), so ingest,
-- scoring and dispatch are planned as before. A definer function that must
-- see everything to do its job (the report, a rules preview, the purge)
-- says so in its search_path (bokvar.elevated), and only such functions
-- can: the mark counts only while the owner is the current user.
--
-- People read personal data only through SECURITY DEFINER functions that
-- write one access-log row per read (household_show, task_show,
-- case_system_read, subject_export, quarantine_raw); the lists they may
-- select directly (worklist, household_list) show no identity number, name
-- or address. Each function a person may call is granted to the group roles
-- of this database (bokvar.access_setup, run by every `bokvarctl migrate`).

CREATE TYPE bokvar.actor_function AS ENUM ('caseworker', 'coordinator', 'operator', 'auditor', 'case_system');

-- The actors of bokvar.yaml, kept in step by the daemon (config_sync).
CREATE TABLE bokvar.actor (
        login text PRIMARY KEY CHECK (login ~ '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,62}$'),
        function bokvar.actor_function NOT NULL,
        teams text[] NOT NULL DEFAULT '{}'    -- caseworkers: their teams; case systems: the teams they serve
);

-- This database's group roles, one per function and the web service's.
-- Named once (access_setup), so that renaming the database changes nothing.
CREATE TABLE bokvar.access_role (
        function text PRIMARY KEY CHECK (function IN ('caseworker', 'coordinator', 'operator', 'auditor',
                                                      'case_system', 'web')),
        role name NOT NULL UNIQUE
);

-- How long things are kept (bokvar.yaml retention:; domain.md's defaults).
CREATE TABLE bokvar.retention (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        signals_without_task interval NOT NULL DEFAULT '6 months',   -- after a household's last signal
        households_with_tasks interval NOT NULL DEFAULT '18 months', -- after its last task closed
        quarantine interval NOT NULL DEFAULT '30 days',              -- after the row was last delivered
        access_log interval NOT NULL DEFAULT '2 years',
        audit_log interval NOT NULL DEFAULT '2 years',
        CHECK (signals_without_task >= '1 day' AND households_with_tasks >= '1 day' AND quarantine >= '1 day'
               AND access_log >= '1 day' AND audit_log >= '1 day')
);
INSERT INTO bokvar.retention DEFAULT VALUES;

-- Each feed's mapping as configured (config_sync): which columns or paths
-- of a quarantined raw row hold what, so that SQL can mask them.
CREATE TABLE bokvar.feed_mapping (
        feed text PRIMARY KEY,
        mapping jsonb NOT NULL
);

-- ---------------------------------------------------------------------
-- Identity.

-- True in the system's sessions: those of the schema's owner (bokvard,
-- bokvarctl migrate, `sudo -u bokvar bokvarctl`), and a superuser's (who
-- may do anything anyway). Declared IMMUTABLE on purpose: a session's
-- session_user never changes (only a superuser's SET SESSION AUTHORIZATION
-- could, and that invalidates plans made under row-level security), so
-- the planner may fold it into a constant, and does: for the owner every
-- policy below becomes true and is dropped from the plan.
CREATE FUNCTION bokvar.session_is_system() RETURNS boolean
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
        RETURN EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                       WHERE n.nspname = 'bokvar' AND r.rolname = session_user)
            OR EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = session_user AND rolsuper);
END;
$$;

-- True inside a SECURITY DEFINER function that declares it must see every
-- row: its search_path ends in the entry "bokvar: elevated", which names
-- no schema and so finds nothing (a custom setting would be the plain way,
-- but PostgreSQL 15 lets only superusers put one in a function's SET
-- clause). It counts only while the schema's owner is the current user,
-- which a person's own statements never are; a definer function that does
-- not declare it sets a search_path without it.
CREATE FUNCTION bokvar.elevated() RETURNS boolean
LANGUAGE sql STABLE AS $$
        SELECT strpos(current_setting('search_path'), '"bokvar: elevated"') > 0
           AND EXISTS (SELECT 1 FROM pg_catalog.pg_namespace n JOIN pg_catalog.pg_roles r ON r.oid = n.nspowner
                       WHERE n.nspname = 'bokvar' AND r.rolname = current_user)
$$;

-- The actor of this session: session_user's login if bokvar.yaml declares
-- it; for a member of the web group role, the person it said it acts for
-- in this transaction (act_for), or nobody. NULL for everyone else (the
-- owner's sessions included: the system is no person).
CREATE FUNCTION bokvar.current_actor() RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := session_user;
        web name;
        said text;
BEGIN
        SELECT r.role INTO web FROM bokvar.access_role r WHERE r.function = 'web';
        IF web IS NOT NULL AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = web)
           AND pg_has_role(session_user, web, 'MEMBER') THEN
                -- Set by act_for in this very transaction, or it counts for
                -- nothing: a pooled connection never carries the previous
                -- person into the next transaction.
                said := current_setting('bokvar.act_for', true);
                IF said IS NULL OR split_part(said, ':', 1) <> txid_current()::text THEN
                        RETURN NULL;
                END IF;
                who := substr(said, strpos(said, ':') + 1);
        END IF;
        RETURN (SELECT a.login FROM bokvar.actor a WHERE a.login = who);
END;
$$;

CREATE FUNCTION bokvar.actor_function() RETURNS bokvar.actor_function
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT a.function FROM bokvar.actor a WHERE a.login = bokvar.current_actor()
$$;

CREATE FUNCTION bokvar.actor_teams() RETURNS text[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT coalesce((SELECT a.teams FROM bokvar.actor a WHERE a.login = bokvar.current_actor()
                         AND a.function IN ('caseworker', 'case_system')), '{}')
$$;

-- Who is reading or acting, for the logs: the actor, or the login of a
-- system session; NULL for anyone else.
CREATE FUNCTION bokvar.current_login() RETURNS text
LANGUAGE sql STABLE AS $$
        SELECT coalesce(bokvar.current_actor(), CASE WHEN bokvar.session_is_system() THEN session_user::text END)
$$;

-- The web service states whom it acts for, for the rest of this
-- transaction. Only members of this database's web group role may; the
-- person must be a declared actor (not a case system).
CREATE FUNCTION bokvar.act_for(p_login text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        web name := (SELECT r.role FROM bokvar.access_role r WHERE r.function = 'web');
BEGIN
        IF web IS NULL OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = web)
           OR NOT pg_has_role(session_user, web, 'MEMBER') THEN
                RAISE EXCEPTION 'only the web service may act for someone (login % is not a member of its role)',
                        session_user USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM bokvar.actor a WHERE a.login = p_login AND a.function <> 'case_system') THEN
                RAISE EXCEPTION 'no person with that login is declared in bokvar.yaml'
                        USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM set_config('bokvar.act_for', txid_current()::text || ':' || p_login, true);
        RETURN p_login;
END;
$$;

-- Who this session is, for `bokvarctl whoami` and anyone wondering.
CREATE FUNCTION bokvar.whoami(OUT login text, OUT function bokvar.actor_function, OUT teams text[],
                              OUT session_login text, OUT system boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT bokvar.current_actor(), bokvar.actor_function(),
               (SELECT a.teams FROM bokvar.actor a WHERE a.login = bokvar.current_actor()),
               session_user::text, bokvar.session_is_system()
$$;

-- The login acting, if its function is one of p_functions (or the system,
-- when p_system): else an error saying who is refused what.
CREATE FUNCTION bokvar.actor_require(p_functions bokvar.actor_function[], p_what text, p_system boolean)
RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
        who text := bokvar.current_actor();
        f bokvar.actor_function := bokvar.actor_function();
BEGIN
        IF who IS NULL THEN
                IF p_system AND bokvar.session_is_system() THEN
                        RETURN session_user::text;
                END IF;
                RAISE EXCEPTION 'login % is not an actor of this bokvar database (bokvar.yaml declares them): it may not %',
                        session_user, p_what USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NOT f = ANY (p_functions) THEN
                RAISE EXCEPTION '% is % %: only a % may %', who, CASE WHEN f::text ~ '^[aeiou]' THEN 'an' ELSE 'a' END,
                        replace(f::text, '_', ' '),
                        regexp_replace(array_to_string(ARRAY(SELECT replace(x::text, '_', ' ') FROM unnest(p_functions) x),
                                                       ', '), ', ([^,]*)$', ' or \1'),
                        p_what USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN who;
END;
$$;

-- Free text a person gives (a note, a reason): at most p_max characters,
-- no control characters but line breaks. Says which, never repeats it.
CREATE FUNCTION bokvar.check_text(p_what text, p_text text, p_max integer) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
        IF length(p_text) > p_max THEN
                RAISE EXCEPTION '% is % characters long; at most % are kept', p_what, length(p_text), p_max
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        IF p_text ~ E'[\\x01-\\x09\\x0b-\\x1f\\x7f-\\x9f]' THEN
                RAISE EXCEPTION '% contains a control character; only line breaks are allowed', p_what
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
END;
$$;

-- ---------------------------------------------------------------------
-- The group roles of this database.

-- A group role's name: the database's, then _bokvar_ and the function.
-- Names are at most 63 bytes: a long database name is cut and given eight
-- hex digits of its md5, so that two long names never share roles.
CREATE FUNCTION bokvar.group_role_name(p_database text, p_function text) RETURNS name
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
        db text := p_database;
        suffix text := '_bokvar_' || p_function;
BEGIN
        IF octet_length(db) + octet_length(suffix) > 63 THEN
                db := left(db, 63 - octet_length(suffix) - 9);
                WHILE octet_length(db) > 63 - octet_length(suffix) - 9 LOOP
                        db := left(db, length(db) - 1);
                END LOOP;
                db := db || '_' || left(md5(p_database), 8);
        END IF;
        RETURN db || suffix;
END;
$$;

-- The privileges of one group role: what its people may select and execute
-- in this database. Everything else stays the owner's.
CREATE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        person_functions text := 'bokvar.household_show(bigint, timestamptz, text), bokvar.task_show(bigint, text), '
                'bokvar.subject_export(text, text), bokvar.task_ack(bigint), '
                'bokvar.task_contact(bigint, bokvar.contact_channel, boolean, text), '
                'bokvar.task_close(bigint, bokvar.task_outcome, text)';
        grant_roles text;
BEGIN
        IF p_function = 'web' THEN
                -- The web service may do what any person may: which of it
                -- counts is decided by the person it acts for. Granting one
                -- role to another takes CREATEROLE (or the admin option).
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.act_for(text) TO %I', p_role);
                IF (SELECT count(*) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                    JOIN pg_roles u ON u.oid = m.member JOIN bokvar.access_role a ON a.role = g.rolname
                    WHERE u.rolname = p_role AND a.function IN ('caseworker', 'coordinator', 'operator', 'auditor')) = 4 THEN
                        RETURN '{}';
                END IF;
                grant_roles := format('GRANT %I, %I, %I, %I TO %I',
                                      (SELECT role FROM bokvar.access_role WHERE function = 'caseworker'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'coordinator'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'operator'),
                                      (SELECT role FROM bokvar.access_role WHERE function = 'auditor'), p_role);
                BEGIN
                        EXECUTE grant_roles;
                EXCEPTION WHEN insufficient_privilege THEN
                        RETURN ARRAY[grant_roles || ';'];
                END;
                RETURN '{}';
        END IF;
        EXECUTE format('GRANT USAGE ON SCHEMA bokvar TO %I', p_role);
        EXECUTE format('GRANT SELECT ON bokvar.schema_migrations, bokvar.team TO %I', p_role);
        CASE p_function
        WHEN 'caseworker' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist, bokvar.household_list TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', person_functions, p_role);
        WHEN 'coordinator' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist, bokvar.household_list TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s, bokvar.report(integer) TO %I', person_functions, p_role);
        WHEN 'case_system' THEN
                EXECUTE format('GRANT SELECT ON bokvar.worklist TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.task_ack(bigint), '
                               'bokvar.task_contact(bigint, bokvar.contact_channel, boolean, text), '
                               'bokvar.task_close(bigint, bokvar.task_outcome, text), '
                               'bokvar.case_system_read(bigint) TO %I', p_role);
        WHEN 'operator' THEN
                EXECUTE format('GRANT SELECT ON bokvar.feed, bokvar.fetch, bokvar.quarantine_masked, bokvar.outbox, '
                               'bokvar.channel, bokvar.ruleset, bokvar.rule, bokvar.task_settings, bokvar.retention TO %I',
                               p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.quarantine_raw(text, integer), '
                               'bokvar.quarantine_retry(text, jsonb), bokvar.outbox_retry(bigint), '
                               'bokvar.rules_preview(jsonb, text, text), bokvar.purge(boolean, date) TO %I', p_role);
        WHEN 'auditor' THEN
                EXECUTE format('GRANT SELECT ON bokvar.access_log, bokvar.audit_log TO %I', p_role);
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.access_log_read(bigint, text, timestamptz, boolean, '
                               'integer), bokvar.report(integer) TO %I', p_role);
        END CASE;
        RETURN '{}';
END;
$$;

-- Creates this database's group roles when the migrating role may create
-- roles, grants each its privileges, and lets only them (and the owner)
-- connect. Returns what it could not do, as statements for an
-- administrator to run before `bokvarctl migrate` runs again (it runs this
-- every time). Roles belong to the whole cluster: another database's
-- migration may create its own at this very moment, and a name taken in
-- the meantime counts as created.
CREATE FUNCTION bokvar.access_setup() RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        f text;
        r name;
        notes text[] := '{}';
        can_create boolean := (SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user);
        db_owner boolean := (SELECT d.datdba = u.oid OR u.rolsuper FROM pg_database d, pg_roles u
                             WHERE d.datname = current_database() AND u.rolname = current_user);
        missing boolean := false;
BEGIN
        FOREACH f IN ARRAY ARRAY['caseworker', 'coordinator', 'operator', 'auditor', 'case_system', 'web'] LOOP
                INSERT INTO bokvar.access_role (function, role) VALUES (f, bokvar.group_role_name(current_database(), f))
                ON CONFLICT (function) DO NOTHING;
                r := (SELECT role FROM bokvar.access_role WHERE function = f);
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = r) THEN
                        IF NOT can_create THEN
                                notes := notes || format('CREATE ROLE %I NOLOGIN;', r);
                                missing := true;
                                CONTINUE;
                        END IF;
                        BEGIN
                                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
                        EXCEPTION WHEN duplicate_object OR unique_violation THEN
                                NULL;
                        END;
                END IF;
        END LOOP;
        IF missing THEN
                RETURN notes || format('-- then, as %I: bokvarctl migrate (it grants the roles their privileges)',
                                       current_user);
        END IF;
        FOREACH f IN ARRAY ARRAY['caseworker', 'coordinator', 'operator', 'auditor', 'case_system', 'web'] LOOP
                notes := notes || bokvar.access_grant(f, (SELECT role FROM bokvar.access_role WHERE function = f));
        END LOOP;

        -- Only this database's roles connect to it.
        IF db_owner THEN
                EXECUTE format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC', current_database());
                EXECUTE format('GRANT CONNECT ON DATABASE %I TO %s', current_database(),
                               (SELECT string_agg(format('%I', role), ', ' ORDER BY function) FROM bokvar.access_role));
                EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), current_user);
        ELSE
                notes := notes || format('REVOKE CONNECT ON DATABASE %I FROM PUBLIC;', current_database())
                               || format('GRANT CONNECT ON DATABASE %I TO %s, %I;', current_database(),
                                         (SELECT string_agg(format('%I', role), ', ' ORDER BY function)
                                          FROM bokvar.access_role), current_user);
        END IF;

        -- Schema 4's case-system role belongs to the whole cluster: it
        -- reaches nothing here any more (its logins move to this
        -- database's case-system role, see the README).
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'bokvar_case_system') THEN
                REVOKE ALL ON SCHEMA bokvar FROM bokvar_case_system;
                REVOKE ALL ON ALL TABLES IN SCHEMA bokvar FROM bokvar_case_system;
                REVOKE ALL ON ALL FUNCTIONS IN SCHEMA bokvar FROM bokvar_case_system;
                IF EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
                           WHERE g.rolname = 'bokvar_case_system') THEN
                        notes := notes || format('-- bokvar_case_system (schema 4, cluster-wide) no longer reaches '
                                                 'this database: GRANT %I TO each case-system login of this '
                                                 'database, declare it under people: case_systems: in bokvar.yaml, '
                                                 'and REVOKE bokvar_case_system FROM it',
                                                 (SELECT role FROM bokvar.access_role WHERE function = 'case_system'));
                END IF;
        END IF;
        RETURN notes;
END;
$$;

-- What bokvar.yaml declares that the cluster does not match: logins
-- without a role, or without their function's group role (they cannot
-- connect). For the daemon's log.
CREATE FUNCTION bokvar.actor_problems() RETURNS text[]
LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(CASE WHEN u.rolname IS NULL
                                       THEN format('%s %s: no such login role in the database cluster',
                                                   replace(a.function::text, '_', ' '), a.login)
                                       ELSE format('%s %s: the login is not a member of role %s, so it cannot '
                                                   'connect (GRANT %I TO %I)', replace(a.function::text, '_', ' '),
                                                   a.login, g.role, g.role, a.login) END
                                  ORDER BY a.login), '{}')
        FROM bokvar.actor a
        LEFT JOIN pg_roles u ON u.rolname = a.login
        LEFT JOIN bokvar.access_role g ON g.function = a.function::text
        WHERE u.rolname IS NULL
           OR (g.role IS NOT NULL AND EXISTS (SELECT 1 FROM pg_roles x WHERE x.rolname = g.role)
               AND NOT pg_has_role(a.login, g.role, 'MEMBER'))
$$;

-- ---------------------------------------------------------------------
-- The configuration: actors, retention and mappings join teams and
-- channels (the old body is kept under its new name).

ALTER FUNCTION bokvar.config_sync(jsonb) RENAME TO config_sync_outreach;

-- Takes the configuration (see config_sync_outreach for teams, channels
-- and tasks): the actors ({"teams": [{name, caseworkers}], "people":
-- {"coordinators": [...], "operators": [...], "auditors": [...],
-- "case_systems": [{login, teams}]}}), the retention ({"retention":
-- {signals_without_task: {months, days}, ...}}) and the feeds' mappings
-- ({"feeds": {name: mapping}}). Returns what the cluster's roles do not
-- match (actor_problems), for the log.
CREATE FUNCTION bokvar.config_sync(p_config jsonb) RETURNS text[]
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM bokvar.config_sync_outreach(p_config);
        CREATE TEMP TABLE actor_declared ON COMMIT DROP AS
        SELECT DISTINCT ON (login) login, function, teams FROM (
                SELECT cw AS login, 'caseworker'::bokvar.actor_function AS function,
                       array_agg(t ->> 'name' ORDER BY n) AS teams, 1 AS o
                FROM jsonb_array_elements(p_config -> 'teams') WITH ORDINALITY a(t, n),
                     jsonb_array_elements_text(t -> 'caseworkers') cw
                GROUP BY cw
                UNION ALL
                SELECT x, 'coordinator', '{}', 2 FROM jsonb_array_elements_text(p_config #> '{people,coordinators}') x
                UNION ALL
                SELECT x, 'operator', '{}', 3 FROM jsonb_array_elements_text(p_config #> '{people,operators}') x
                UNION ALL
                SELECT x, 'auditor', '{}', 4 FROM jsonb_array_elements_text(p_config #> '{people,auditors}') x
                UNION ALL
                SELECT c ->> 'login', 'case_system', coalesce(bokvar.jsonb_text_array(c -> 'teams'), '{}'), 5
                FROM jsonb_array_elements(p_config #> '{people,case_systems}') c
        ) d
        ORDER BY login, o;
        DELETE FROM bokvar.actor WHERE login NOT IN (SELECT login FROM actor_declared);
        INSERT INTO bokvar.actor AS a (login, function, teams)
        SELECT login, function, teams FROM actor_declared
        ON CONFLICT (login) DO UPDATE SET function = excluded.function, teams = excluded.teams
        WHERE (a.function, a.teams) IS DISTINCT FROM (excluded.function, excluded.teams);
        DROP TABLE actor_declared;

        IF p_config ? 'retention' THEN
                UPDATE bokvar.retention SET
                        signals_without_task = coalesce(bokvar.retention_interval(p_config #> '{retention,signals_without_task}'),
                                                        signals_without_task),
                        households_with_tasks = coalesce(bokvar.retention_interval(p_config #> '{retention,households_with_tasks}'),
                                                         households_with_tasks),
                        quarantine = coalesce(bokvar.retention_interval(p_config #> '{retention,quarantine}'), quarantine),
                        access_log = coalesce(bokvar.retention_interval(p_config #> '{retention,access_log}'), access_log),
                        audit_log = coalesce(bokvar.retention_interval(p_config #> '{retention,audit_log}'), audit_log);
        END IF;
        IF p_config ? 'feeds' THEN
                DELETE FROM bokvar.feed_mapping WHERE NOT p_config -> 'feeds' ? feed;
                INSERT INTO bokvar.feed_mapping AS m (feed, mapping)
                SELECT key, value FROM jsonb_each(p_config -> 'feeds')
                ON CONFLICT (feed) DO UPDATE SET mapping = excluded.mapping WHERE m.mapping <> excluded.mapping;
        END IF;
        RETURN bokvar.actor_problems();
END;
$$;

-- {months, days} as an interval (NULL stays NULL).
CREATE FUNCTION bokvar.retention_interval(j jsonb) RETURNS interval
LANGUAGE sql IMMUTABLE AS $$
        SELECT make_interval(months => coalesce((j ->> 'months')::integer, 0), days => coalesce((j ->> 'days')::integer, 0))
        WHERE j IS NOT NULL AND jsonb_typeof(j) = 'object'
$$;

-- PostgreSQL's statistics keep sample values of columns (pg_statistic),
-- where a purge cannot reach them (ANALYZE of an emptied table keeps the
-- old ones). Columns holding identity numbers, names, addresses or free
-- text are never sampled: no plan uses their distribution (lookups by
-- identity number or address go through unique indexes, which the planner
-- knows without statistics).
ALTER TABLE bokvar.signal ALTER COLUMN person_id SET STATISTICS 0, ALTER COLUMN name SET STATISTICS 0,
        ALTER COLUMN address SET STATISTICS 0, ALTER COLUMN apartment SET STATISTICS 0;
ALTER TABLE bokvar.signal_version ALTER COLUMN person_id SET STATISTICS 0, ALTER COLUMN name SET STATISTICS 0,
        ALTER COLUMN address SET STATISTICS 0, ALTER COLUMN apartment SET STATISTICS 0;
ALTER TABLE bokvar.household ALTER COLUMN address_key SET STATISTICS 0;
ALTER TABLE bokvar.household_person ALTER COLUMN person_id SET STATISTICS 0;
ALTER TABLE bokvar.quarantine ALTER COLUMN raw SET STATISTICS 0, ALTER COLUMN fields SET STATISTICS 0,
        ALTER COLUMN doc SET STATISTICS 0, ALTER COLUMN reason SET STATISTICS 0;
ALTER TABLE bokvar.task ALTER COLUMN note SET STATISTICS 0;
ALTER TABLE bokvar.contact ALTER COLUMN note SET STATISTICS 0;

-- ---------------------------------------------------------------------
-- The access log: who read which household's personal data, when, through
-- what, and why where the path asks. Rows are only ever added, but for the
-- purge, which deletes rows past their retention and clears the reasons of
-- households it deletes.

CREATE TABLE bokvar.access_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,                    -- the login who read (the person the web service acted for)
        function bokvar.actor_function,         -- theirs, then; NULL for the system's own sessions
        via text NOT NULL DEFAULT session_user, -- the database login that asked (the web service's, say)
        household_id bigint,                    -- NULL for reads of no household (raw quarantined rows)
        task_id bigint,
        path text NOT NULL CHECK (path ~ '^[a-z_.]+$'),
        reason text CHECK (length(reason) <= 500),
        detail jsonb NOT NULL DEFAULT '{}'
);
ALTER TABLE bokvar.access_log ALTER COLUMN reason SET STATISTICS 0;
CREATE INDEX access_log_household ON bokvar.access_log (household_id, at);
CREATE INDEX access_log_at ON bokvar.access_log (at);
COMMENT ON TABLE bokvar.access_log IS 'one row per read of a household''s personal data; append-only but for the purge';

-- One row for this read, by whoever is reading.
CREATE FUNCTION bokvar.access_logged(p_household bigint, p_task bigint, p_path text, p_reason text,
                                     p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE sql AS $$
        INSERT INTO bokvar.access_log (actor, function, household_id, task_id, path, reason, detail)
        VALUES (bokvar.current_login(), bokvar.actor_function(), p_household, p_task, p_path, nullif(p_reason, ''),
                p_detail)
$$;

-- Both logs refuse changes, but for the purge's: the only elevated
-- definer function that changes them (a person cannot be the owner, and
-- holds no privilege to change either table anyway).
CREATE OR REPLACE FUNCTION bokvar.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
        IF bokvar.elevated() THEN
                RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
        END IF;
        RAISE EXCEPTION 'bokvar.% is append-only', TG_TABLE_NAME;
END;
$$;

CREATE TRIGGER access_log_append_only
        BEFORE UPDATE OR DELETE ON bokvar.access_log
        FOR EACH ROW EXECUTE FUNCTION bokvar.audit_log_append_only();

-- ---------------------------------------------------------------------
-- Row-level security: enabled and forced on every table with personal
-- data. One policy for the system (the owner's sessions, elevated
-- functions), folded to true or to a constant-time test at plan time; the
-- others say what each function of person sees. Subqueries on bokvar.task
-- are planned as one hashed set, and only for tables people reach through
-- views and definer functions (which check them as the owner).

-- The tasks the actor's function and teams show: coordinators all,
-- caseworkers and case systems those of their teams.
CREATE FUNCTION bokvar.visible_tasks() RETURNS bigint[]
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT coalesce(array_agg(t.id), '{}') FROM bokvar.task t
$$;

DO $$
DECLARE
        t text;
BEGIN
        FOREACH t IN ARRAY ARRAY['household', 'household_person', 'signal', 'signal_version', 'score', 'score_history',
                                 'task', 'task_event', 'contact', 'outbox', 'quarantine', 'access_log', 'audit_log'] LOOP
                EXECUTE format('ALTER TABLE bokvar.%I ENABLE ROW LEVEL SECURITY', t);
                EXECUTE format('ALTER TABLE bokvar.%I FORCE ROW LEVEL SECURITY', t);
                EXECUTE format('CREATE POLICY system ON bokvar.%I USING (bokvar.session_is_system() OR (SELECT bokvar.elevated())) '
                               'WITH CHECK (bokvar.session_is_system() OR (SELECT bokvar.elevated()))', t);
        END LOOP;
        -- A household and what is about it: coordinators all; caseworkers
        -- and case systems the households with a task of their teams.
        FOREACH t IN ARRAY ARRAY['household_person', 'signal', 'signal_version', 'score', 'score_history'] LOOP
                EXECUTE format('CREATE POLICY team ON bokvar.%I FOR SELECT USING ('
                               '(SELECT bokvar.actor_function()) = ''coordinator'' '
                               'OR household_id IN (SELECT x.household_id FROM bokvar.task x))', t);
        END LOOP;
END;
$$;

CREATE POLICY team ON bokvar.household FOR SELECT
        USING ((SELECT bokvar.actor_function()) = 'coordinator' OR id IN (SELECT x.household_id FROM bokvar.task x));
CREATE POLICY team ON bokvar.task FOR SELECT
        USING ((SELECT bokvar.actor_function()) = 'coordinator' OR team = ANY ((SELECT bokvar.actor_teams())::text[]));
CREATE POLICY act ON bokvar.task FOR UPDATE
        USING ((SELECT bokvar.actor_function()) = 'coordinator' OR team = ANY ((SELECT bokvar.actor_teams())::text[]))
        WITH CHECK ((SELECT bokvar.actor_function()) = 'coordinator' OR team = ANY ((SELECT bokvar.actor_teams())::text[]));
CREATE POLICY team ON bokvar.task_event FOR SELECT USING (task_id IN (SELECT x.id FROM bokvar.task x));
CREATE POLICY act ON bokvar.task_event FOR INSERT WITH CHECK (task_id IN (SELECT x.id FROM bokvar.task x));
CREATE POLICY team ON bokvar.contact FOR SELECT USING (task_id IN (SELECT x.id FROM bokvar.task x));
CREATE POLICY act ON bokvar.contact FOR INSERT WITH CHECK (task_id IN (SELECT x.id FROM bokvar.task x));
-- Operators see and requeue the outbox (it carries no identity number, name
-- or address); the others see the events of their tasks.
CREATE POLICY operator ON bokvar.outbox FOR SELECT
        USING ((SELECT bokvar.actor_function()) IN ('operator', 'coordinator')
               OR task_id = ANY ((SELECT bokvar.visible_tasks())::bigint[]));
CREATE POLICY operator_retry ON bokvar.outbox FOR UPDATE
        USING ((SELECT bokvar.actor_function()) = 'operator') WITH CHECK ((SELECT bokvar.actor_function()) = 'operator');
CREATE POLICY operator ON bokvar.quarantine FOR SELECT USING ((SELECT bokvar.actor_function()) = 'operator');
-- The logs: auditors read them; everyone's reads and actions add to them,
-- in their own name only.
CREATE POLICY auditor ON bokvar.access_log FOR SELECT USING ((SELECT bokvar.actor_function()) = 'auditor');
CREATE POLICY own ON bokvar.access_log FOR INSERT WITH CHECK (actor = (SELECT bokvar.current_actor()));
CREATE POLICY auditor ON bokvar.audit_log FOR SELECT USING ((SELECT bokvar.actor_function()) = 'auditor');
CREATE POLICY own ON bokvar.audit_log FOR INSERT WITH CHECK (actor = (SELECT bokvar.current_actor()));

-- ---------------------------------------------------------------------
-- What people may select: lists without identity numbers, names or
-- addresses. Views run as their owner, so the policies above decide by the
-- session's actor what each person sees of them.

CREATE VIEW bokvar.household_list AS
SELECT p.priority, p.household_id, p.class, p.score, p.children, p.next_deadline,
       (SELECT string_agg(e ->> 'rule', ', ') FROM jsonb_array_elements(p.explanation) e) AS rules,
       h.postal_code, h.city
FROM bokvar.household_priority p JOIN bokvar.household h ON h.id = p.household_id;

-- ---------------------------------------------------------------------
-- Reading a household: one document, built by the definer functions below
-- for the households the caller's actor may see (NULL for any other).

-- The household, its score now or at p_at with the rules that gave it and
-- the signals each rule fired on, and every signal about it with names and
-- addresses as the feeds gave them (identity numbers masked).
CREATE FUNCTION bokvar.household_doc(p_household bigint, p_at timestamptz DEFAULT NULL) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        WITH sc AS (
                SELECT s.score, s.class, s.ruleset_version, s.scored_at, s.explanation, s.next_deadline, s.as_of
                FROM bokvar.score s WHERE s.household_id = p_household AND p_at IS NULL
        ), past AS (
                SELECT a.score, a.class, a.ruleset_version, a.scored_at, a.explanation
                FROM bokvar.score_at(p_household, p_at) a WHERE p_at IS NOT NULL
        ), expl AS (
                SELECT coalesce((SELECT explanation FROM sc), (SELECT explanation FROM past), '[]') AS e
        )
        SELECT jsonb_build_object(
                'household', jsonb_build_object(
                        'id', h.id, 'children', h.children, 'postal_code', h.postal_code, 'city', h.city,
                        'landlord', h.landlord, 'first_signal_at', h.first_signal_at, 'last_signal_at', h.last_signal_at,
                        'persons', (SELECT count(*) FROM bokvar.household_person p WHERE p.household_id = h.id)),
                'score', coalesce((SELECT to_jsonb(sc) FROM sc), (SELECT to_jsonb(past) FROM past)),
                'why', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'points', CASE WHEN (x ->> 'points')::integer > 0 THEN '+' ELSE '' END || (x ->> 'points'),
                                'rule', x ->> 'rule', 'description', coalesce(x ->> 'description', ''),
                                'because', (SELECT string_agg(format('%s %s (%s)', s.kind, s.occurred_at, s.feed), '; '
                                                              ORDER BY s.occurred_at)
                                            FROM bokvar.signal s
                                            WHERE s.household_id = h.id
                                              AND s.id IN (SELECT jsonb_array_elements_text(x -> 'signals')::bigint)))
                                ORDER BY n), '[]')
                        FROM expl, jsonb_array_elements(expl.e) WITH ORDINALITY y(x, n)),
                'signals', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'id', s.id, 'feed', s.feed, 'external_id', s.external_id, 'source', s.source, 'kind', s.kind,
                                'occurred_at', s.occurred_at, 'deadline', s.deadline,
                                'person', bokvar.mask_identity(s.person_id), 'name', s.name, 'address', s.address,
                                'postal_code', s.postal_code, 'apartment', s.apartment, 'children', s.children,
                                'amount', s.amount, 'months_in_arrears', s.months_in_arrears, 'landlord', s.landlord,
                                'version', s.version) ORDER BY s.occurred_at DESC, s.id DESC), '[]')
                            FROM bokvar.signal s WHERE s.household_id = h.id))
        FROM bokvar.household h WHERE h.id = p_household
$$;

-- A task, what happened to it, the contacts made, and its household.
CREATE FUNCTION bokvar.task_doc(p_task bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT jsonb_build_object(
                'task', jsonb_build_object(
                        'id', t.id, 'status', t.status, 'team', t.team, 'assignee', t.assignee, 'class', t.class,
                        'opened_class', t.opened_class, 'top_class', t.top_class, 'score', t.score,
                        'deadline', t.deadline, 'due', t.due, 'overdue', t.due < current_date AND t.status = 'open',
                        'created_at', t.created_at, 'acknowledged_at', t.acknowledged_at,
                        'acknowledged_by', t.acknowledged_by, 'first_contact_at', t.first_contact_at,
                        'closed_at', t.closed_at, 'closed_by', t.closed_by, 'outcome', t.outcome, 'note', t.note,
                        'household_id', t.household_id),
                'events', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'at', e.at, 'kind', e.kind, 'by', coalesce(e.by, ''), 'class', e.class,
                                'detail', CASE WHEN e.detail = '{}' THEN '' ELSE e.detail::text END,
                                'sent', (SELECT string_agg(o.channel || ' ' || o.status, ', ' ORDER BY o.channel)
                                         FROM bokvar.outbox o WHERE o.event_id = e.event_id)) ORDER BY e.id), '[]')
                           FROM bokvar.task_event e WHERE e.task_id = t.id),
                'contacts', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                'at', c.at, 'by', c.by, 'channel', c.channel, 'reached', c.reached,
                                'note', coalesce(c.note, '')) ORDER BY c.at, c.id), '[]')
                             FROM bokvar.contact c WHERE c.task_id = t.id))
               || bokvar.household_doc(t.household_id)
        FROM bokvar.task t WHERE t.id = p_task
$$;

-- `bokvarctl household show`: a household the actor may see, logged.
CREATE FUNCTION bokvar.household_show(p_household bigint, p_at timestamptz DEFAULT NULL, p_reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        doc jsonb;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'see a household', true);
        PERFORM bokvar.check_text('the reason', p_reason, 500);
        doc := bokvar.household_doc(p_household, p_at);
        IF doc IS NULL THEN
                RAISE EXCEPTION 'no household %', p_household USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM bokvar.access_logged(p_household, NULL, 'household.show', p_reason);
        RETURN doc;
END;
$$;

-- `bokvarctl task show`: a task of the actor's teams and its household, logged.
CREATE FUNCTION bokvar.task_show(p_task bigint, p_reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        doc jsonb;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'see a task', true);
        PERFORM bokvar.check_text('the reason', p_reason, 500);
        doc := bokvar.task_doc(p_task);
        IF doc IS NULL THEN
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        PERFORM bokvar.access_logged((doc #>> '{task,household_id}')::bigint, p_task, 'task.show', p_reason);
        RETURN doc;
END;
$$;

-- What a case system needs to open its own case for a task it holds (an
-- open task of one of its teams): the household's people by identity
-- number and name, and its address as the latest signal gave it. Logged.
CREATE FUNCTION bokvar.case_system_read(p_task bigint)
RETURNS TABLE (task_id bigint, household_id bigint, person_id text, name text, address text, postal_code text,
               city text, apartment text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
        t bokvar.task;
BEGIN
        PERFORM bokvar.actor_require('{case_system}', 'read a household''s identity', false);
        SELECT * INTO t FROM bokvar.task x WHERE x.id = p_task;
        IF NOT FOUND THEN
                RAISE EXCEPTION 'no task %', p_task USING ERRCODE = 'no_data_found';
        END IF;
        IF t.status <> 'open' THEN
                RAISE EXCEPTION 'task % is closed', p_task USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM bokvar.access_logged(t.household_id, p_task, 'case_system.read', NULL);
        RETURN QUERY
        WITH a AS (
                SELECT s.address, s.postal_code, s.city, s.apartment FROM bokvar.signal s
                WHERE s.household_id = t.household_id AND s.address IS NOT NULL
                ORDER BY s.occurred_at DESC, s.id DESC LIMIT 1
        )
        SELECT t.id, t.household_id, p.person_id, p.name, a.address, a.postal_code, a.city, a.apartment
        FROM (SELECT DISTINCT ON (s.person_id) s.person_id, s.name FROM bokvar.signal s
              WHERE s.household_id = t.household_id AND s.person_id IS NOT NULL
              ORDER BY s.person_id, s.occurred_at DESC, s.id DESC) p
        LEFT JOIN a ON true
        ORDER BY p.person_id;
END;
$$;

-- The data subject's copy (GDPR art. 15) of person p_person in household
-- p_household: the household's score with its history and the rulesets
-- behind it, its tasks with their events and contacts, who read it, and
-- the person's own signals and their earlier versions. Signals about other
-- members of the household are theirs and left out. Elevated, to see all
-- of the household's tasks and who read it; granted to no one but the
-- owner: subject_export decides whose copy a person may have.
CREATE FUNCTION bokvar.subject_doc(p_person text, p_household bigint) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
        SELECT jsonb_build_object(
                'identity_number', p_person,
                'exported_at', now(),
                'household', (bokvar.household_doc(p_household) - 'signals' - 'why')
                             || jsonb_build_object(
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
                                'tasks', (SELECT coalesce(jsonb_agg((bokvar.task_doc(t.id) - 'household' - 'score'
                                                                     - 'why' - 'signals') ORDER BY t.id), '[]')
                                          FROM bokvar.task t WHERE t.household_id = p_household),
                                'read_by', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                        'at', a.at, 'who', a.actor, 'function', a.function, 'through', a.path)
                                        ORDER BY a.at, a.id), '[]')
                                        FROM bokvar.access_log a WHERE a.household_id = p_household)),
                -- Every column of the person's signals and their earlier
                -- versions, but bokvar's internal references.
                'signals', (SELECT coalesce(jsonb_agg(to_jsonb(s) - 'id' - 'household_id' - 'fetch_id' - 'line'
                                                      ORDER BY s.occurred_at, s.id), '[]')
                            FROM bokvar.signal s WHERE s.person_id = p_person),
                'earlier_versions', (SELECT coalesce(jsonb_agg(to_jsonb(v) - 'signal_id' - 'household_id' - 'fetch_id'
                                                               ORDER BY v.feed, v.external_id, v.version), '[]')
                                     FROM bokvar.signal_version v WHERE v.person_id = p_person))
$$;

-- `bokvarctl subject export`: the copy of a person whose household the
-- actor may see. An invalid number, or one bokvar does not hold for the
-- actor, is P0002 with a message that does not repeat it. Logged.
CREATE FUNCTION bokvar.subject_export(p_person text, p_reason text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        pid text;
        problem text;
        hh bigint;
        doc jsonb;
BEGIN
        PERFORM bokvar.actor_require('{caseworker,coordinator}', 'export a person''s data', true);
        PERFORM bokvar.check_text('the reason', p_reason, 500);
        SELECT x.id, x.problem INTO pid, problem FROM bokvar.identity_number(coalesce(p_person, ''), current_date) x;
        IF pid IS NULL THEN
                RAISE EXCEPTION 'that is not a valid identity number: %',
                        regexp_replace(coalesce(problem, 'is empty'), '^is ', 'it is ') USING ERRCODE = 'no_data_found';
        END IF;
        SELECT p.household_id INTO hh FROM bokvar.household_person p WHERE p.person_id = pid;
        IF hh IS NULL OR NOT EXISTS (SELECT 1 FROM bokvar.household h WHERE h.id = hh) THEN
                RAISE EXCEPTION 'bokvar holds nothing you may see about anyone with that identity number'
                        USING ERRCODE = 'no_data_found';
        END IF;
        doc := bokvar.subject_doc(pid, hh);
        -- Logged after the document is built: its read_by lists the reads before this one.
        PERFORM bokvar.access_logged(hh, NULL, 'subject.export', p_reason);
        RETURN doc;
END;
$$;

-- ---------------------------------------------------------------------
-- The quarantine as operators see it: the raw rows with only the fields
-- that are never personal (ids, kinds, dates, counts, amounts) shown;
-- identity numbers as their date of birth, everything else starred.

-- The canonical fields a quarantined row may show as they are.
CREATE FUNCTION bokvar.quarantine_shown_fields() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
        SELECT ARRAY['external_id', 'kind', 'occurred_at', 'deadline', 'children', 'amount', 'months_in_arrears']
$$;

-- An identity number as an operator may see it: its date of birth, if it is
-- one; else nothing of it.
CREATE FUNCTION bokvar.mask_any_identity(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE WHEN t IS NULL OR btrim(t) = '' THEN t
                    ELSE coalesce(bokvar.mask_identity((bokvar.identity_number(t, current_date)).id), '***') END
$$;

-- Digit runs that may be identity numbers, starred (in reasons, which
-- quote the values they complain about).
CREATE FUNCTION bokvar.mask_numbers(t text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT regexp_replace(t, '\d{6}(\d{2})?[-+ ]?\d{4}|\d{8,}', '***', 'g')
$$;

-- A JSON record with every value starred but those at the paths in p_shown
-- (jsonb texts of path arrays) and the identity number at p_person masked.
CREATE FUNCTION bokvar.jsonb_mask(j jsonb, p_shown text[], p_person text, p_path jsonb DEFAULT '[]') RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE jsonb_typeof(j)
                WHEN 'object' THEN (SELECT coalesce(jsonb_object_agg(k, bokvar.jsonb_mask(v, p_shown, p_person,
                                                                                           p_path || to_jsonb(k))), '{}')
                                    FROM jsonb_each(j) x(k, v))
                WHEN 'array' THEN (SELECT coalesce(jsonb_agg(bokvar.jsonb_mask(v, p_shown, p_person, p_path) ORDER BY n), '[]')
                                   FROM jsonb_array_elements(j) WITH ORDINALITY x(v, n))
                WHEN 'null' THEN j
                ELSE CASE WHEN p_path::text = ANY (p_shown) THEN j
                          WHEN p_path::text = p_person THEN to_jsonb(bokvar.mask_any_identity(j #>> '{}'))
                          ELSE '"***"' END
        END
$$;

-- A quarantined row, masked by its feed's mapping: a CSV record field by
-- field (by the fetch's header), a JSON record path by path; a record that
-- could not be read at all shows only its length. Without a mapping every
-- field is starred.
CREATE FUNCTION bokvar.quarantine_mask(p_fields text[], p_doc jsonb, p_header text[], p_mapping jsonb, p_raw text)
RETURNS text
LANGUAGE sql IMMUTABLE AS $$
        SELECT CASE
                WHEN p_fields IS NOT NULL THEN
                        bokvar.csv_line(ARRAY(
                                SELECT CASE WHEN v IS NULL OR btrim(v) = '' THEN v
                                            WHEN p_header[i] IS NOT NULL AND p_header[i] IN (
                                                    SELECT p_mapping #>> ARRAY['fields', f, 'column']
                                                    FROM unnest(bokvar.quarantine_shown_fields()) f) THEN v
                                            WHEN p_header[i] IS NOT NULL
                                                 AND p_header[i] = p_mapping #>> '{fields,person_id,column}'
                                                    THEN bokvar.mask_any_identity(v)
                                            ELSE '***' END
                                FROM unnest(p_fields) WITH ORDINALITY u(v, i) ORDER BY i),
                                p_mapping ->> 'delimiter')
                WHEN p_doc IS NOT NULL THEN
                        bokvar.jsonb_mask(p_doc,
                                ARRAY(SELECT (p_mapping #> ARRAY['fields', f, 'path'])::text
                                      FROM unnest(bokvar.quarantine_shown_fields()) f
                                      WHERE p_mapping #> ARRAY['fields', f, 'path'] IS NOT NULL),
                                (p_mapping #> '{fields,person_id,path}')::text)::text
                ELSE format('(%s characters that could not be read; bokvarctl quarantine --raw shows them)',
                            length(p_raw))
        END
$$;

CREATE VIEW bokvar.quarantine_masked WITH (security_barrier) AS
SELECT q.id, q.feed, q.fetch_id, q.line, bokvar.mask_numbers(q.reason) AS reason,
       bokvar.quarantine_mask(q.fields, q.doc, x.header, m.mapping, q.raw) AS raw, q.created_at, q.seen, q.last_seen_at
FROM bokvar.quarantine q
LEFT JOIN bokvar.fetch x ON x.id = q.fetch_id
LEFT JOIN bokvar.feed_mapping m ON m.feed = q.feed;

-- `bokvarctl quarantine --raw`: the rows as delivered, for an operator
-- mending a mapping. Logged (one row for the listing, no household).
CREATE FUNCTION bokvar.quarantine_raw(p_feed text, p_limit integer)
RETURNS TABLE (id bigint, feed text, fetch_id bigint, line integer, reason text, raw text, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
#variable_conflict use_column
DECLARE
        n integer;
BEGIN
        PERFORM bokvar.actor_require('{operator}', 'see quarantined rows unmasked', true);
        RETURN QUERY SELECT q.id, q.feed, q.fetch_id, q.line, q.reason, q.raw, q.created_at FROM bokvar.quarantine q
                     WHERE p_feed IS NULL OR q.feed = p_feed ORDER BY q.feed, q.id LIMIT p_limit;
        GET DIAGNOSTICS n = ROW_COUNT;
        PERFORM bokvar.access_logged(NULL, NULL, 'quarantine.raw', NULL,
                                     jsonb_build_object('feed', p_feed, 'rows', n));
END;
$$;

-- ---------------------------------------------------------------------
-- What people do with tasks: the actor from the session, never an
-- argument. Schema 4's functions do the work, under names of their own
-- that only the owner may call: called from these, they run under the
-- person's row-level security, so that a task outside the actor's teams is
-- no task to them ("no task N").

ALTER FUNCTION bokvar.task_ack(bigint, text) RENAME TO task_ack_as;
ALTER FUNCTION bokvar.task_contact(bigint, text, bokvar.contact_channel, boolean, text) RENAME TO task_contact_as;
ALTER FUNCTION bokvar.task_close(bigint, text, bokvar.task_outcome, text) RENAME TO task_close_as;
ALTER FUNCTION bokvar.outbox_retry(bigint, text) RENAME TO outbox_retry_as;
ALTER FUNCTION bokvar.task_ack_as(bigint, text) SECURITY INVOKER RESET search_path;
ALTER FUNCTION bokvar.task_contact_as(bigint, text, bokvar.contact_channel, boolean, text) SECURITY INVOKER
        RESET search_path;
ALTER FUNCTION bokvar.task_close_as(bigint, text, bokvar.task_outcome, text) SECURITY INVOKER RESET search_path;
DROP FUNCTION bokvar.case_system_grant();

CREATE FUNCTION bokvar.task_ack(p_task bigint) RETURNS bokvar.task
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT bokvar.task_ack_as(p_task, bokvar.actor_require('{caseworker,coordinator,case_system}',
                                                               'acknowledge a task', false))
$$;

-- Its checks come first: a refused contact changes nothing, and no error
-- of a constraint ever echoes the row.
CREATE FUNCTION bokvar.task_contact(p_task bigint, p_channel bokvar.contact_channel, p_reached boolean,
                                    p_note text DEFAULT NULL) RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator,case_system}', 'record a contact', false);
BEGIN
        IF p_channel IS NULL OR p_reached IS NULL THEN
                RAISE EXCEPTION 'a contact needs its channel and whether it reached the household'
                        USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM bokvar.check_text('the note', p_note, 2000);
        RETURN bokvar.task_contact_as(p_task, who, p_channel, p_reached, p_note);
END;
$$;

CREATE FUNCTION bokvar.task_close(p_task bigint, p_outcome bokvar.task_outcome, p_note text DEFAULT NULL)
RETURNS bokvar.task
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
        who text := bokvar.actor_require('{caseworker,coordinator,case_system}', 'close a task', false);
BEGIN
        IF p_outcome IS NULL THEN
                RAISE EXCEPTION 'closing a task needs its outcome' USING ERRCODE = 'invalid_parameter_value';
        END IF;
        PERFORM bokvar.check_text('the note', p_note, 2000);
        RETURN bokvar.task_close_as(p_task, who, p_outcome, p_note);
END;
$$;

-- ---------------------------------------------------------------------
-- What operators do: requeue dead letters, retry quarantined rows, preview
-- rules; each in their own name.

CREATE FUNCTION bokvar.outbox_retry(p_id bigint) RETURNS integer
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
        SELECT bokvar.outbox_retry_as(p_id, bokvar.actor_require('{operator}', 'send dead letters again', true))
$$;

-- The ingest that retries rows sees every household, as the daemon's does.
CREATE FUNCTION bokvar.quarantine_retry(p_feed text, p_mappings jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
BEGIN
        RETURN bokvar.quarantine_retry(p_feed, p_mappings,
                                       bokvar.actor_require('{operator}', 'retry quarantined rows', true));
END;
$$;

-- `bokvarctl rules diff`: loads p_rules as a ruleset that is not made
-- active (the caller rolls the transaction back) and returns what it would
-- change: a first row with household_id NULL saying whether the rules
-- differ from those in force and how many households there are, then one
-- row per household whose score or class would change. Household ids and
-- classes only.
CREATE FUNCTION bokvar.rules_preview(p_rules jsonb, p_text text, p_file text)
RETURNS TABLE (new boolean, households bigint, household_id bigint, from_class bokvar.risk_class,
               to_class bokvar.risk_class, from_score integer, to_score integer, class_change integer,
               rules_added text[], rules_removed text[])
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
#variable_conflict use_column
DECLARE
        who text := bokvar.actor_require('{operator}', 'preview rules', true);
        v integer;
        is_new boolean;
        n bigint := (SELECT count(*) FROM bokvar.household);
BEGIN
        SELECT l.version, l.new INTO v, is_new FROM bokvar.ruleset_load(p_rules, p_text, p_file, who, false) l;
        RETURN QUERY SELECT is_new, n, NULL::bigint, NULL::bokvar.risk_class, NULL::bokvar.risk_class, NULL::integer,
                            NULL::integer, NULL::integer, NULL::text[], NULL::text[];
        RETURN QUERY SELECT is_new, n, d.* FROM bokvar.rules_diff(v) d;
END;
$$;

-- ---------------------------------------------------------------------
-- The access log as auditors read it. A read is unusual when the reader
-- had no task for that household at the time: none open then that was
-- assigned to them or that they had acted on (a case system: none open of
-- its teams).
CREATE FUNCTION bokvar.access_log_read(p_household bigint, p_actor text, p_since timestamptz, p_unusual boolean,
                                       p_limit integer)
RETURNS TABLE (id bigint, at timestamptz, actor text, function bokvar.actor_function, via text, household_id bigint,
               task_id bigint, path text, reason text, unusual boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
#variable_conflict use_column
BEGIN
        PERFORM bokvar.actor_require('{auditor}', 'read the access log', true);
        RETURN QUERY
        SELECT * FROM (
                SELECT a.id, a.at, a.actor, a.function, a.via, a.household_id, a.task_id, a.path, a.reason,
                       a.household_id IS NOT NULL AND NOT EXISTS (
                               SELECT 1 FROM bokvar.task t
                               WHERE t.household_id = a.household_id AND t.created_at <= a.at
                                 AND (t.closed_at IS NULL OR t.closed_at >= a.at)
                                 AND (t.assignee = a.actor
                                      OR EXISTS (SELECT 1 FROM bokvar.task_event e
                                                 WHERE e.task_id = t.id AND e.by = a.actor AND e.at <= a.at)
                                      OR (a.function = 'case_system'
                                          AND t.team = ANY ((SELECT ac.teams FROM bokvar.actor ac WHERE ac.login = a.actor)::text[]))))
                               AS unusual
                FROM bokvar.access_log a
                WHERE (p_household IS NULL OR a.household_id = p_household) AND (p_actor IS NULL OR a.actor = p_actor)
                  AND (p_since IS NULL OR a.at >= p_since)) x
        WHERE NOT p_unusual OR x.unusual
        ORDER BY x.at, x.id
        LIMIT p_limit;
END;
$$;

-- ---------------------------------------------------------------------
-- The yearly report survives the purge: before rows go, the figures they
-- made are kept per year, as counts and the values medians are taken over
-- (report_purged); the report adds them to what is still there.

ALTER FUNCTION bokvar.report(integer) RENAME TO report_live;

CREATE TABLE bokvar.report_purged (
        year integer PRIMARY KEY,
        figures jsonb NOT NULL,             -- in report_parts' form: counts, contact_days, contact_before, contact_counted
        updated_at timestamptz NOT NULL DEFAULT now()
);

-- The year's figures in additive form: report_live's counts, and for the
-- median and the share the values they are computed from (days from
-- first signal to first contact; tasks with contact before the deadline,
-- tasks counted), as report_live defines them.
CREATE FUNCTION bokvar.report_parts(p_year integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
        SELECT bokvar.report_live(p_year) - 'median_days_signal_to_contact' - 'contact_before_deadline_share'
               || jsonb_build_object(
                        'contact_days', coalesce(jsonb_agg(o.first_contact_at::date - o.first_signal
                                                           ORDER BY o.first_contact_at::date - o.first_signal)
                                                 FILTER (WHERE o.first_contact_at IS NOT NULL AND o.first_signal IS NOT NULL),
                                                 '[]'),
                        'contact_before', count(*) FILTER (WHERE o.first_contact_at::date <= o.by_date
                                                           AND (o.first_contact_at IS NOT NULL OR o.by_date < current_date)),
                        'contact_counted', count(*) FILTER (WHERE o.first_contact_at IS NOT NULL OR o.by_date < current_date))
        FROM (SELECT t.first_contact_at, bokvar.task_first_signal(t) AS first_signal,
                     coalesce(t.legal_deadline, t.deadline, t.due) AS by_date
              FROM bokvar.task t JOIN bokvar.household h ON h.id = t.household_id
              WHERE t.created_at >= make_date(p_year, 1, 1) AND t.created_at < make_date(p_year + 1, 1, 1)) o
$$;

-- a + p_sign * b, figure by figure (b NULL: a). Signals by source and kind,
-- outcomes by name; the days as a multiset (subtracting removes values).
CREATE FUNCTION bokvar.report_combine(a jsonb, b jsonb, p_sign integer) RETURNS jsonb
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
                                            UNION ALL SELECT 2, jsonb_array_elements(b -> 'signals')) y(o, x)
                                      GROUP BY 1, 2) z)
                        WHEN k = 'outcomes' THEN (
                                SELECT coalesce(jsonb_object_agg(key, n) FILTER (WHERE n <> 0), '{}')
                                FROM (SELECT key, sum(value::bigint * CASE WHEN o = 1 THEN 1 ELSE p_sign END) AS n
                                      FROM (SELECT 1, * FROM jsonb_each_text(a -> 'outcomes')
                                            UNION ALL SELECT 2, * FROM jsonb_each_text(b -> 'outcomes')) y(o, key, value)
                                      GROUP BY key) z)
                        WHEN k = 'contact_days' THEN (
                                SELECT coalesce(jsonb_agg(d ORDER BY d), '[]')
                                FROM (SELECT d FROM jsonb_array_elements(a -> k) x(d)
                                      UNION ALL SELECT d FROM jsonb_array_elements(b -> k) x(d) WHERE p_sign > 0
                                      EXCEPT ALL SELECT d FROM jsonb_array_elements(b -> k) x(d) WHERE p_sign < 0) z)
                        ELSE to_jsonb(coalesce((a ->> k)::numeric, 0) + p_sign * coalesce((b ->> k)::numeric, 0))
                END)
                FROM jsonb_object_keys(a) k) END
$$;

-- The year's report: what is there and what was purged, as report_live
-- publishes it (the median and the share from their values).
CREATE FUNCTION bokvar.report(p_year integer) RETURNS jsonb
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
                             THEN round((f ->> 'contact_before')::numeric / (f ->> 'contact_counted')::numeric, 3) END);
END;
$$;

-- ---------------------------------------------------------------------
-- Retention: the purge.

CREATE TABLE bokvar.purge_state (
        only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
        last_purge_at timestamptz,
        last_purge_on date
);
INSERT INTO bokvar.purge_state DEFAULT VALUES;

-- Deletes what is due on p_today, in the caller's transaction, and returns
-- the counts: per class (households without a task and their signals,
-- households with tasks, quarantined rows, access log, audit log) and per
-- table. A household goes with everything about it (its people, signals
-- and their earlier versions, scores and their history, tasks with their
-- events, contacts and outbox rows), and the reasons given for reading it
-- are cleared; the years it counted in keep its figures first.
CREATE FUNCTION bokvar.purge_run(p_today date) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
        r bokvar.retention;
        c jsonb := '{}';
        n bigint;
        yr integer;
BEGIN
        -- No ingest matches a signal to a household while it is deleted.
        PERFORM pg_advisory_xact_lock(7243155002);
        SELECT * INTO r FROM bokvar.retention;

        -- A household is due when its last signal (or the nearest deadline
        -- still ahead) is older than the retention of signals, and it has
        -- no task, or none open and the last closed long enough ago.
        CREATE TEMP TABLE purge_home ON COMMIT DROP AS
        SELECT h.id, t.household_id IS NULL AS without_task
        FROM bokvar.household h
        LEFT JOIN bokvar.score s ON s.household_id = h.id
        LEFT JOIN (SELECT household_id, bool_or(status = 'open') AS open, max(closed_at) AS last_closed
                   FROM bokvar.task GROUP BY household_id) t ON t.household_id = h.id
        WHERE greatest(coalesce(h.last_signal_at, h.created_at::date), s.next_deadline)
                      < (p_today - r.signals_without_task)::date
          AND (t.household_id IS NULL OR (NOT t.open AND t.last_closed < p_today - r.households_with_tasks));
        CREATE TEMP TABLE purge_task ON COMMIT DROP AS
        SELECT t.id FROM bokvar.task t JOIN purge_home p ON p.id = t.household_id;

        -- The years these households count in, with their figures now.
        CREATE TEMP TABLE purge_year ON COMMIT DROP AS
        SELECT x.y AS year, bokvar.report_parts(x.y) AS before
        FROM (SELECT DISTINCT extract(year FROM s.occurred_at)::integer FROM bokvar.signal s
              JOIN purge_home p ON p.id = s.household_id
              UNION SELECT extract(year FROM t.created_at)::integer FROM bokvar.task t JOIN purge_task x ON x.id = t.id
              UNION SELECT extract(year FROM t.closed_at)::integer FROM bokvar.task t JOIN purge_task x ON x.id = t.id
              WHERE t.closed_at IS NOT NULL) x(y);

        c := c || jsonb_build_object('households_without_task', (SELECT count(*) FROM purge_home WHERE without_task),
                                     'households_with_tasks', (SELECT count(*) FROM purge_home WHERE NOT without_task));

        DELETE FROM bokvar.outbox o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('outbox', n);
        DELETE FROM bokvar.contact o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('contact', n);
        DELETE FROM bokvar.task_event o USING purge_task x WHERE o.task_id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('task_event', n);
        DELETE FROM bokvar.task o USING purge_task x WHERE o.id = x.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('task', n);
        DELETE FROM bokvar.score_history o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('score_history', n);
        DELETE FROM bokvar.score o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('score', n);
        -- Earlier versions may have been matched elsewhere: by household and
        -- by the signal they are versions of.
        DELETE FROM bokvar.signal_version v
        WHERE v.household_id IN (SELECT id FROM purge_home)
           OR (v.external_id, v.feed) IN (SELECT s.external_id, s.feed FROM bokvar.signal s
                                          JOIN purge_home p ON p.id = s.household_id);
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('signal_version', n);
        DELETE FROM bokvar.signal o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('signal', n);
        DELETE FROM bokvar.household_person o USING purge_home p WHERE o.household_id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('household_person', n);
        DELETE FROM bokvar.household o USING purge_home p WHERE o.id = p.id;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('household', n);
        -- Who read them stays, for the access log's own time; why they said
        -- they did is free text, and goes with the household.
        UPDATE bokvar.access_log a SET reason = NULL FROM purge_home p WHERE a.household_id = p.id AND a.reason IS NOT NULL;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('access_log_reasons_cleared', n);

        DELETE FROM bokvar.quarantine WHERE last_seen_at < p_today - r.quarantine;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('quarantine', n);
        DELETE FROM bokvar.access_log WHERE at < p_today - r.access_log;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('access_log', n);
        DELETE FROM bokvar.audit_log WHERE at < p_today - r.audit_log;
        GET DIAGNOSTICS n = ROW_COUNT; c := c || jsonb_build_object('audit_log', n);

        -- What the deleted rows counted, kept per year.
        FOR yr IN SELECT year FROM purge_year ORDER BY year LOOP
                INSERT INTO bokvar.report_purged AS p (year, figures)
                SELECT yr, bokvar.report_combine(x.before, bokvar.report_parts(yr), -1) FROM purge_year x
                WHERE x.year = yr
                ON CONFLICT (year) DO UPDATE
                SET figures = bokvar.report_combine(p.figures, excluded.figures, 1), updated_at = now();
        END LOOP;

        DROP TABLE purge_home, purge_task, purge_year;
        RETURN c;
END;
$$;

-- `bokvarctl purge` and the daemon's daily run: what is due on p_today goes,
-- all in one transaction, and an audit record says how much (counts only).
-- A dry run does the same and rolls it back: what it reports is exactly what
-- a purge would delete.
CREATE FUNCTION bokvar.purge(p_dry_run boolean, p_today date DEFAULT current_date) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp, "bokvar: elevated" AS $$
DECLARE
        who text := bokvar.actor_require('{operator}', 'purge', true);
        c jsonb;
BEGIN
        IF p_dry_run THEN
                BEGIN
                        c := bokvar.purge_run(p_today);
                        RAISE EXCEPTION USING ERRCODE = 'BVDRY';
                EXCEPTION WHEN SQLSTATE 'BVDRY' THEN
                        RETURN c || jsonb_build_object('dry_run', true);
                END;
        END IF;
        c := bokvar.purge_run(p_today);
        UPDATE bokvar.purge_state SET last_purge_at = now(), last_purge_on = p_today;
        INSERT INTO bokvar.audit_log (actor, action, subject, detail)
        VALUES (who, 'purge', p_today::text, c || jsonb_build_object('session_user', session_user));
        RETURN c || jsonb_build_object('dry_run', false);
END;
$$;

-- The daemon's daily purge: once a day however many daemons ask (NULL when
-- today's is done).
CREATE FUNCTION bokvar.purge_daily(p_today date DEFAULT current_date) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
        PERFORM 1 FROM bokvar.purge_state FOR UPDATE;
        IF (SELECT last_purge_on FROM bokvar.purge_state) >= p_today THEN
                RETURN NULL;
        END IF;
        RETURN bokvar.purge(false, p_today);
END;
$$;

-- ---------------------------------------------------------------------
-- Privileges: nobody but the owner executes bokvar's functions, unless
-- access_grant grants them; the helpers policies and views call are for
-- everyone (they reveal nothing). A later migration's functions are
-- executable by PUBLIC unless it revokes that (tests/sql/access.sql checks
-- that none is).
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA bokvar FROM PUBLIC;
GRANT EXECUTE ON FUNCTION bokvar.session_is_system(), bokvar.elevated(), bokvar.current_actor(),
        bokvar.actor_function(), bokvar.actor_teams(), bokvar.visible_tasks(), bokvar.whoami(), bokvar.mask_identity(text),
        bokvar.mask_any_identity(text), bokvar.mask_numbers(text),
        bokvar.identity_number(text, date, text[]), bokvar.se_personnummer(text, date), bokvar.no_fodselsnummer(text),
        bokvar.nl_bsn(text), bokvar.luhn10_ok(bigint), bokvar.make_date_or_null(integer, integer, integer),
        bokvar.jsonb_mask(jsonb, text[], text, jsonb), bokvar.quarantine_mask(text[], jsonb, text[], jsonb, text),
        bokvar.quarantine_shown_fields(), bokvar.csv_line(text[], text) TO PUBLIC;
