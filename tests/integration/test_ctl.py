#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvarctl: migrate, check, version, help and exit statuses."""

import json
import subprocess
import threading

from harness import BOKVARCTL, TestCase, ctl, main

COMMANDS = ['check', 'migrate', 'version']


class Migrate(TestCase):
    migrate = False

    def env(self):
        return self.db.env

    def test_twice_is_a_no_op(self):
        p = ctl('migrate', env=self.env())
        self.assertRegex(p.stdout, r'^Applied \d+ migrations?; the database schema is now version \d+\.\n$')
        before = self.db.query('SELECT version, name, checksum, applied_at FROM bokvar.schema_migrations '
                               'ORDER BY version')
        self.assertGreaterEqual(len(before), 1)
        self.assertEqual([int(r[0]) for r in before], list(range(1, len(before) + 1)))
        p = ctl('migrate', env=self.env())
        self.assertRegex(p.stdout, r'^The database schema is up to date \(version \d+\); nothing to do\.\n$')
        after = self.db.query('SELECT version, name, checksum, applied_at FROM bokvar.schema_migrations '
                              'ORDER BY version')
        self.assertEqual(before, after)
        self.assertEqual(ctl_json_migrate(self.env())['applied'], 0)

    def test_concurrent_runs_apply_once(self):
        results = []

        def run():
            results.append(ctl('migrate', env=self.env(), check=False))

        threads = [threading.Thread(target=run) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual([r.returncode for r in results], [0, 0, 0], [r.stderr for r in results])
        applied = [int(r.stdout.split()[1]) for r in results if r.stdout.startswith('Applied')]
        self.assertEqual(len(applied), 1)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.schema_migrations'), str(applied[0]))

    def test_newer_schema_refused(self):
        ctl('migrate', env=self.env())
        self.db.query("INSERT INTO bokvar.schema_migrations (version, name, checksum) VALUES (999, 'x', 'x')")
        p = ctl('migrate', env=self.env(), check=False)
        self.assertEqual(p.returncode, 4)
        self.assertIn('The database schema is version 999, newer than the', p.stderr)
        self.assertIn('refusing to migrate', p.stderr)

    def test_schema_check_by_commands(self):
        p = ctl('version', '--json', env=self.env())
        v = json.loads(p.stdout)
        self.assertIsNone(v['schema_database'])
        ctl('migrate', env=self.env())
        v = json.loads(ctl('version', '--json', env=self.env()).stdout)
        self.assertEqual(v['schema_database'], v['schema_expected'])


def ctl_json_migrate(env):
    return json.loads(ctl('migrate', '--json', env=env).stdout)


class Check(TestCase):

    def test_valid(self):
        p = ctl('check', config=self.config('log_level: notice\n'))
        self.assertIn('valid', p.stdout)

    def test_every_error_reported_with_position(self):
        cfg = self.config('log_level: info\nlog_level: debug\nmax_paralel_fetches: 2\n')
        p = ctl('check', config=cfg, check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout.splitlines(), [
            f"{cfg}:3:1: duplicate key 'log_level' (first given at line 2)",
            f"{cfg}:4:1: unknown key 'max_paralel_fetches' in the configuration; did you mean "
            "'max_parallel_fetches'?",
        ])
        j = json.loads(ctl('check', '--json', config=cfg, check=False).stdout)
        self.assertFalse(j['valid'])
        self.assertEqual(len(j['errors']), 2)

    def test_output_not_written(self):
        # A report or a check redirected to a full disk: not a success.
        cfg = self.config('log_level: notice\n')
        with open('/dev/full', 'w') as full:
            for args in (['--config', cfg, 'check'], ['--version'], ['--config', cfg, 'report', '--help']):
                p = subprocess.run([BOKVARCTL, *args], stdout=full, stderr=subprocess.PIPE, text=True)
                self.assertEqual(p.returncode, 1, args)
                self.assertIn('bokvarctl: the output could not be written: No space left on device', p.stderr)
        # A usage error keeps its own status (bokvarctl alone prints its
        # help and exits 2).
        with open('/dev/full', 'w') as full:
            p = subprocess.run([BOKVARCTL], stdout=full, stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn('the output could not be written', p.stderr)

    def test_missing_file(self):
        p = ctl('check', config=self.dir + '/absent.yaml', check=False)
        self.assertEqual(p.returncode, 1)
        self.assertIn('absent.yaml: cannot read: No such file or directory', p.stdout)


class Usage(TestCase):
    migrate = False

    def test_help_everywhere(self):
        p = subprocess.run([BOKVARCTL, '--help'], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0)
        for c in COMMANDS:
            self.assertIn(c, p.stdout)
            h = subprocess.run([BOKVARCTL, c, '--help'], capture_output=True, text=True)
            self.assertEqual(h.returncode, 0, c)
            self.assertTrue(h.stdout.startswith('Usage: bokvarctl'), c)

    def test_usage_errors_exit_2(self):
        for args in (['frobnicate'], ['check', '--bogus'], ['--bogus'], []):
            p = subprocess.run([BOKVARCTL, *args], capture_output=True, text=True)
            self.assertEqual(p.returncode, 2, args)


if __name__ == '__main__':
    main()
