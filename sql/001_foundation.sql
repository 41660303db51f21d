-- SPDX-License-Identifier: GPL-3.0-or-later
-- The bokvar schema. bokvarctl migrate creates the schema and the
-- schema_migrations table before applying this file.

COMMENT ON SCHEMA bokvar IS 'bokvar: eviction-prevention early warning (signals, households, scores, tasks)';
COMMENT ON TABLE bokvar.schema_migrations IS 'one row per applied sql/NNN_*.sql, in one transaction each';

-- Who changed what, for the record a public authority must keep: rules
-- loaded, quarantined rows retried, tasks acknowledged and closed. Rows are
-- only ever inserted.
CREATE TABLE bokvar.audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        action text NOT NULL CHECK (action ~ '^[a-z_.]+$'),
        subject text,
        detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at ON bokvar.audit_log (at);
COMMENT ON TABLE bokvar.audit_log IS 'append-only record of operator and caseworker actions';

CREATE FUNCTION bokvar.audit_log_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
        RAISE EXCEPTION 'bokvar.audit_log is append-only';
END;
$$;

CREATE TRIGGER audit_log_append_only
        BEFORE UPDATE OR DELETE ON bokvar.audit_log
        FOR EACH ROW EXECUTE FUNCTION bokvar.audit_log_append_only();
