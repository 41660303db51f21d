#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Feeds over http(s), sftp and file with the real daemon: conditional GET,
failures recorded and retried, timeouts, cut and oversized bodies, paging,
TLS with a private CA, bearer tokens, redirects, sftp host keys."""

import json
import os
import time

from feedserver import FeedServer
from harness import SLOW, TestCase, ctl, main
from sftpserver import SftpServer

HEADER = 'id;kind;date;pnr;street;zip;children;amount\n'
# Made-up Swedish identity numbers with correct check digits.
PNR = ['19880417-1232', '19751102-4569', '19920130-7825', '19690708-3155']


def csv_rows(rows):
    return (HEADER + ''.join(f'{r[0]};{r[1]};{r[2]};{r[3]};{r[4]};{r[5]};{r[6]};{r[7]}\n' for r in rows)).encode()


V1 = csv_rows([('A1', 'arrears', '2026-11-01', PNR[0], 'Storgatan 12 B', '602 23', '2', '1 200,50'),
               ('A2', 'termination_notice', '2026-11-10', PNR[1], 'Kungsgatan 5', '602 32', '0', '9 000'),
               ('A3', 'arrears', '2026-11-12', '', 'STORGATAN 12B', '60223', '', '300')])


# HEADER's columns, mapped.
MAP = '''    map:
      external_id: id
      kind: kind
      occurred_at: date
      person_id: pnr
      address: street
      postal_code: zip
      children: children
      amount: amount
'''


def csv_feed(name, url, extra=''):
    return f'''  - name: {name}
    source: landlord
    url: {url}
    interval: 1h
    format: csv
    csv: {{ delimiter: ";" }}
    decimal_comma: true
    timeout: {extra or '20s'}
''' + MAP


class Http(TestCase):

    def setUp(self):
        super().setUp()
        self.srv = FeedServer()

    def tearDown(self):
        self.srv.stop()
        super().tearDown()

    def test_same_record_twice_in_a_delivery(self):
        # The daemon tells the SQL when the external ids came strictly
        # ascending, and only then is no duplicate searched for: a record
        # repeated right after itself, or after others, is still one
        # signal, from its last line; ascending ids are each one signal.
        rows = [('A1', 'arrears', '2026-11-01', PNR[0], 'Storgatan 12 B', '602 23', '2', '100'),
                ('A1', 'arrears', '2026-11-02', PNR[0], 'Storgatan 12 B', '602 23', '2', '200'),
                ('A3', 'arrears', '2026-11-03', PNR[1], 'Kungsgatan 5', '602 32', '0', '300'),
                ('A2', 'arrears', '2026-11-04', PNR[2], 'Hagagatan 40', '603 66', '1', '400'),
                ('A3', 'arrears', '2026-11-05', PNR[1], 'Kungsgatan 5', '602 32', '0', '500')]
        self.srv.serve('/a.csv', body=csv_rows(rows))
        self.srv.serve('/b.csv', body=csv_rows([('B1', 'arrears', '2026-11-01', PNR[3], 'Torget 1', '602 40', '', '1'),
                                                ('B10', 'arrears', '2026-11-02', PNR[3], 'Torget 1', '602 40', '', '2'),
                                                ('B2', 'arrears', '2026-11-03', PNR[3], 'Torget 1', '602 40', '', '3')]))
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')) + csv_feed('b', self.srv.url('/b.csv')))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed a: 5 rows, 3 accepted, 0 updated, 2 duplicate, 0 quarantined', out)
        self.assertIn('Feed b: 3 rows, 3 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        self.assertEqual(self.db.query("SELECT external_id, amount, line FROM bokvar.signal WHERE feed = 'a' "
                                       "ORDER BY external_id"),
                         [['A1', '200.00', '3'], ['A2', '400.00', '5'], ['A3', '500.00', '6']])
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.signal WHERE feed = 'b'"), '3')

    def test_conditional_get_and_changed_records(self):
        self.srv.serve('/a.csv', body=V1, etag='"v1"', last_modified='Sat, 21 Nov 2026 10:00:00 GMT')
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed a: 3 rows, 3 accepted, 0 updated, 0 duplicate, 0 quarantined', out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '3')
        # A1 (by identity number) and A3 (same address written differently) share a home.
        self.assertEqual(self.db.value('SELECT count(DISTINCT household_id) FROM bokvar.signal'), '2')
        feed = self.feed_row('a')
        self.assertEqual((feed['etag'], feed['last_status']), ('"v1"', 200))

        # Unchanged: a conditional GET, a 304, nothing written.
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed a: not modified', out)
        second = self.srv.requests[-1]
        self.assertEqual(second.headers['If-None-Match'], '"v1"')
        self.assertEqual(second.headers['If-Modified-Since'], 'Sat, 21 Nov 2026 10:00:00 GMT')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch'), '1')

        # Changed at the source: A2's amount changes, A4 is new, A1 and A3 are the same.
        v2 = V1.replace(b'9 000', b'9 500') + b'A4;arrears;2026-11-15;' + PNR[2].encode() + b';Hagagatan 40;603 66;3;100\n'
        self.srv.serve('/a.csv', body=v2, etag='"v2"')
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed a: 4 rows, 1 accepted, 1 updated, 2 duplicate, 0 quarantined', out)
        self.assertEqual(self.db.query("SELECT version, amount FROM bokvar.signal WHERE external_id = 'A2'"),
                         [['2', '9500.00']])
        self.assertEqual(self.db.query("SELECT version, amount FROM bokvar.signal_version WHERE external_id = 'A2'"),
                         [['1', '9000.00']])

    def test_failure_recorded_and_retried(self):
        self.srv.fail('/a.csv', status=500)
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('Feed a: fetch failed', out)
        self.assertIn('HTTP status 500', out)
        feed = self.feed_row('a')
        self.assertEqual((feed['failures'], feed['last_status'], feed['last_error']), (1, 500, 'HTTP status 500'))
        self.assertIsNone(feed['last_success_at'])
        # Backoff: the first retry is due in about 30 s (±20%), not after the hour.
        wait = float(self.db.value("SELECT extract(epoch FROM next_due_at - last_attempt_at) FROM bokvar.feed"))
        self.assertTrue(23 <= wait <= 37, wait)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')

        self.srv.serve('/a.csv', body=V1, etag='"v1"')
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        feed = self.feed_row('a')
        self.assertEqual((feed['failures'], feed['last_error'], feed['total_failures']), (0, None, 1))

    def test_hanging_feed_times_out_without_delaying_others(self):
        self.srv.hang('/slow.csv')
        self.srv.serve('/fast.csv', body=V1)
        cfg = self.config('feeds:\n' + csv_feed('slow', self.srv.url('/slow.csv'), '3s')
                          + csv_feed('fast', self.srv.url('/fast.csv')))
        t0 = time.monotonic()
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertLess(time.monotonic() - t0, 20 * SLOW)
        self.assertIn('Feed slow: fetch failed', out)
        self.assertIn('Timeout was reached', out)
        self.assertIn('Feed fast: 3 rows, 3 accepted', out)
        self.assertLess(out.index('Feed fast:'), out.index('Feed slow:'))

    def test_cut_body_ingests_nothing(self):
        body = V1 * 1 + b''.join(b'B%d;arrears;2026-11-01;;Gata %d;602 23;;1\n' % (i, i) for i in range(2000))
        self.srv.truncate('/a.csv', body=body, cut=len(body) // 2)
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('Transferred a partial file', out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch'), '0')

    def test_body_over_the_limit(self):
        body = V1 + b''.join(b'B%d;arrears;2026-11-01;;Gata %d;602 23;;1\n' % (i, i) for i in range(5000))
        self.srv.serve('/a.csv', body=lambda: iter([body[i:i + 1000] for i in range(0, len(body), 1000)]))
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')).replace(
            '    map:', '    max_body: 64KiB\n    map:'))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('the body is larger than max_body (65536 bytes)', out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')

    def test_redirect_to_plain_http_refused(self):
        self.srv.serve('/real.csv', body=V1)
        self.srv.redirect('/a.csv', self.srv.url('/real.csv'))
        cfg = self.config('feeds:\n' + csv_feed('a', self.srv.url('/a.csv')))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertIn('Feed a: fetch failed', out)
        self.assertEqual([r.path for r in self.srv.requests], ['/a.csv'])


def json_feed(name, url, paging):
    return f'''  - name: {name}
    source: enforcement
    url: {url}
    format: json
    records: items
    paging: {paging}
    map:
      external_id: case.id
      kind: {{ value: eviction_application }}
      occurred_at: date
      person_id: who.pnr
'''


def page(ids):
    return {'items': [{'case': {'id': i}, 'date': '2026-11-0%d' % (n % 9 + 1), 'who': {'pnr': PNR[n % 4]}}
                      for n, i in enumerate(ids)]}


class Paging(TestCase):

    def setUp(self):
        super().setUp()
        self.srv = FeedServer()

    def tearDown(self):
        self.srv.stop()
        super().tearDown()

    def test_cursor_in_body(self):
        self.srv.pages('/p.json', [page(['K1', 'K2']), page(['K3']), page(['K4', 'K5'])], cursor_key='next')
        cfg = self.config('feeds:\n' + json_feed('p', self.srv.url('/p.json'), '{ next: next }'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '5')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch'), '3')
        self.assertIsNone(self.feed_row('p')['cursor'])

    def test_cursor_token_and_link_header(self):
        self.srv.pages('/t.json', [page(['T1']), page(['T2'])], cursor_key='meta.next', next_as='token')
        self.srv.pages('/l.json', [page(['L1']), page(['L2']), page(['L3'])], style='link')
        cfg = self.config('feeds:\n' + json_feed('t', self.srv.url('/t.json'), '{ next: meta.next, param: cursor }')
                          + json_feed('l', self.srv.url('/l.json'), '{ link: true }'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.query('SELECT feed, count(*) FROM bokvar.signal GROUP BY 1 ORDER BY 1'),
                         [['l', '3'], ['t', '2']])

    def test_interrupted_chain_resumes(self):
        self.srv.pages('/p.json', [page(['K1']), page(['K2']), page(['K3'])], cursor_key='next')
        pages = self.srv._behaviour('/p.json')

        def fail_page_two(req):
            if 'cursor=' in req.path and not req.path.endswith('cursor=t3'):
                return req.respond(503, b'try later')
            return pages(req)
        self.srv.set_behaviour('/p.json', fail_page_two)
        cfg = self.config('feeds:\n' + json_feed('p', self.srv.url('/p.json'), '{ next: next }'))
        status, out = self.once(cfg)
        self.assertEqual(status, 1, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '1')
        cursor = self.feed_row('p')['cursor']
        self.assertTrue(cursor.endswith('/p.json?cursor=t2'), cursor)

        self.srv.set_behaviour('/p.json', pages)
        before = len(self.srv.requests)
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '3')
        # It went on from page two, without fetching page one again.
        self.assertEqual([r.path for r in self.srv.requests[before:]], ['/p.json?cursor=t2', '/p.json?cursor=t3'])


class Tls(TestCase):

    def test_private_ca_and_bearer_token(self):
        srv = FeedServer(tls=True)
        try:
            srv.serve('/a.csv', body=V1, bearer='s3cret-token')
            self.write('feed-token', 's3cret-token\n')
            env = {'CREDENTIALS_DIRECTORY': self.dir}
            url = srv.url('/a.csv')
            # Without the private CA the certificate is not trusted.
            cfg = self.config('feeds:\n' + csv_feed('a', url).replace(
                '    map:', '    auth: { bearer_credential: feed-token }\n    map:'))
            status, out = self.once(cfg, env=env)
            self.assertEqual(status, 1, out)
            self.assertIn('certificate', out)
            cfg = self.config('feeds:\n' + csv_feed('a', url).replace(
                '    map:', f'    auth: {{ bearer_credential: feed-token, ca_file: {srv.ca_file} }}\n    map:'))
            status, out = self.once(cfg, env=env)
            self.assertEqual(status, 0, out)
            self.assertEqual(srv.requests[-1].headers['Authorization'], 'Bearer s3cret-token')
            self.assertNotIn('s3cret', out)
            self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '3')
        finally:
            srv.stop()

    def test_client_certificate(self):
        srv = FeedServer(tls=True, client_ca=True)
        try:
            srv.serve('/a.csv', body=V1)
            os.symlink(srv.client_cert, os.path.join(self.dir, 'client-cert'))
            os.symlink(srv.client_key, os.path.join(self.dir, 'client-key'))
            cfg = self.config('feeds:\n' + csv_feed('a', srv.url('/a.csv')).replace(
                '    map:', f'    auth: {{ ca_file: {srv.ca_file}, client_cert_credential: client-cert, '
                           'client_key_credential: client-key }\n    map:'))
            status, out = self.once(cfg, env={'CREDENTIALS_DIRECTORY': self.dir})
            self.assertEqual(status, 0, out)
        finally:
            srv.stop()


class Sftp(TestCase):

    def test_key_login_and_host_key_check(self):
        with SftpServer() as srv:
            srv.write('arrears.csv', V1)
            os.symlink(srv.client_key, os.path.join(self.dir, 'sftp-key'))
            feed = csv_feed('s', srv.url('arrears.csv')).replace(
                '    map:', '    auth: { ssh_key_credential: sftp-key, known_hosts: %s }\n    map:')
            env = {'CREDENTIALS_DIRECTORY': self.dir}
            status, out = self.once(self.config('feeds:\n' + feed % srv.wrong_known_hosts), env=env)
            self.assertEqual(status, 1, out)
            self.assertIn('Feed s: fetch failed', out)
            self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
            status, out = self.once(self.config('feeds:\n' + feed % srv.known_hosts), env=env)
            self.assertEqual(status, 0, out)
            self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '3')


class Files(TestCase):

    def test_bad_rows_quarantined_rest_ingested(self):
        body = (HEADER.encode() + b'A1;arrears;2026-11-01;19880417-1232;Storgatan 1;602 23;1;5\n'
                + b'A2;arrears;2026-11-01;19880417-1233;Storgatan 1;602 23;1;5\n'
                + b'A3;arrears;2026-11-01;;Storg\xe4tan 2;602 23;1;5\n'
                + b'A4;eviction;2026-11-31;;Storgatan 3;602 23;two;5\n'
                + b'A5;arrears;2026-11-01;;Storgatan 5;602 23')
        self.write('feed.csv', body, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('f', 'file:feed.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed f: 5 rows, 1 accepted, 0 updated, 0 duplicate, 4 quarantined', out)
        rows = self.db.query('SELECT line, reason FROM bokvar.quarantine ORDER BY line')
        self.assertEqual(rows, [
            ['3', 'person_id: the check digit of the Swedish personnummer is wrong'],
            ['4', 'invalid UTF-8 at byte 29 of the record (0xE4); is csv.encoding right?'],
            ['5', "kind 'eviction' is not a signal kind and not listed under map.kind.values; occurred_at "
                  "'2026-11-31' is not a date of the form YYYY-MM-DD; children 'two' is not a whole number of 0 "
                  "or more"],
            ['6', 'the record has 6 fields, the header has 8 (the file may be truncated)'],
        ])
        self.assertEqual(self.db.value('SELECT raw FROM bokvar.quarantine WHERE line = 4'),
                         'A3;arrears;2026-11-01;;Storg\\xE4tan 2;602 23;1;5')
        listing = ctl('quarantine', '--feed', 'f', config=cfg).stdout
        self.assertIn('person_id: the check digit', listing)
        # No identity number reaches the daemon's log.
        self.assertNotIn('19880417', out)

    def test_quarantine_retry_with_a_mended_mapping(self):
        # A word the mapping does not know yet, then the mapping learns it.
        body = (HEADER.encode() + b'A1;arrears;2026-11-01;19880417-1232;Storgatan 1;602 23;1;5\n'
                + b'A2;Uppsagning;2026-11-02;19751102-4569;Kungsgatan 5;602 32;0;9\n')
        self.write('feed.csv', body, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('f', 'file:feed.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed f: 2 rows, 1 accepted, 0 updated, 0 duplicate, 1 quarantined', out)
        mended = self.config('feeds:\n' + csv_feed('f', 'file:feed.csv').replace(
            '      kind: kind\n', '      kind: { from: kind, values: { Uppsagning: termination_notice } }\n'),
            name='mended.yaml')
        ctl('quarantine', 'retry', '--feed', 'f', config=mended)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '0')
        self.assertEqual(self.db.query("SELECT kind FROM bokvar.signal WHERE external_id = 'A2'"),
                         [['termination_notice']])
        # A feed the configuration does not have is named as missing.
        p = ctl('quarantine', 'retry', '--feed', 'nosuch', config=mended, check=False)
        self.assertEqual(p.returncode, 5, p.stderr)

    def test_status_line_per_fetch(self):
        self.write('feed.csv', V1, 'wb')
        cfg = self.config('feeds:\n' + csv_feed('f', 'file:feed.csv'))
        d = self.daemon(cfg)
        d.wait_ready()
        m = d.notify.wait_for(lambda m: m.get('STATUS', '').startswith('Feed f:'), what='fetch STATUS')
        self.assertRegex(m['STATUS'], r'^Feed f: 3 rows, 3 accepted, 0 updated, 0 duplicate, 0 quarantined '
                                      r'\(\d+\.\ds\)$')
        listing = json.loads(ctl('--json', 'feeds', config=cfg).stdout)
        self.assertEqual([(f['name'], f['last_rows_read'], f['last_accepted']) for f in listing], [('f', 3, 3)])


if __name__ == '__main__':
    main()
