-- SPDX-License-Identifier: GPL-3.0-or-later
-- The foundation migration: schema, migrations record, append-only audit log.
BEGIN;
SELECT plan(8);

SELECT has_schema('bokvar');
SELECT has_table('bokvar', 'schema_migrations', 'migrations are recorded');
SELECT results_eq(
        'SELECT version FROM bokvar.schema_migrations ORDER BY version',
        'SELECT generate_series(1, (SELECT max(version) FROM bokvar.schema_migrations))',
        'migrations are numbered without gaps');
SELECT ok((SELECT bool_and(checksum ~ '^[0-9a-f]{32}$') FROM bokvar.schema_migrations),
          'each migration has the checksum of the file applied');
SELECT has_table('bokvar', 'audit_log', 'there is an audit log');

INSERT INTO bokvar.audit_log (actor, action, subject) VALUES ('anna.k', 'task.close', '17');
SELECT throws_ok($$UPDATE bokvar.audit_log SET actor = 'someone else'$$, 'P0001',
                 'bokvar.audit_log is append-only', 'audit entries cannot be changed');
SELECT throws_ok($$DELETE FROM bokvar.audit_log$$, 'P0001',
                 'bokvar.audit_log is append-only', 'audit entries cannot be deleted');
SELECT throws_ok($$INSERT INTO bokvar.audit_log (actor, action) VALUES ('x', 'Drop Table')$$, '23514', NULL,
                 'actions are dotted lower-case words');

SELECT * FROM finish();
ROLLBACK;
