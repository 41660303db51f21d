#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Hostile feeds and faults on the real daemon: every row accounted for,
every stall visible. CSV with CR line ends, a value too long for an index,
\\u0000 in JSON, a FIFO as a feed, files outside file_roots, gzip bodies and
compression bombs, two byte-order marks, redirect loops, an ingest whose
counts do not add up, a failing feed in `bokvarctl feeds` and STATUS=, a
change feed's cursor, and deliveries with nothing in them."""

import datetime
import gzip
import json
import os
import random
import shutil
import signal
import string
import tempfile
import time

from feedserver import FeedServer
from harness import SLOW, SOURCE_ROOT, TestCase, ctl, main
from hookserver import HookServer
from test_feeds import HEADER, PNR, V1, csv_feed


def csv_row(i, street=None, kind='arrears'):
    return f'R{i};{kind};2026-11-{i % 28 + 1:02d};;{street or f"Gatan {i}"};602 {i % 90 + 10};;{i}'


def json_feed(name, url, extra=''):
    return f'''  - name: {name}
    source: enforcement
    url: {url}
    interval: 1h
    format: json
    records: items
{extra}    map:
      external_id: id
      kind: {{ value: eviction_application }}
      occurred_at: date
      name: name
      address: street
      postal_code: zip
'''


def item(i, **kw):
    return dict({'id': f'J{i}', 'date': '2026-11-%02d' % (i % 28 + 1), 'name': f'Namn {i}',
                 'street': f'Vägen {i}', 'zip': f'603 {i % 90 + 10}'}, **kw)


class Rows(TestCase):
    """The four ways a feed lost rows or stopped, and the readers' other traps."""

    def test_cr_only_and_mixed_line_ends(self):
        # Case 1: Excel's "CSV (Macintosh)" ends lines with CR alone; every
        # row used to merge into the header (0 rows read, exit 0).
        rows = [csv_row(i) for i in range(10)]
        self.write('mac.csv', (HEADER.rstrip('\n') + '\r' + '\r'.join(rows) + '\r').encode(), 'wb')
        # Mixed CR, LF and CRLF, and a quoted field with a CRLF inside.
        mixed = (HEADER.rstrip('\n') + '\r\n' + csv_row(20) + '\r' + csv_row(21) + '\n' + csv_row(22) + '\r\n'
                 + 'R23;arrears;2026-11-02;;"Gatan\r\n23";602 23;;1\r' + csv_row(24))
        self.write('mixed.csv', mixed.encode(), 'wb')
        cfg = self.config('feeds:\n' + csv_feed('mac', 'file:mac.csv') + csv_feed('mixed', 'file:mixed.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed mac: 10 rows, 10 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        self.assertIn('Feed mixed: 5 rows, 5 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        self.assertEqual(self.db.query("SELECT line, to_json(address) FROM bokvar.signal WHERE feed = 'mixed' "
                                       "ORDER BY line"),
                         [['2', '"Gatan 20"'], ['3', '"Gatan 21"'], ['4', '"Gatan 22"'], ['5', '"Gatan\\r\\n23"'],
                          ['7', '"Gatan 24"']])

    def test_empty_deliveries(self):
        # Nothing to read, in every shape: no rows is a delivery of no
        # rows; a JSON document that is not there is a failed fetch,
        # named. (Empty inputs are where a NULL array reached qsort().)
        self.write('empty.csv', b'', 'wb')
        self.write('header.csv', HEADER.encode(), 'wb')
        self.write('empty.json', b'', 'wb')
        self.write('none.json', b'{"items": []}', 'wb')
        self.write('blank.json', b' \n', 'wb')
        cfg = self.config('feeds:\n' + csv_feed('e', 'file:empty.csv') + csv_feed('h', 'file:header.csv')
                          + json_feed('j', 'file:empty.json') + json_feed('n', 'file:none.json')
                          + json_feed('b', 'file:blank.json'))
        status, out = self.once(cfg)
        self.assertNotEqual(status, 0, out)
        for f in 'ehn':
            self.assertIn(f'Feed {f}: 0 rows, 0 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        for f in 'jb':
            self.assertRegex(out, f'Feed {f}: fetch failed after .*: the JSON document is incomplete: line .*: '
                                  'the document is empty; nothing of this delivery was ingested')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '0')

    def test_a_value_too_long_is_quarantined_and_the_rest_ingested(self):
        # Case 2: an address of 3,000 characters made the household index
        # refuse the row, and the whole fetch rolled back at every poll.
        # Letters at random: a repeated one compresses, and would fit.
        letters = random.Random(13)
        street = 'Långgatan ' + ''.join(letters.choice(string.ascii_letters) for _ in range(2990))
        rows = [csv_row(i) for i in range(10)] + [csv_row(10, street=street)]
        self.write('long.csv', HEADER + '\n'.join(rows) + '\n')
        cfg = self.config('feeds:\n' + csv_feed('long', 'file:long.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed long: 11 rows, 10 accepted, 0 updated, 0 duplicate, 1 quarantined', out)
        self.assertEqual(self.db.query('SELECT line, reason FROM bokvar.quarantine'),
                         [['12', 'address has 3000 characters, more than the 200 allowed']])
        self.assertEqual(self.feed_row('long')['failures'], 0)

    def test_nul_escape_in_json_quarantines_one_record(self):
        # Case 3: "\u0000" (valid JSON, but no text PostgreSQL stores)
        # quarantined its record and silently dropped every later one.
        items = [item(i) for i in range(1000)]
        items[1]['name'] = 'a\u0000b'
        self.write('doc.json', json.dumps({'items': items}, indent=1))
        cfg = self.config('feeds:\n' + json_feed('doc', 'file:doc.json'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed doc: 1000 rows, 999 accepted, 0 updated, 0 duplicate, 1 quarantined', out)
        (reason,), = self.db.query('SELECT reason FROM bokvar.quarantine')
        self.assertRegex(reason, r'^the record cannot be stored: line \d+, column \d+: \\u0000 is not allowed in text$')

    def test_unreadable_document_fails_visibly(self):
        # Only a document that cannot be read further fails the fetch, and
        # then where the operator looks; nothing of it is kept by halves.
        good = json.dumps({'items': [item(i) for i in range(5)]}, indent=1)
        self.write('broken.json', good.replace('"J3"', '017'))
        cfg = self.config('feeds:\n' + json_feed('broken', 'file:broken.json'))
        for attempt in (1, 2):
            status, out = self.once(cfg)
            self.assertEqual(status, 1, out)
            self.assertIn('Feed broken: fetch failed', out)
            feed = self.feed_row('broken')
            self.assertEqual(feed['failures'], attempt)
            self.assertRegex(feed['last_error'], r'^JSON error at line \d+, column \d+: numbers must not start with 0; '
                                                 r'nothing of this delivery was ingested$')
            self.assertIsNotNone(feed['last_attempt_at'])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '0')
        listing = ctl('feeds', config=cfg).stdout
        self.assertRegex(listing, r'FAILURES +LAST_ERROR\n')
        self.assertRegex(listing, r' 2 +JSON error at line \d+')

    def test_double_bom_is_named(self):
        self.write('bom.csv', b'\xef\xbb\xbf\xef\xbb\xbf' + V1, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('bom', 'file:bom.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('the body begins with two UTF-8 byte-order marks', self.feed_row('bom')['last_error'])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '0')


class Accounting(TestCase):
    """A fetch whose counts do not add up, or whose ingest fails, is undone
    and recorded: bokvarctl feeds and STATUS= show it."""

    def test_counts_that_do_not_add_up_fail_the_fetch(self):
        self.write('feed.csv', V1, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('a', 'file:feed.csv'))
        # A fault that loses a row without an error: the insert skips it.
        self.db.query('''
            CREATE FUNCTION public.lose_a2() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RETURN CASE WHEN NEW.external_id = 'A2' THEN NULL ELSE NEW END; END $$;
            CREATE TRIGGER lose_a2 BEFORE INSERT ON bokvar.signal FOR EACH ROW EXECUTE FUNCTION public.lose_a2();''')
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertNotIn('Feed a: 3 rows, 2 accepted', out)
        feed = self.feed_row('a')
        self.assertEqual(feed['failures'], 1)
        self.assertIsNotNone(feed['last_attempt_at'])
        self.assertIn('the ingest failed: ERROR:  the counts do not add up: 3 rows read, 2 accepted, 0 updated, '
                      '0 duplicate, 0 quarantined, where the rows show 3 read, 3 new', feed['last_error'])
        # Undone: nothing of the fetch stays, and it is tried again.
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch'), '0')

        # The daemon names the failing feed in STATUS= with the count.
        cfg = self.config('feeds:\n' + csv_feed('a', 'file:feed.csv').replace('interval: 1h', 'interval: 1s'))
        d = self.daemon(cfg)
        d.wait_ready()
        m = d.notify.wait_for(lambda m: 'failing: a (3 times)' in m.get('STATUS', ''), what='failing STATUS')
        self.assertRegex(m['STATUS'], r'^Feed a failed: the ingest failed: .*; will retry; failing: a \(3 times\)$')
        listing = ctl('feeds', config=cfg).stdout
        self.assertRegex(listing, r'\na  .* \d+ +the ingest failed: ERROR:  the counts do not add up')

        # Mended: the next fetch goes through, and the feed is no longer failing.
        self.db.query('DROP TRIGGER lose_a2 ON bokvar.signal')
        m = d.notify.wait_for(lambda m: m.get('STATUS', '').startswith('Feed a: 3 rows'), what='good STATUS')
        self.assertNotIn('failing', m['STATUS'])
        d.stop()
        feed = self.feed_row('a')
        self.assertEqual((feed['failures'], feed['last_error'], feed['total_accepted']), (0, None, 3))
        self.assertIn('All fetches: 3 rows read = 3 accepted + 0 updated + 0 duplicate + 0 quarantined.',
                      ctl('feeds', config=cfg).stdout)

    def test_an_ingest_error_is_recorded(self):
        # What case 2's index error did: an error inside the ingest. It used
        # to roll back everything, the record of the failure included.
        self.write('feed.csv', V1, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('a', 'file:feed.csv'))
        self.db.query('''
            CREATE OR REPLACE FUNCTION bokvar.ingest_done() RETURNS void LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'index row size 3024 exceeds btree version 4 maximum 2704'; END $$;''')
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        feed = self.feed_row('a')
        self.assertEqual((feed['failures'], feed['total_failures']), (1, 1))
        self.assertEqual(feed['last_error'], 'the ingest failed: ERROR:  index row size 3024 exceeds btree version 4 '
                                             'maximum 2704')
        self.assertIsNotNone(feed['last_attempt_at'])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')


class Sources(TestCase):
    """Where a feed comes from: files only under file_roots and never
    blocking, compressed bodies, clear words for redirects."""

    def setUp(self):
        super().setUp()
        self.srv = FeedServer()
        self.addCleanup(self.srv.stop)

    def test_a_fifo_does_not_block_the_daemon(self):
        # Case 4: a FIFO as a feed blocked the whole process in open() for
        # ever: no timeout, no other feed, no dispatch, no SIGTERM.
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        os.mkfifo(os.path.join(self.dir, 'feed.fifo'))
        hook = HookServer()
        try:
            self.write('hook-secret', hook.secret + '\n')
            today = datetime.date.today().isoformat()
            self.srv.serve('/poll.csv', body=HEADER + f'T1;termination_notice;{today};{PNR[0]};Storgatan 1;602 23;2;'
                                                      '9 000\n')
            cfg = self.config('rules: rules.yaml\nteams:\n  - name: central\n    default: true\nfeeds:\n'
                              + csv_feed('fifo', 'file:feed.fifo')
                              + csv_feed('poll', self.srv.url('/poll.csv')).replace('interval: 1h', 'interval: 1s')
                              + f'channels:\n  - name: hook\n    type: webhook\n    url: {hook.url("/bokvar")}\n'
                                '    secret_credential: hook-secret\n')
            d = self.daemon(cfg, env={'CREDENTIALS_DIRECTORY': self.dir})
            d.wait_ready()
            # The other feed keeps being polled, its task goes out, while the
            # FIFO's feed fails at once, saying why.
            self.srv.wait_requests('/poll.csv', 3, timeout=30 * SLOW)
            hook.wait_for(1, timeout=30 * SLOW)
            d.notify.wait_for(lambda m: 'failing: fifo' in m.get('STATUS', ''), what='the FIFO feed failing')
            self.assertRegex(self.feed_row('fifo')['last_error'], r'feed\.fifo is not a regular file')
            t0 = time.monotonic()
            d.signal(signal.SIGTERM)
            self.assertEqual(d.wait(timeout=10), 0)
            self.assertLess(time.monotonic() - t0, 5 * SLOW)
        finally:
            hook.stop()

    def test_file_roots(self):
        self.write('inside.csv', V1, 'wb')
        other = tempfile.mkdtemp(prefix='bokvar-roots-')
        self.addCleanup(shutil.rmtree, other)
        with open(os.path.join(other, 'outside.csv'), 'wb') as f:
            f.write(V1)
        os.symlink(os.path.join(other, 'outside.csv'), os.path.join(self.dir, 'link.csv'))
        # Refused when the configuration is checked: '..', an absolute path
        # outside the roots, a symlink leading out.
        for url, why in (('file:../x.csv', "file: URLs must not contain '..'"),
                         ('file:///etc/shadow', f'/etc/shadow is outside file_roots ({self.dir}, /var/lib/bokvar)'),
                         ('file:///proc/self/environ', '/proc/self/environ is outside file_roots'),
                         ('file:link.csv', 'link.csv is outside file_roots ({}, /var/lib/bokvar), once its '
                                           'symlinks are followed'.format(self.dir))):
            cfg = self.config('feeds:\n' + csv_feed('f', url))
            p = ctl('check', config=cfg, check=False)
            self.assertEqual(p.returncode, 1, url)
            self.assertIn(why, p.stdout, url)
            status, out = self.once(cfg)
            self.assertEqual(status, 1, out)
            self.assertIn(why, out)
        # A directory named in file_roots may be read from.
        cfg = self.config(f'file_roots: [., {other}]\nfeeds:\n' + csv_feed('f', 'file:link.csv')
                          + csv_feed('g', f'file://{other}/outside.csv') + csv_feed('h', 'file:inside.csv'))
        ctl('check', config=cfg)
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(DISTINCT feed) FROM bokvar.signal'), '3')

        # At each fetch, again: a file that became a symlink leading out
        # after the configuration was loaded is not read.
        cfg = self.config('feeds:\n' + csv_feed('late', 'file:late.csv').replace('interval: 1h', 'interval: 1s'))
        d = self.daemon(cfg)
        d.wait_ready()
        d.notify.wait_for(lambda m: 'failing: late' in m.get('STATUS', ''), what='the missing file')
        os.symlink(os.path.join(other, 'outside.csv'), os.path.join(self.dir, 'late.csv'))
        d.notify.wait_for(lambda m: 'late.csv is outside file_roots once its symlinks are followed'
                          in m.get('STATUS', ''), what='the symlink refused')
        d.stop()
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.signal WHERE feed = 'late'"), '0')

    def test_gzip_body_and_compression_bomb(self):
        self.srv.serve('/gz.csv', body=gzip.compress(V1), headers={'Content-Encoding': 'gzip'})
        # 32 MiB of rows in about 100 KiB: max_body counts what it unpacks to.
        rows = b''.join(b'B%d;arrears;2026-11-01;;Gata 1;602 23;;1\n' % (i % 10) for i in range(800000))
        bomb = gzip.compress(HEADER.encode() + rows, 9)
        self.assertLess(len(bomb), 1 << 20)
        self.srv.serve('/bomb.csv', body=bomb, headers={'Content-Encoding': 'gzip'})
        cfg = self.config('feeds:\n' + csv_feed('gz', self.srv.url('/gz.csv'))
                          + csv_feed('bomb', self.srv.url('/bomb.csv')).replace('    map:', '    max_body: 1MiB\n    map:'))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('Feed gz: 3 rows, 3 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        self.assertIn('gzip', self.srv.requests[0].headers['Accept-Encoding'])
        self.assertEqual(self.feed_row('bomb')['last_error'], 'the body is larger than max_body (1048576 bytes)')
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.signal WHERE feed = 'bomb'"), '0')

    def test_redirect_loop_and_plain_http_named(self):
        tls = FeedServer(tls=True)
        try:
            tls.redirect('/loop.csv', tls.url('/loop.csv'))
            self.srv.serve('/real.csv', body=V1)
            self.srv.redirect('/moved.csv', self.srv.url('/real.csv'))
            cfg = self.config('feeds:\n'
                              + csv_feed('loop', tls.url('/loop.csv')).replace(
                                  '    map:', f'    auth: {{ ca_file: {tls.ca_file} }}\n    map:')
                              + csv_feed('moved', self.srv.url('/moved.csv')))
            status, out = self.once(cfg)
            self.assertEqual(status, 1, out)
            self.assertEqual(self.feed_row('loop')['last_error'],
                             'too many redirects (5); the server may redirect in a loop')
            self.assertEqual(self.feed_row('moved')['last_error'],
                             'the server redirects to a URL that is not https, which is never followed')
        finally:
            tls.stop()


class TerminalEscapes(TestCase):
    """Feed data reaches a caseworker's terminal: every control character is
    escaped (ESC as \\x1B); --json escapes its own way. Notes refuse them."""

    def test_control_characters_never_reach_the_terminal(self):
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        evil = '\x1b]0;pwned\x07\x1b[2J\x9b31m'
        today = datetime.date.today().isoformat()
        self.write('feed.csv', (HEADER.rstrip('\n') + ';name\n'
                                + f'E1;termination_notice;{today};{PNR[0]};"Storgatan 1{evil}";602 23;2;9 000;'
                                  f'"Namn{evil}"\n'
                                + f'E2;"nonsense{evil}";{today};;Storgatan 2;602 23;;;\n').encode(), 'wb')
        cw = 'hostile_cw_' + self.db.name[-6:]
        cfg = self.config(f'rules: rules.yaml\nteams:\n  - name: central\n    default: true\n    caseworkers: [{cw}]\n'
                          'feeds:\n'
                          + csv_feed('f', 'file:feed.csv').replace('      amount: amount\n',
                                                                   '      amount: amount\n      name: name\n'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        task = self.db.value('SELECT id FROM bokvar.task')
        household = self.db.value('SELECT household_id FROM bokvar.task')
        # A caseworker, as her own login (actors are logins: no control
        # character can be in one). A note with control characters is
        # refused, saying why without repeating it.
        as_cw = self.db.as_login(self.db.login(cw, 'caseworker'))
        p = ctl('task', 'contact', task, '--channel', 'phone', '--reached', 'no', '--note', f'rang{evil}', env=as_cw,
                check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn('the note contains a control character', p.stderr)
        self.assertNotIn('rang', p.stderr)
        outputs = {
            'household show': ctl('household', 'show', household, env=as_cw).stdout,
            'task show': ctl('task', 'show', task, env=as_cw).stdout,
            'task close': ctl('task', 'close', task, '--outcome', 'other', env=as_cw).stdout,
            'quarantine': ctl('quarantine', config=cfg).stdout,
            'feeds': ctl('feeds', config=cfg).stdout,
        }
        for what, text in outputs.items():
            with self.subTest(what):
                self.assertNotIn('\x1b', text)
                self.assertNotIn('\x07', text)
                self.assertNotIn('\x9b', text)
        self.assertIn('Namn\\x1B]0;pwned\\x07\\x1B[2J\\xC2\\x9B31m', outputs['household show'])
        self.assertIn('Namn\\x1B]0;pwned', outputs['task show'])
        self.assertIn(f'closed by {cw}', outputs['task close'])
        self.assertIn('nonsense\\x1B]0;pwned', outputs['quarantine'])
        # JSON escapes control characters as JSON does.
        shown = json.loads(ctl('--json', 'household', 'show', household, env=as_cw).stdout)
        self.assertEqual(shown['signals'][0]['name'], f'Namn{evil}')


class ChangeFeed(TestCase):
    """A page whose next page is itself is a change feed that has caught up:
    the next round asks from there, not from the feed's start."""

    def test_cursor_is_kept_when_caught_up(self):
        srv = FeedServer()
        self.addCleanup(srv.stop)
        changes = {'t1': ['C1', 'C2'], 't2': ['C3'], 't3': []}

        def handle(req):
            cursor = req.path.partition('cursor=')[2] or 't1'
            if cursor not in changes:
                return req.respond(400)
            later = sorted(c for c in changes if c > cursor)
            nxt = later[0] if changes[cursor] and later else cursor
            body = {'items': [item(int(i[1:]), id=i) for i in changes[cursor]], 'next': nxt}
            req.respond(200, json.dumps(body), [('Content-Type', 'application/json')])
        srv.set_behaviour('/changes.json', handle)
        cfg = self.config('feeds:\n' + json_feed('c', srv.url('/changes.json'), '    paging: { next: next, param: '
                                                                                  'cursor }\n'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual([r.path for r in srv.requests],
                         ['/changes.json', '/changes.json?cursor=t2', '/changes.json?cursor=t3'])
        self.assertTrue(self.feed_row('c')['cursor'].endswith('/changes.json?cursor=t3'))
        # Nothing new: the next round asks for t3 only.
        before = len(srv.requests)
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual([r.path for r in srv.requests[before:]], ['/changes.json?cursor=t3'])
        # New changes after t3: fetched from there on, and caught up at t4.
        changes['t3'] = ['C4']
        changes['t4'] = []
        before = len(srv.requests)
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual([r.path for r in srv.requests[before:]],
                         ['/changes.json?cursor=t3', '/changes.json?cursor=t4'])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '4')
        self.assertTrue(self.feed_row('c')['cursor'].endswith('/changes.json?cursor=t4'))


if __name__ == '__main__':
    main()
