#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvard as systemd runs it: READY=1, reload, stop, and refusals."""

import datetime
import os
import re
import shutil
import signal
import time

from harness import PASSWORD, SLOW, SOURCE_ROOT, Database, TestCase, ctl, main, psql
import identity

# One file feed of one row, a termination notice: one task.
FEED = '''feeds:
  - name: f
    source: landlord
    url: file:feed.csv
    format: csv
    csv: { delimiter: ";" }
    map: { external_id: id, kind: kind, occurred_at: date, person_id: pnr }
'''


class DaemonLifecycle(TestCase):

    def test_ready_reload_and_stop(self):
        cfg = self.config('log_level: info\n')
        d = self.daemon(cfg)
        d.wait_ready()
        self.assertTrue(any('STATUS' in m for m in d.notify.messages))

        # A broken file: the daemon keeps running on the old configuration
        # and says why, with file:line:column, in STATUS=.
        with open(cfg, 'a') as f:
            f.write('log_level: debug\nfeeds_typo: 3\n')
        d.signal(signal.SIGHUP)
        rel = d.notify.wait_for(lambda m: m.get('RELOADING') == '1', what='RELOADING=1')
        self.assertRegex(rel.get('MONOTONIC_USEC', ''), r'^\d+$')
        st = d.notify.wait_for(lambda m: 'Reload failed' in m.get('STATUS', ''), what='failed-reload STATUS')
        self.assertIn(f'keeping previous configuration: {cfg}:4:1: duplicate key', st['STATUS'])
        d.notify.wait_for(lambda m: m.get('READY') == '1', what='READY=1 after the failed reload')
        time.sleep(0.2)
        self.assertTrue(d.running())
        self.assertRegex(d.output(), rf'{re.escape(cfg)}:5:1: unknown key \'feeds_typo\'')

        # Fixed: the reload goes through.
        self.config('log_level: debug\n')
        d.signal(signal.SIGHUP)
        d.notify.wait_for(lambda m: m.get('STATUS') == 'Running; configuration reloaded', what='reloaded STATUS')

        t0 = time.monotonic()
        d.signal(signal.SIGTERM)
        d.notify.wait_for(lambda m: m.get('STOPPING') == '1', what='STOPPING=1')
        self.assertEqual(d.wait(timeout=10), 0)
        self.assertLess(time.monotonic() - t0, 5 * SLOW)

    def test_sigint_stops_cleanly(self):
        d = self.daemon(self.config())
        d.wait_ready()
        d.signal(signal.SIGINT)
        self.assertEqual(d.wait(timeout=10), 0)

    def test_watchdog_is_kept_alive(self):
        d = self.daemon(self.config(), env={'WATCHDOG_USEC': '400000'})
        d.wait_ready()
        # sd-event pings at half the interval: several within two seconds.
        for _ in range(3):
            d.notify.wait_for(lambda m: m.get('WATCHDOG') == '1', timeout=2, what='WATCHDOG=1')

    def test_once_exits_zero(self):
        d = self.daemon(self.config(), '--once')
        d.wait_ready()
        self.assertEqual(d.wait(timeout=30), 0)

    def test_invalid_config_refused_at_start(self):
        cfg = self.config('log_level: loud\nunknown: 1\n')
        d = self.daemon(cfg)
        self.assertEqual(d.wait(timeout=30), 1)
        out = d.output()
        self.assertIn(f"{cfg}:2:12: unknown log level 'loud'", out)
        self.assertIn(f"{cfg}:3:1: unknown key 'unknown' in the configuration", out)
        self.assertFalse(any(m.get('READY') == '1' for m in d.notify.messages))

    def test_missing_credential_is_a_clear_error(self):
        cfg = self.config('database_password_credential: database-password\n')
        env = {'CREDENTIALS_DIRECTORY': self.dir}
        d = self.daemon(cfg, env=env)
        self.assertEqual(d.wait(timeout=30), 1)
        self.assertIn(f"{cfg}: database_password_credential: credential 'database-password' not found in "
                      f"$CREDENTIALS_DIRECTORY ({self.dir})", d.output())

    def test_password_credential_is_used(self):
        # bokvard's own role, reached over TCP with password auth: it owns
        # the database and the schema it migrated, as on a server, without
        # CREATEROLE (migrate says what an administrator runs), and
        # row-level security, forced for the owner too, still lets its own
        # sessions do everything.
        db = Database(migrate=False, name=self.db.name + '_pw')
        try:
            psql(f"ALTER ROLE {db.owner} NOCREATEROLE PASSWORD 'correct horse'")
            self.write('database-password', 'correct horse\n')
            self.write('feed.csv', 'id;kind;date;pnr\n1;termination_notice;%s;%s\n'
                       % (datetime.date.today().isoformat(), identity.person(1)))
            shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
            host = os.environ.get('PGHOST', 'localhost')
            cfg = self.write('pw.yaml', f'database: "host={host} dbname={db.name} user={db.owner}"\n'
                                        'database_password_credential: database-password\n'
                                        'rules: rules.yaml\n' + FEED)
            env = {'CREDENTIALS_DIRECTORY': self.dir, 'PGPASSWORD': ''}
            p = ctl('migrate', config=cfg, env=env)
            self.assertIn(f'CREATE ROLE {db.name}_bokvar_caseworker NOLOGIN;', p.stderr,
                          'without CREATEROLE, migrate says what an administrator runs')
            d = self.daemon(cfg, '--once', env=env)
            self.assertEqual(d.wait(timeout=30), 0, d.output())
            self.assertEqual(db.value('SELECT count(*) FROM bokvar.task'), '1', d.output())
        finally:
            db.drop()

    def test_only_the_owner_runs_bokvard(self):
        # Anyone else would see nothing under row-level security: refused
        # at the start, saying why.
        other = self.db.login('bokvar_other_' + self.db.name[-8:])
        psql(f'GRANT CONNECT ON DATABASE {self.db.name} TO {other}')
        cfg = self.write('other.yaml', f'database: "dbname={self.db.name} user={other} password={PASSWORD}"\n')
        d = self.daemon(cfg, '--once')
        self.assertEqual(d.wait(timeout=30), 1)
        self.assertIn(f'Connected as {other}, but the bokvar schema belongs to {self.db.owner}', d.output())


class SchemaRefusals(TestCase):
    migrate = False

    def test_unmigrated_database_refused(self):
        d = self.daemon(self.config())
        self.assertEqual(d.wait(timeout=30), 4)
        lines = d.output().strip().splitlines()
        self.assertEqual(lines, ['The database has no bokvar schema yet; run `bokvarctl migrate`.'])

    def test_newer_schema_refused(self):
        from harness import ctl
        ctl('migrate', env=self.db.env)
        self.db.query("INSERT INTO bokvar.schema_migrations (version, name, checksum) "
                      "VALUES (999, '999_from_the_future', 'x')")
        d = self.daemon(self.config())
        self.assertEqual(d.wait(timeout=30), 4)
        self.assertRegex(d.output().strip(),
                         r'^The database schema is version 999, newer than the \d+ this binary knows; '
                         r'upgrade bokvar, or point it at another database\.$')


if __name__ == '__main__':
    main()
