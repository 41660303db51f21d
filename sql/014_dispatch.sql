-- SPDX-License-Identifier: GPL-3.0-or-later
-- Sending the outbox with less work per event.
--
-- A claim writes claimed_until, claimed_by, attempts and last_attempt_at,
-- none of them in an index or an index's predicate: on a page with room
-- for the new version it is a HOT update, which writes no index entry.
-- With the default fillfactor (100) the rows task_events() inserts fill
-- their pages, so every claim wrote a new entry into each of the outbox's
-- indexes (its key, (event_id, channel), outbox_due). More than half of
-- each page is left free: a claim of a page's rows in one statement (a
-- batch is consecutive rows) finds room for all of their new versions,
-- which are a little longer than the rows inserted (claimed_by,
-- claimed_until and last_attempt_at were NULL; at 50 the last row of a
-- page of 340-byte payloads no longer fitted). The outcome changes status
-- (outbox_due's and outbox_dead's predicate) and cannot be HOT; it finds
-- the room the claim's dead versions leave once pruned. Measured over
-- tools/bench dispatch's drain of 100 000 events, at fillfactor 50: HOT
-- claims 4% -> 98%, WAL 1 809 -> 630 bytes per event. The price is room:
-- a page holds half as many rows. Rows written before this migration keep
-- their pages as they are.
ALTER TABLE bokvar.outbox SET (fillfactor = 45);

-- The outcomes of a batch, as 004's outbox_done() records them, in
-- PL/pgSQL: a plan kept for the session instead of a language-SQL body
-- planned again on every call (each round trip of a dispatcher), and the
-- document read once into typed columns.
CREATE OR REPLACE FUNCTION bokvar.outbox_done(p_results jsonb, p_claimer text DEFAULT NULL) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
        UPDATE bokvar.outbox o
        SET status = CASE WHEN r.ok THEN 'delivered'
                          WHEN NOT r.retry OR o.attempts >= s.max_attempts THEN 'dead'
                          ELSE 'pending' END,
            delivered_at = CASE WHEN r.ok THEN now() END,
            last_status = r.status,
            last_error = r.error,
            claimed_until = NULL,
            next_attempt_at = now() + make_interval(secs => greatest(
                    least(3600, 2 ^ least(o.attempts, 12)) * (0.75 + random() / 2),
                    least(86400, coalesce(r.retry_after, 0))))
        FROM jsonb_to_recordset(p_results)
                AS r(id bigint, ok boolean, retry boolean, status integer, retry_after integer, error text),
             bokvar.task_settings s
        WHERE o.id = r.id AND o.status = 'pending'
          AND (r.ok OR p_claimer IS NULL OR o.claimed_by = p_claimer);
END;
$$;

-- 008's claim, whose e-mail columns (the task's figures from the payload)
-- are read for e-mails only: a webhook sends the payload as it is, and
-- the dispatcher reads those columns only for a row with a recipient.
CREATE OR REPLACE FUNCTION bokvar.outbox_claim(p_claimer text, p_limit integer, p_lease integer,
                                               p_done jsonb DEFAULT '[]', p_channels text[] DEFAULT NULL,
                                               p_release bigint[] DEFAULT NULL)
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
               CASE WHEN c.recipient IS NOT NULL THEN
                       (SELECT string_agg(r, ', ') FROM jsonb_array_elements_text(c.payload #> '{data,rules}') r)
               END
        FROM claimed c
        LEFT JOIN LATERAL jsonb_to_record(CASE WHEN c.recipient IS NOT NULL THEN c.payload -> 'data' END)
                AS d(task_id bigint, team text, class text, score integer, due date, deadline date, children integer,
                     assignee text) ON true;
END;
$$;
