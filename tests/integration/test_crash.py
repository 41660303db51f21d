#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash safety and concurrency: bokvard killed with SIGKILL at many points
of a large fetch, then run again, leaves every signal and every quarantined
row exactly once; killed while it scores every household for the first
time (in chunks, saying how far it got), then run again, leaves every
score, history row, task and task event exactly once; two daemons polling
the same feeds never ingest one delivery twice."""

from datetime import date, timedelta
import os
import random
import signal
import time

from feedserver import FeedServer
from harness import SLOW, SOURCE_ROOT, TestCase, main

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
                # at a random moment (which may be after the commit).
                if attempt % 3 == 0:
                    srv.wait_requests('/big.csv', attempt + 1)
                    time.sleep(rng.uniform(0.2, 1.5) * SLOW)
                elif attempt % 3 == 1:
                    self.wait_for_query('ingest_fetch', d)
                    time.sleep(rng.uniform(0, 0.5))
                else:
                    time.sleep(rng.uniform(0, 5) * SLOW)
                phases.add(self.phase())
                d.signal(signal.SIGKILL)
                d.wait()
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

    def test_kill_during_the_first_scoring_then_restart(self):
        # Households enough for many chunks of the first scoring: the
        # chunk is made small here, so that the chunks and their progress
        # notices run with a fixture that is quick to ingest.
        homes = 3000
        self.write('homes.csv', 'id;kind;date;street;zip;amount\n' + ''.join(
            f'H{i};{"termination_notice" if i % 3 == 0 else "arrears"};{date.today() - timedelta(days=i % 28)};Vägen {i};'
            f'60{i % 100:03d};{i % 40 * 1000}\n'
            for i in range(2 * homes)))
        feeds = 'feeds:\n' + feed('homes', 'file:homes.csv')
        status, out = self.once(self.config(feeds))
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.household'), str(2 * homes))
        self.db.query('CREATE OR REPLACE FUNCTION bokvar.score_chunk() RETURNS integer '
                      'LANGUAGE sql IMMUTABLE AS $$ SELECT 100 $$')
        cfg = self.config(f'rules: {os.path.join(SOURCE_ROOT, "config", "rules.yaml")}\n'
                          'teams:\n  - name: central\n    default: true\n    caseworkers: [anna.k, erik.l]\n'
                          + feeds)
        rng = random.Random(7)
        progress = False
        scored = []
        for attempt in range(4):
            # A kill that came after the commit leaves nothing to score.
            if scored and scored[-1] != '0':
                break
            d = self.daemon(cfg, '--once')
            d.wait_ready()
            deadline = time.monotonic() + 60 * SLOW
            while 'rescore_all' not in self.active() and d.running():
                self.assertLess(time.monotonic(), deadline, d.output())
                time.sleep(0.01)
            # The scoring runs in the database, at its speed whatever the
            # build: the moment is not stretched for slow builds.
            time.sleep(rng.uniform(0, 0.6))
            d.kill9()
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
                self.write('b.csv', f'id;kind;date;street;zip;amount\nB1;arrears;2026-11-01;Gatan 1;60210;{v}\n')
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
