#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Notices as they arrive, with the real daemon and bokvarctl: deadlines by
jurisdiction on known dates (Sweden's and Norway's windows, the later of
served and notified), after_deadline in the rules, a regional feed whose
rows outside its area leave no trace but the filtered count, and notices
registered by hand with bokvarctl signal add."""

import datetime
import json
import os
import re
import shutil
import subprocess

from harness import BOKVARCTL, SOURCE_ROOT, TestCase, ctl, main
from identity import norwegian, person
from test_access import holding, table_texts


def day(offset):
    return (datetime.date.today() + datetime.timedelta(days=offset)).isoformat()


HEADER = 'id;kind;served;notified;pnr;street;zip;kommun\n'


def feed(name, path, extra=''):
    return f'''  - name: {name}
    source: {'welfare' if 'welfare' in name else 'enforcement'}
    url: {path if path.startswith('sftp://') else 'file:' + path}
    interval: 1h
    format: csv
    csv: {{ delimiter: ";" }}
{extra}    map:
      external_id: id
      kind: kind
      occurred_at: served
      notified_at: notified
      person_id: pnr
      address: street
      postal_code: zip
      municipality_code: kommun
'''


class Deadlines(TestCase):
    """Each window, as the rows land in bokvar.signal."""

    def test_swedish_and_norwegian_windows(self):
        self.write('se.csv', HEADER +
                   f'S1;termination_notice;2026-02-20;;{person(1)};Storgatan 1;60223;0581\n'
                   f'S2;termination_notice;2026-02-20;2026-03-02;{person(2)};Storgatan 2;60223;0581\n'
                   f'S3;termination_notice;2026-02-20;2026-02-18;{person(3)};Storgatan 3;60223;0581\n'
                   f'S4;payment_order;2026-12-28;;{person(4)};Storgatan 4;60223;0581\n'
                   f'S5;utility_disconnection;2028-02-15;;{person(5)};Storgatan 5;60223;0581\n'
                   f'S6;eviction_scheduled;2026-04-01;;{person(6)};Storgatan 6;60223;0581\n'
                   f'S7;eviction_application;2026-03-05;;{person(7)};Storgatan 7;60223;0581\n')
        self.write('no.csv', HEADER +
                   f'N1;eviction_warning;2026-12-20;;{norwegian(1)};Kirkegata 1;7600;5037\n'
                   f'N2;eviction_application;2026-03-05;;{norwegian(2)};Kirkegata 2;7600;5037\n'
                   f'N3;eviction_scheduled;2026-03-05;;{norwegian(3)};Kirkegata 3;7600;5037\n'
                   f'N4;termination_notice;2026-03-05;2026-03-09;{norwegian(4)};Kirkegata 4;7600;5037\n')
        self.write('welfare.csv', HEADER +
                   f'W1;welfare_warning;2026-03-05;;{norwegian(5)};Kirkegata 5;7600;5037\n')
        cfg = self.config('feeds:\n' + feed('se', 'se.csv') + feed('no', 'no.csv', '    jurisdiction: no\n')
                          + feed('no-welfare', 'welfare.csv', '    jurisdiction: no\n    identity: [no]\n'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        got = dict((r[0], r[1]) for r in self.db.query(
            "SELECT external_id, coalesce(deadline::text, '-') FROM bokvar.signal"))
        self.assertEqual(got, {
            'S1': '2026-03-13',   # 12 kap. 44 § JB: served + 21
            'S2': '2026-03-23',   # ... from the later notification
            'S3': '2026-03-13',   # ... or from the served day when that is later
            'S4': '2027-01-07',   # payment order: ten days
            'S5': '2028-03-07',   # ellagen: 21 days, through a leap day
            'S6': '2026-04-01',   # the eviction's day
            'S7': '-',            # no window in Sweden
            'N1': '2027-01-03',   # § 4-18: 14 days
            'N2': '2026-03-19',   # § 13-6: 14 days
            'N3': '2026-03-05',
            'N4': '-',            # no återvinningsfrist in Norway
            'W1': '-',
        })
        self.assertEqual(self.db.value("SELECT source FROM bokvar.signal WHERE external_id = 'W1'"), 'welfare')
        # notified_at and municipality_code are read, never stored.
        texts = table_texts(self.db)
        self.assertEqual([t for t, text in texts.items() if '2026-03-02' in text or '2026-03-09' in text], [])

    def test_after_deadline(self):
        """A termination notice past its window with no application after it
        gives the rule's after_deadline points; followed by an application
        it keeps its points; within its window it keeps them too."""
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        rules = open(os.path.join(self.dir, 'rules.yaml')).read()
        rules = rules.replace('''    when: { kind: termination_notice, within: 60d }
    points: 50
''', '''    when: { kind: termination_notice, within: 60d }
    points: 50
    after_deadline: { points: 15 }
''')
        self.assertIn('after_deadline', rules)
        self.write('rules.yaml', rules)
        self.write('se.csv', HEADER +
                   f'T1;termination_notice;{day(-30)};;{person(11)};Storgatan 11;60223;0581\n'
                   f'T2;termination_notice;{day(-30)};;{person(12)};Storgatan 12;60223;0581\n'
                   f'T2b;eviction_application;{day(-5)};;{person(12)};Storgatan 12;60223;0581\n'
                   f'T3;termination_notice;{day(-5)};;{person(13)};Storgatan 13;60223;0581\n'
                   f'T4;termination_notice;{day(-30)};{day(-10)};{person(14)};Storgatan 14;60223;0581\n')
        cfg = self.config('rules: rules.yaml\nfeeds:\n' + feed('se', 'se.csv'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)

        def notice_points(ext):
            doc = self.db.value(f"SELECT c.explanation FROM bokvar.score c JOIN bokvar.signal s "
                                f"ON s.household_id = c.household_id WHERE s.external_id = '{ext}'")
            return [(e['points'], e.get('after_deadline', False)) for e in json.loads(doc)
                    if e['rule'] == 'termination-notice']

        self.assertEqual(notice_points('T1'), [(15, True)])    # past, nothing followed
        self.assertEqual(notice_points('T2'), [(50, False)])   # an application followed
        self.assertEqual(notice_points('T3'), [(50, False)])   # within its three weeks
        self.assertEqual(notice_points('T4'), [(50, False)])   # notified later: still open


class Regional(TestCase):
    """A regional feed's rows outside its area: counted, stored nowhere."""

    def test_outside_leaves_no_trace(self):
        outside_pnr = person(40)
        self.write('region.csv', HEADER +
                   f'R1;arrears;2026-11-01;;{person(41)};Innegatan 1;602 23;\n'           # by postal code
                   f'R2;arrears;2026-11-01;;{person(42)};Innegatan 2;99999;0581\n'        # by municipality
                   f'R3;arrears;2026-11-01;;{outside_pnr};Utanförvägen 77;11122;0180\n'   # outside
                   f'R4;arrears;2026-11-01;;;Okändgatan 5;;\n'                            # cannot be placed
                   f'R5;nonsense;2026-11-01;;{person(43)};Bortavägen 9;11130;\n'          # outside, and bad
                   f'R6;arrears;2026-11-01;;{person(44)};Prefixgatan 1;603 50;\n')        # by a prefix
        cfg = self.config('feeds:\n' + feed('region', 'region.csv',
                                            '    only: { postal_codes: ["60223", "603*"], '
                                            'municipality_codes: ["0581"] }\n'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(sorted(r[0] for r in self.db.query('SELECT external_id FROM bokvar.signal')),
                         ['R1', 'R2', 'R6'])
        self.assertEqual(self.db.query('SELECT rows_read, accepted, updated, duplicate, quarantined, filtered '
                                       'FROM bokvar.fetch'), [['6', '3', '0', '0', '1', '2']])
        row = self.feed_row('region')
        self.assertEqual((row['last_rows_read'], row['last_filtered'], row['total_filtered']), (6, 2, 2))
        self.assertIn("neither postal_code nor municipality_code is given",
                      self.db.value('SELECT reason FROM bokvar.quarantine'))
        # Nothing of R3 or R5 in any table, nor in the statistics.
        texts = table_texts(self.db)
        for word in (outside_pnr, outside_pnr.replace('-', ''), 'Utanförvägen', 'UTANFÖRVÄGEN', 'R3', '11122',
                     'Bortavägen', 'BORTAVÄGEN', 'R5', 'nonsense', person(43).replace('-', '')):
            self.assertEqual(holding(texts, word), [], word)
        with open(os.path.join(self.dir, "region.csv")) as f:
            self.assertIn("Utanförvägen", f.read())
        # bokvarctl feeds shows it, and the accounting holds with it.
        p = ctl('feeds', config=cfg)
        self.assertIn("FILTERED", p.stdout.splitlines()[0])
        self.assertIn('6 rows read = 3 accepted + 0 updated + 0 duplicate + 1 quarantined + 2 filtered', p.stdout)
        self.assertNotIn('unaccounted', p.stdout)


    def test_retry_places_rows(self):
        """Rows a feed could not place are quarantined; once the mapping
        reads their municipality, a retry ingests those inside and removes
        those outside from the quarantine, counted as filtered."""
        op = f'int_op_{self.db.name[-6:]}'
        self.write('region.csv', HEADER +
                   f'Q1;arrears;2026-11-01;;{person(51)};Innegatan 1;;0581\n'
                   f'Q2;arrears;2026-11-01;;{person(52)};Utanförstigen 3;;0180\n')
        only = '    only: { municipality_codes: ["0581"] }\n'
        blind = feed('region', 'region.csv', only).replace('      municipality_code: kommun\n', '')
        cfg = self.config(f'people:\n  operators: [{op}]\nfeeds:\n' + blind)
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '2')
        self.db.login(op, 'operator')
        opcfg = self.write('operator.yaml', f'database: "dbname={self.db.name}"\npeople:\n  operators: [{op}]\n'
                           'feeds:\n' + feed('region', 'region.csv', only))
        p = ctl('--json', 'quarantine', 'retry', config=opcfg, env=self.db.as_login(op))
        self.assertEqual([(r['feed'], r['retried'], r['accepted'], r['filtered']) for r in json.loads(p.stdout)],
                         [('region', 2, 1, 1)])
        self.assertEqual(self.ids_and_quarantine(), (['Q1'], '0'))
        self.assertEqual(self.db.query('SELECT rows_read, accepted, quarantined, filtered FROM bokvar.fetch'),
                         [['2', '0', '1', '1']])
        row = self.feed_row('region')
        self.assertEqual((row['total_rows_read'], row['total_accepted'], row['total_quarantined'],
                          row['total_filtered']), (2, 1, 0, 1))
        texts = table_texts(self.db)
        for word in ('Utanförstigen', person(52).replace('-', ''), 'Q2;'):
            self.assertEqual(holding(texts, word), [], word)

    def ids_and_quarantine(self):
        return (sorted(r[0] for r in self.db.query('SELECT external_id FROM bokvar.signal')),
                self.db.value('SELECT count(*) FROM bokvar.quarantine'))


class HandRegistered(TestCase):
    """bokvarctl signal add, as a caseworker, through the web's path."""

    def setUp(self):
        super().setUp()
        s = self.db.name[-6:]
        self.cw = self.db.login(f'int_cw_{s}', 'caseworker')
        self.other = self.db.login(f'int_cw2_{s}', 'caseworker')
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        self.cfg = self.config(f'rules: rules.yaml\nteams:\n  - name: norr\n    postal_codes: ["602"]\n    caseworkers: [{self.cw}]\n'
                               f'  - name: syd\n    default: true\n    caseworkers: [{self.other}]\n')
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)

    def add(self, *args, login=None, input=None):
        return ctl('signal', 'add', *args, env=self.db.as_login(login or self.cw), check=False, input=input)

    def test_refused_with_the_reason(self):
        wrong = person(20)[:-1] + str((int(person(20)[-1]) + 1) % 10)
        p = self.add('--kind', 'termination_notice', '--occurred-at', day(-2), '--person-id', '-',
                     '--children', 'two', input=wrong + '\n')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('person_id: the check digit of the Swedish personnummer is wrong', p.stderr)
        self.assertIn("children: children 'two' is not a whole number of 0 or more", p.stderr)
        self.assertIn('(2 problems)', p.stderr)
        self.assertNotIn(wrong, p.stderr + p.stdout)
        # The outcome in the caseworker's language (the reasons stay the ingest's own words).
        p = ctl('--lang', 'sv', 'signal', 'add', '--kind', 'termination_notice', '--occurred-at', day(-2),
                '--person-id', '-', env=self.db.as_login(self.cw), check=False, input=wrong + '\n')
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn('underrättelsen registreras inte (1 fel)', p.stderr)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')
        # An identity number on the command line is refused before anything.
        p = self.add('--kind', 'arrears', '--occurred-at', day(0), '--person-id', person(20))
        self.assertEqual(p.returncode, 2)
        self.assertIn('not taken on the command line', p.stderr)
        self.assertNotIn(person(20), p.stderr)

    def test_bytes_that_are_no_text(self):
        # Arguments and files can carry any bytes (the web's form refuses
        # them itself): named by field and byte, never sent to the database.
        env = dict(os.environ, **self.db.as_login(self.cw))
        p = subprocess.run([BOKVARCTL, '--config', self.cfg, 'signal', 'add', '--kind', 'arrears', '--occurred-at',
                            day(-1), '--address', b'Storgatan 1\x8b', '--postal-code', '602 22'],
                           env=env, capture_output=True)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b'address: address is not UTF-8 text (byte 12 is 0x8B)', p.stderr)
        self.assertNotIn(b'encoding', p.stderr)
        doc = (b'{"kind": "arrears", "occurred_at": "' + day(-1).encode() + b'", "name": "Anna \xc3",'
               b' "address": "Storgatan 2", "postal_code": "602 22"}')
        p = subprocess.run([BOKVARCTL, '--config', self.cfg, 'signal', 'add', '--json', '-'], env=env,
                           capture_output=True, input=doc)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(b'name: name is not UTF-8 text (byte 6 is 0xC3)', p.stderr)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '0')

    def test_registered_matched_scored_on_the_worklist(self):
        pnr = person(21)
        p = self.add('--kind', 'eviction_scheduled', '--occurred-at', day(5), '--person-id', '-',
                     '--address', 'Storgatan 9', '--postal-code', '602 23', '--children', '2', input=pnr + '\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'Registered as signal \d+: household \d+, task \d+ of team norr\.')
        self.assertEqual(self.db.query("SELECT s.source, s.deadline = current_date + 5, x.entered_by, s.person_id "
                                       "FROM bokvar.signal s JOIN bokvar.fetch x ON x.id = s.fetch_id"),
                         [['manual', 't', self.cw, pnr.replace('-', '')]])
        tasks = json.loads(ctl('--json', 'tasks', env=self.db.as_login(self.cw)).stdout)
        self.assertEqual(len(tasks), 1)
        self.assertEqual(self.db.value("SELECT actor FROM bokvar.audit_log WHERE action = 'signal.register'"), self.cw)

        # The same path from JSON on standard input; a household outside
        # the caseworker's teams is registered but not shown.
        doc = {'kind': 'eviction_scheduled', 'occurred_at': day(3), 'person_id': person(22),
               'address': 'Sydgatan 1', 'postal_code': '21100', 'children': 1, 'amount': 1234.5}
        p = self.add('--json', '-', input=json.dumps(doc))
        self.assertEqual(p.returncode, 0, p.stderr)
        out = json.loads(p.stdout)
        self.assertEqual((out['team'], out['yours']), ('syd', False))
        self.assertEqual(self.db.value(f"SELECT amount FROM bokvar.signal WHERE id = {out['signal_id']}"), '1234.50')
        p = self.add('--json', '-', input=json.dumps(doc | {'person_id': doc['person_id'][:-1] + 'X'}))
        self.assertEqual(p.returncode, 1)
        self.assertIn('person_id:', p.stderr)



class Levanger(TestCase):
    """config/examples/levanger.yaml end to end on the sample feeds that
    tools/make-samples writes, as tools/demo --example levanger runs it."""

    def test_example(self):
        # Dated around today, as the demo's are, so that the rules' windows see them.
        subprocess.run([os.path.join(SOURCE_ROOT, 'tools', 'make-samples'), os.path.join(self.dir, 'samples'),
                        day(0)], check=True)
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'examples', 'levanger-rules.yaml'), self.dir)
        with open(os.path.join(SOURCE_ROOT, 'config', 'examples', 'levanger.yaml')) as f:
            text = f.read()
        self.assertIn('\ndatabase:\n', text)
        # The harness's retention instead (a century).
        text = re.sub(r'(?m)^retention:\n(?:  .*\n)*', '', text)
        cfg = self.config(text.replace('\ndatabase:\n', '\n'))
        status, out = self.once(cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('Feed namsfogden-trondelag: 7 rows, 4 accepted, 0 updated, 0 duplicate, 1 quarantined, '
                      '2 filtered', out)
        self.assertIn('Feed nav-levanger: 2 rows, 2 accepted', out)
        self.assertEqual(self.db.query("SELECT external_id, source, kind, occurred_at, coalesce(deadline::text, '-') "
                                       "FROM bokvar.signal ORDER BY external_id"), [
            ['NAV-001', 'welfare', 'welfare_warning', day(-2), '-'],
            ['NAV-002', 'welfare', 'welfare_warning', day(-8), '-'],
            ['NF-0001', 'enforcement', 'eviction_warning', day(-3), day(11)],       # § 4-18: 14 days
            ['NF-0002', 'enforcement', 'eviction_application', day(-6), day(8)],    # § 13-6: 14 days
            ['NF-0003', 'enforcement', 'eviction_scheduled', day(9), day(9)],
            ['NF-0004', 'enforcement', 'eviction_warning', day(-20), day(-6)],
        ])
        # Verdal's and Trondheim's people are nowhere.
        texts = table_texts(self.db)
        for word in ('Per Hansen', 'Siri Lie', 'Kongens gate', 'Olav Tryggvasons', 'NF-0005', 'NF-0006'):
            self.assertEqual(holding(texts, word), [], word)
        self.assertIn('second check digit of the Norwegian fødselsnummer is wrong',
                      self.db.value('SELECT reason FROM bokvar.quarantine'))
        # A household at risk in each team's worklist.
        self.assertEqual(self.db.query("SELECT team, count(*) FROM bokvar.task WHERE status = 'open' "
                                       "GROUP BY team ORDER BY team"), [['levanger', '1'], ['sentrum', '3']])
        # A landlord's warning that came by letter, under Norway's law.
        self.db.login('ingrid.b', 'caseworker')
        p = ctl('--json', 'signal', 'add', '-', '--jurisdiction', 'no', env=self.db.as_login('ingrid.b'),
                input=json.dumps({'kind': 'eviction_warning', 'occurred_at': datetime.date.today().isoformat(),
                                  'person_id': norwegian(7), 'address': 'Sjøgata 9', 'postal_code': '7600'}))
        out = json.loads(p.stdout)
        self.assertEqual(self.db.value(f"SELECT deadline - occurred_at FROM bokvar.signal "
                                       f"WHERE id = {out['signal_id']}"), '14')


DROP_HEADER = 'id;kind;served;notified;pnr;street;zip;kommun\n'


def drop_rows(prefix, n, start=0):
    return ''.join(f'{prefix}{i};arrears;2026-11-01;;{person(100 + start + i)};Dropgatan {start + i};60223;\n'
                   for i in range(n))


class DropFolder(TestCase):
    """A local drop folder over several polls: each file once, in order of
    modification time, a file still being written left for the next poll,
    the same content under another name not ingested again, done/."""

    def setUp(self):
        super().setUp()
        os.mkdir(os.path.join(self.dir, 'inbox'))
        self.cfg = self.config('feeds:\n' + feed('drop', 'inbox/').replace('    interval: 1h\n',
                                                                           '    interval: 1h\n    pattern: "*.csv"\n'))

    def drop(self, name, text, mtime=None):
        path = os.path.join(self.dir, 'inbox', name)
        with open(path, 'w') as f:
            f.write(text)
        if mtime:
            os.utime(path, (mtime, mtime))
        return path

    def ids(self):
        return sorted(r[0] for r in self.db.query('SELECT external_id FROM bokvar.signal'))

    def inbox(self, sub=''):
        return sorted(os.listdir(os.path.join(self.dir, 'inbox', sub)))

    def test_three_polls(self):
        import threading
        import time
        a = DROP_HEADER + drop_rows('A', 2)
        self.drop('a.csv', a)
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.ids(), ['A0', 'A1'])
        self.assertEqual(self.inbox(), ['done'])
        self.assertEqual(self.inbox('done'), ['a.csv'])

        # Poll 2: a new file, the first one again under another name, and
        # one that is still being written all through the poll.
        self.drop('b.csv', DROP_HEADER + drop_rows('B', 1, 10), mtime=time.time() - 60)
        self.drop('a-again.csv', a, mtime=time.time() - 30)
        growing = self.drop('w.csv', DROP_HEADER)
        stop = threading.Event()

        def write():
            i = 0
            while not stop.is_set():
                with open(growing, 'a') as f:
                    f.write(drop_rows('W', 1, 20 + i).replace('W0;', f'W{i};'))
                i += 1
                time.sleep(0.02)
        writer = threading.Thread(target=write)
        writer.start()
        try:
            status, out = self.once(self.cfg)
        finally:
            stop.set()
            writer.join()
        self.assertEqual(status, 0, out)
        self.assertIn('a-again.csv was ingested before (its content is known); not again', out)
        self.assertEqual(self.ids(), ['A0', 'A1', 'B0'])
        self.assertEqual(self.inbox(), ['done', 'w.csv'])
        self.assertEqual(self.inbox('done'), ['a-again.csv', 'a.csv', 'b.csv'])

        # Poll 3: the finished file, whole, and a newer one after it.
        with open(growing) as f:
            written = f.read().count('\n') - 1
        self.assertGreater(written, 5)
        self.drop('d.csv', DROP_HEADER + drop_rows('D', 1, 300), mtime=time.time() + 5)
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        ids = self.ids()
        self.assertEqual(len(ids), 4 + written)
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(self.inbox(), ['done'])
        # Each file its own fetch, in order of modification time.
        self.assertEqual(self.db.query("SELECT f.name, x.rows_read FROM bokvar.feed_file f "
                                       "JOIN bokvar.fetch x ON x.id = f.fetch_id ORDER BY x.id"),
                         [['a.csv', '2'], ['b.csv', '1'], ['w.csv', str(written)], ['d.csv', '1']])
        p = ctl('feeds', '--files', 'drop', config=self.cfg)
        self.assertIn('w.csv', p.stdout)

    def test_empty_folder(self):
        # Nothing dropped (most polls of a quiet day), then one file.
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.ids(), [])
        self.assertEqual(self.inbox(), [])
        self.drop('a.csv', DROP_HEADER + drop_rows('A', 1))
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        self.assertEqual(self.ids(), ['A0'])

    def test_kill_nine_between_commit_and_move(self):
        self.drop('a.csv', DROP_HEADER + drop_rows('A', 3))
        status, out = self.once(self.cfg, env={'BOKVAR_TEST_KILL_BEFORE_DONE': '1'})
        self.assertEqual(status, -9, out)
        self.assertEqual(self.ids(), ['A0', 'A1', 'A2'], 'committed before the kill')
        self.assertEqual(self.inbox(), ['a.csv'], 'not moved')
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        self.assertIn('a.csv was ingested before', out)
        self.assertEqual(self.ids(), ['A0', 'A1', 'A2'])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch'), '1')
        self.assertEqual(self.db.value("SELECT total_rows_read FROM bokvar.feed WHERE name = 'drop'"), '3')
        self.assertEqual(self.inbox('done'), ['a.csv'])

    def test_sftp(self):
        from sftpserver import SftpServer
        with SftpServer() as srv:
            srv.write('outgoing/a.csv', DROP_HEADER + drop_rows('A', 2))
            srv.write('outgoing/skip.txt', 'not a feed file\n')
            os.symlink(srv.client_key, os.path.join(self.dir, 'sftp-key'))
            cfg = self.config('feeds:\n' + feed('s', srv.url('outgoing') + '/').replace(
                '    interval: 1h\n', '    interval: 1h\n    pattern: "*.csv"\n'
                f'    auth: {{ ssh_key_credential: sftp-key, known_hosts: {srv.known_hosts} }}\n'))
            env = {'CREDENTIALS_DIRECTORY': self.dir}
            status, out = self.once(cfg, env=env)
            self.assertEqual(status, 0, out)
            self.assertEqual(self.ids(), ['A0', 'A1'])
            # Left where it is, and remembered: not ingested again.
            srv.write('outgoing/b.csv', DROP_HEADER + drop_rows('B', 1, 10))
            status, out = self.once(cfg, env=env)
            self.assertEqual(status, 0, out)
            self.assertNotIn('a.csv', out, 'not fetched again to be recognised')
            self.assertEqual(self.ids(), ['A0', 'A1', 'B0'])
            self.assertEqual(sorted(os.listdir(os.path.join(srv.root, 'outgoing'))), ['a.csv', 'b.csv', 'skip.txt'])
            self.assertEqual(self.db.query('SELECT name FROM bokvar.feed_file ORDER BY fetch_id'), [['a.csv'], ['b.csv']])
            self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.fetch WHERE rows_read > 0'), '2')
            # A host key known_hosts does not list: the listing fails, nothing is read.
            srv.write('outgoing/c.csv', DROP_HEADER + drop_rows('C', 1, 20))
            status, out = self.once(self.config('feeds:\n' + feed('s', srv.url('outgoing') + '/').replace(
                '    interval: 1h\n', '    interval: 1h\n    pattern: "*.csv"\n'
                f'    auth: {{ ssh_key_credential: sftp-key, known_hosts: {srv.wrong_known_hosts} }}\n')), env=env)
            self.assertEqual(status, 1, out)
            self.assertIn('Feed s: fetch failed', out)
            self.assertEqual(self.ids(), ['A0', 'A1', 'B0'])


if __name__ == '__main__':
    main()
