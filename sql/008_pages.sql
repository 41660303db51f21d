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
-- Privileges. The pages' reads are the web service's; choosing one's
-- language any person's (through the web service, a member of their
-- roles). access_grant (007) keeps doing the rest.

REVOKE EXECUTE ON FUNCTION bokvar.my_language_set(text), bokvar.web_person(text),
        bokvar.outbox_claim(text, integer, integer, jsonb, text[], bigint[]) FROM PUBLIC;

ALTER FUNCTION bokvar.access_grant(text, name) RENAME TO access_grant_web;

CREATE FUNCTION bokvar.access_grant(p_function text, p_role name) RETURNS text[]
LANGUAGE plpgsql AS $$
DECLARE
        notes text[] := bokvar.access_grant_web(p_function, p_role);
BEGIN
        IF p_function IN ('caseworker', 'coordinator', 'operator', 'auditor') THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.my_language_set(text) TO %I', p_role);
        ELSIF p_function = 'web' THEN
                EXECUTE format('GRANT EXECUTE ON FUNCTION bokvar.web_person(text) TO %I', p_role);
        END IF;
        RETURN notes;
END;
$$;
REVOKE EXECUTE ON FUNCTION bokvar.access_grant(text, name) FROM PUBLIC;
