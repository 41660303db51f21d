#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash safety and concurrency: bokvard killed with SIGKILL at many points
of a large fetch, then run again, leaves every signal and every quarantined
row exactly once; killed while it scores every household for the first
time (in chunks, saying how far it got), then run again, leaves every
score, history row, task and task event exactly once; a full rescore whose
second connection is lost is computed on the first alone, and one killed
while both connections compute leaves nothing behind once run again; two
daemons polling the same feeds never ingest one delivery twice."""

from datetime import date, timedelta
import os
import random
import signal
import time

from feedserver import FeedServer
from harness import SLOW, SOURCE_ROOT, TestCase, hold, main, release, wait_for_lock

N = 40000          # rows, a few MB: the fetch takes seconds
BAD_EVERY = 997    # every so many rows one has an impossible date


def big_csv():
    out = ['id;kind;date;street;zip;amount\n']
    for i in range(N):
        date = '2026-02-30' if i % BAD_EVERY == 0 else '2026-11-%02d' % (i % 28 + 1)
        out.append(f'R{i:06d};arrears;{date};Gatan {i % 5000};60{i % 100:03d};{i % 9000}\n')
    return ''.join(out).encode()


def feed(name, url, interval='1h'):
    return f'''  - name: {name}
    source: landlord
    url: {url}
    interval: {interval}
    format: csv
    csv: {{ delimiter: ";" }}
    map:
      external_id: id
      kind: kind
      occurred_at: date
      address: street
      postal_code: zip
      amount: amount
'''


class KillNine(TestCase):

    def test_kill_at_many_points_then_restart(self):
        body = big_csv()
        bad = len(range(0, N, BAD_EVERY))
        srv = FeedServer()
        try:
            cfg = self.config('feeds:\n' + feed('big', srv.url('/big.csv')))
            rng = random.Random(4)
            phases = set()
            for attempt in range(6):
                # A new ETag each time: a fetch that did commit before the
                # kill is delivered again, and must then change nothing.
                # Slow enough that the transfer, the COPY and the ingest each
                # take a while, so the kills land in all of them.
                srv.serve('/big.csv', body=body, etag=f'"big{attempt}"', chunk_size=32768, delay=0.02)
                d = self.daemon(cfg, '--once')
                d.wait_ready()
                # Kill while the body streams, or while the ingest runs, or
                # at a random moment (which may be after the commit). Once
                # at a point known to be inside the ingest: held where it
                # writes the signals (its homes matched and written), by a
                # lock this test takes; a random moment after the ingest
                # was seen may fall after its end.
                locker = None
                if attempt % 3 == 0:
                    srv.wait_requests('/big.csv', attempt + 1)
                    time.sleep(rng.uniform(0.2, 1.5) * SLOW)
                elif attempt == 1:
                    locker = hold('LOCK TABLE bokvar.signal IN SHARE MODE', self.db.name)
                    wait_for_lock(self.db, 'ingest_fetch', daemon=d)
                elif attempt % 3 == 1:
                    self.wait_for_query('ingest_fetch', d)
                    time.sleep(rng.uniform(0, 0.5))
                else:
                    time.sleep(rng.uniform(0, 5) * SLOW)
                phases.add(self.phase())
                d.signal(signal.SIGKILL)
                d.wait()
                if locker:
                    release(locker)
                self.wait_backends_gone()
            self.assertIn('ingest', phases, phases)
            status, out = self.once(cfg)
            self.assertEqual(status, 0, out)
        finally:
            srv.stop()
        self.assertEqual(self.db.query('SELECT count(*), count(DISTINCT external_id) FROM bokvar.signal'),
                         [[str(N - bad), str(N - bad)]])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), str(bad))
        self.assertEqual(self.db.value('SELECT count(DISTINCT line) FROM bokvar.quarantine'), str(bad))
        # Every committed fetch read every row once; the first accepted
        # them all, later ones (deliveries again) found only duplicates.
        rows = self.db.query('SELECT rows_read, accepted, duplicate, quarantined FROM bokvar.fetch ORDER BY id')
        self.assertGreaterEqual(len(rows), 1)
        self.assertEqual(rows[0], [str(N), str(N - bad), '0', str(bad)])
        for r in rows[1:]:
            self.assertEqual(r, [str(N), '0', str(N - bad), str(bad)])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal_version'), '0')

    def homes(self, homes=3000):
        """Ingests 2 * homes households, unscored; the configuration that
        scores them with config/rules.yaml."""
        self.write('homes.csv', 'id;kind;date;street;zip;amount\n' + ''.join(
            f'H{i};{"termination_notice" if i % 3 == 0 else "arrears"};{date.today() - timedelta(days=i % 28)};Vägen {i};'
            f'60{i % 100:03d};{i % 40 * 1000}\n'
            for i in range(2 * homes)))
        feeds = 'feeds:\n' + feed('homes', 'file:homes.csv')
        status, out = self.once(self.config(feeds))
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.household'), str(2 * homes))
        return self.config(f'rules: {os.path.join(SOURCE_ROOT, "config", "rules.yaml")}\n'
                           'teams:\n  - name: central\n    default: true\n    caseworkers: [anna.k, erik.l]\n'
                           + feeds)

    def test_kill_during_the_first_scoring_then_restart(self):
        # Households enough for many chunks of the first scoring: the
        # chunk is made small here, so that the chunks and their progress
        # notices run with a fixture that is quick to ingest.
        homes = 3000
        cfg = self.homes(homes)
        self.db.query('CREATE OR REPLACE FUNCTION bokvar.score_chunk() RETURNS integer '
                      'LANGUAGE sql IMMUTABLE AS $$ SELECT 100 $$')
        rng = random.Random(7)
        progress = False
        scored = []
        for attempt in range(4):
            # A kill that came after the commit leaves nothing to score.
            if scored and scored[-1] != '0':
                break
            # The first kill at a moment known to be before the commit:
            # both connections held by a lock this test takes while they
            # compute (on a fast machine the whole scoring may commit
            # within the random moments below).
            locker = hold('LOCK TABLE bokvar.score_part IN SHARE MODE', self.db.name) if attempt == 0 else None
            d = self.daemon(cfg, '--once')
            d.wait_ready()
            if locker:
                self.wait_computing(d)
            else:
                deadline = time.monotonic() + 60 * SLOW
                steps = ('rescore_begin', 'score_part_compute', 'rescore_finish')
                while not any(step in self.active() for step in steps) and d.running():
                    self.assertLess(time.monotonic(), deadline, d.output())
                    time.sleep(0.01)
                # The scoring runs in the database, at its speed whatever
                # the build: the moment is not stretched for slow builds.
                time.sleep(rng.uniform(0, 0.6))
            d.kill9()
            if locker:
                release(locker)
            progress = progress or f'Scoring: 0 of {2 * homes} households' in d.output()
            self.wait_backends_gone()
            # All or nothing: the scoring is one transaction.
            scored.append(self.db.value('SELECT count(*) FROM bokvar.score'))
            self.assertIn(scored[-1], ('0', str(2 * homes)))
        self.assertIn('0', scored, 'a kill came before the scoring committed')
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        progress = progress or f'Scoring: 0 of {2 * homes} households' in out
        self.assertTrue(progress, 'no run said how far the scoring got')
        # Every household scored once, explained once; a task for each
        # household in outreach or urgent, opened once, assigned.
        self.assertEqual(self.db.query('SELECT count(*), count(DISTINCT household_id) FROM bokvar.score'),
                         [[str(2 * homes), str(2 * homes)]])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.score_history'),
                         self.db.value("SELECT count(*) FROM bokvar.score WHERE explanation <> '[]'"))
        tasks = self.db.query('SELECT count(*), count(DISTINCT household_id), count(assignee) FROM bokvar.task')
        wanted = self.db.value("SELECT count(*) FROM bokvar.score WHERE class IN ('outreach', 'urgent')")
        self.assertGreater(int(wanted), 100)
        self.assertEqual(tasks, [[wanted, wanted, wanted]])
        self.assertEqual(self.db.query("SELECT count(*), count(DISTINCT task_id) FROM bokvar.task_event "
                                       "WHERE kind = 'created'"), [[wanted, wanted]])
        self.assert_scores_as_one_connection_computes_them()

    def test_second_connection_lost_or_killed(self):
        homes = 3000
        with open(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml')) as f:
            rules = f.read()
        self.assertIn('points: 50', rules)
        rules2 = self.write('rules2.yaml', rules.replace('points: 50', 'points: 55', 1))
        cfg = self.homes(homes)

        # 1. The first scoring. Both halves wait for a lock this test
        # holds; the second connection's backend is terminated meanwhile.
        locker = hold('LOCK TABLE bokvar.score_part IN SHARE MODE', self.db.name)
        d = self.daemon(cfg, '--once')
        self.wait_computing(d)
        self.db.query(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.db.name}' "
                      f"AND application_name = 'bokvard scoring'")
        release(locker)
        self.assertEqual(d.wait(timeout=120), 0, d.output())
        self.assertIn('Scoring: the second connection failed', d.output())
        self.assertIn(f'every household rescored, {2 * homes} changed', d.output())
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.score'), str(2 * homes))
        self.assert_scores_as_one_connection_computes_them()

        # 2. New rules: every household rescored. bokvard is killed while
        # both connections compute; the second one's rows outlive it.
        with open(cfg) as f:
            cfg2 = self.config(f.read().split('\n', 1)[1].replace(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'),
                                                                    rules2), name='bokvar2.yaml')
        locker = hold('LOCK TABLE bokvar.score_part IN SHARE MODE', self.db.name)
        d = self.daemon(cfg2, '--once')
        self.wait_computing(d)
        d.kill9()
        release(locker)
        self.wait_backends_gone()
        self.assertEqual(self.db.query('SELECT DISTINCT ruleset_version FROM bokvar.score'), [['1']],
                         'the killed rescore changed no score')
        status, out = self.once(cfg2)
        self.assertEqual(status, 0, out)
        # (The killed pass's version number is not used again.)
        self.assertRegex(out, r'Scoring: computing the scores on two connections\.\n'
                              rf'Scoring: rules version \d+ loaded; every household rescored, {2 * homes} changed')
        self.assertEqual(self.db.query('SELECT count(*), count(DISTINCT household_id), min(ruleset_version), '
                                       'max(ruleset_version) FROM bokvar.score'),
                         [[str(2 * homes), str(2 * homes)]
                          + [self.db.value('SELECT version FROM bokvar.ruleset_active')] * 2])
        self.assertNotEqual(self.db.value('SELECT version FROM bokvar.ruleset_active'), '1')
        # Each household's history has at most one row a version.
        self.assertEqual(self.db.value('SELECT count(*) FROM (SELECT household_id, ruleset_version '
                                       'FROM bokvar.score_history GROUP BY 1, 2 HAVING count(*) > 1) x'), '0')
        self.assertEqual(self.db.query("SELECT count(*), count(DISTINCT task_id) FROM bokvar.task_event "
                                       "WHERE kind = 'created'"),
                         self.db.query('SELECT count(*), count(DISTINCT id) FROM bokvar.task'))
        self.assert_scores_as_one_connection_computes_them()

    def assert_scores_as_one_connection_computes_them(self):
        """Nothing left in score_part, and a rescore of every household on
        one connection (score_apply computing the query itself) finds no
        score to change."""
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.score_part'), '0')
        self.assertEqual(self.db.value('SELECT bokvar.score_apply(NULL)'), '0')

    def wait_computing(self, daemon):
        """Until both of bokvard's connections wait in score_part_compute."""
        wait_for_lock(self.db, 'score_part_compute', connections=2, daemon=daemon)

    def active(self):
        return self.db.value(f"SELECT string_agg(query, ' ') FROM pg_stat_activity "
                             f"WHERE datname = '{self.db.name}' AND state = 'active' "
                             f"AND application_name LIKE 'bokvard%'") or ''

    def wait_backends_gone(self, timeout=60):
        """Until the killed daemon's sessions have ended: a backend notices
        its client is gone within client_connection_check_interval, and
        until then it holds the feed, which the next --once would skip as
        being fetched by another process."""
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if self.db.value(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.db.name}' "
                             f"AND application_name LIKE 'bokvard%'") == '0':
                return
            time.sleep(0.05)
        raise AssertionError('the killed daemon\'s database sessions did not end')

    def wait_for_query(self, text, daemon, timeout=60):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            if self.phase() == 'ingest':
                return
            time.sleep(0.02)
        raise AssertionError(f'no query with {text} seen; bokvard said:\n{daemon.output()}')

    def phase(self):
        """What the daemon's backend is doing now: copy, ingest or other."""
        q = self.db.value(f"SELECT string_agg(query, ' ') FROM pg_stat_activity "
                          f"WHERE datname = '{self.db.name}' AND state = 'active' "
                          f"AND application_name = 'bokvard'") or ''
        return 'ingest' if 'ingest_fetch' in q else 'copy' if 'COPY' in q else 'other'


class TwoDaemons(TestCase):

    def test_same_feeds_never_ingested_twice(self):
        srv = FeedServer()
        try:
            versions = []

            def publish(v):
                rows = ''.join(f'V{i};arrears;2026-11-{i % 28 + 1:02d};Gatan {i};602{i % 10}0;{v * 100 + i}\n'
                               for i in range(200 + 50 * v))
                srv.serve('/a.csv', body='id;kind;date;street;zip;amount\n' + rows, etag=f'"v{v}"')
                versions.append(v)

            publish(1)
            self.write('b.csv', 'id;kind;date;street;zip;amount\nB1;arrears;2026-11-01;Gatan 1;60210;5\n')
            cfg = self.config('feeds:\n' + feed('a', srv.url('/a.csv'), '2s') + feed('b', 'file:b.csv', '2s'))
            one, two = self.daemon(cfg), self.daemon(cfg)
            one.wait_ready()
            two.wait_ready()
            for v in (2, 3):
                time.sleep(4 * SLOW)
                publish(v)
                # Whole or not at all: a daemon polling meanwhile must not
                # read the file emptied and half written.
                os.replace(self.write('b.csv.new', f'id;kind;date;street;zip;amount\nB1;arrears;2026-11-01;Gatan 1;'
                                                   f'60210;{v}\n'), os.path.join(self.dir, 'b.csv'))
            time.sleep(5 * SLOW)
            for d in (one, two):
                d.signal(signal.SIGTERM)
                self.assertEqual(d.wait(), 0, d.output())
        finally:
            srv.stop()
        # Each delivery was ingested once: one fetch per version, each of
        # which brought something new or changed, none only duplicates.
        fetches = self.db.query("SELECT feed, accepted, updated, duplicate FROM bokvar.fetch ORDER BY feed, id")
        a = [f for f in fetches if f[0] == 'a']
        b = [f for f in fetches if f[0] == 'b']
        self.assertEqual(len(a), 3, fetches)
        self.assertEqual(len(b), 3, fetches)
        for f in a + b:
            self.assertGreater(int(f[1]) + int(f[2]), 0, fetches)
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.signal WHERE feed = 'a'"), '350')
        # Both daemons polled: the feeds were shared, not left to one of them.
        outputs = one.output() + two.output()
        self.assertNotIn('fetch failed', outputs)


if __name__ == '__main__':
    main()
