#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Casework with the real binaries, each person through their own login:
children nobody reported shown as unknown, a caseworker's count of them,
two households merged into one, a person split out of a household (the
identity number on standard input), and the yearly report with the year
before beside it, as text, JSON and CSV, the same after a purge."""

import datetime
import json
import os
import pty
import select
import shutil
import subprocess
import time

from harness import BOKVARCTL, SOURCE_ROOT, TestCase, ctl, ctl_json, main
import identity

pnr = identity.person

HEADER = 'id;kind;date;deadline;pnr;street;zip;apt;children;landlord\n'


def day(n):
    """Today + n, as the feed writes dates."""
    return (datetime.date.today() + datetime.timedelta(days=n)).isoformat()


def row(ext, kind, when, person, street, zip_code, apt='', children='', deadline=None, landlord='Alfa AB'):
    return (f'{ext};{kind};{day(when)};{day(deadline) if deadline is not None else ""};{pnr(person)};{street};'
            f'{zip_code};{apt};{children};{landlord}\n')


FEED = '''rules: rules.yaml
feeds:
  - name: f
    source: landlord
    url: file:feed.csv
    format: csv
    csv: { delimiter: ";" }
    identity: [se]
    map:
      external_id: id
      kind: kind
      occurred_at: date
      deadline: deadline
      person_id: pnr
      address: street
      postal_code: zip
      apartment: apt
      children: children
      landlord: landlord
'''


class Casework(TestCase):
    """Team north (111..): caseworker cw; team south (222..): cw2; a
    coordinator and an operator. The default rules of config/rules.yaml."""

    def setUp(self):
        super().setUp()
        s = self.db.name[-6:]
        self.cw, self.cw2, self.coord, self.op = (f'cw_{s}', f'cw2_{s}', f'coord_{s}', f'op_{s}')
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        self.cfg = self.config(FEED + f'teams:\n  - name: north\n    postal_codes: ["111"]\n    caseworkers: [{self.cw}]\n'
                               f'  - name: south\n    default: true\n    caseworkers: [{self.cw2}]\n'
                               f'people:\n  coordinators: [{self.coord}]\n  operators: [{self.op}]\n')
        # HA: P1 and co-tenant P2, children unknown; HB1 and HB2: one home
        # written with and without its flat; HS: P4 and P5, P4's notice is
        # another flat's.
        self.write('feed.csv', HEADER
                   + row('A1', 'termination_notice', -5, 1, 'Ekvägen 1', '111 11', '1001')
                   + row('A2', 'arrears', -4, 2, 'Ekvägen 1', '111 11', '1001')
                   + row('B1', 'termination_notice', -6, 3, 'Lindvägen 1', '111 55', '1101', '2')
                   + row('B2', 'eviction_scheduled', -3, 3, 'Lindvägen 1', '111 55', deadline=20)
                   + row('S1', 'termination_notice', -8, 4, 'Björkgatan 2', '111 66')
                   + row('S2', 'arrears', -7, 5, 'Björkgatan 2', '111 66'))
        self.assertEqual(self.once(self.cfg)[0], 0)
        for login, function in ((self.cw, 'caseworker'), (self.cw2, 'caseworker'), (self.coord, 'coordinator'),
                                (self.op, 'operator')):
            self.db.login(login, function)

    def home(self, ext):
        return self.db.value(f"SELECT household_id FROM bokvar.signal WHERE external_id = '{ext}'")

    def as_(self, login, *args, **kw):
        return ctl(*args, env=self.db.as_login(login), check=False, **kw)

    def typed(self, login, args, text):
        """Runs bokvarctl as login with a terminal for standard input and
        error, and types text and Enter once it asks (or after 10 s
        without a question): (what the terminal showed, exit status)."""
        master, slave = pty.openpty()
        env = dict(os.environ, **self.db.as_login(login))
        p = subprocess.Popen([BOKVARCTL, *args], stdin=slave, stdout=subprocess.DEVNULL, stderr=slave, env=env)
        os.close(slave)
        shown = b''
        try:
            deadline = time.monotonic() + 10
            while (b'(not shown): ' not in shown
                   and select.select([master], [], [], max(0, deadline - time.monotonic()))[0]):
                shown += os.read(master, 1024)
            os.write(master, text.encode() + b'\n')
            p.wait(timeout=60)
            while chunk := os.read(master, 1024):
                shown += chunk
        except OSError:   # EIO: the terminal's other side is closed
            pass
        finally:
            os.close(master)
            p.wait(timeout=60)
        return shown.decode(errors='replace'), p.returncode

    def test_unknown_children_and_a_caseworkers_count(self):
        ha = self.home('A1')
        tasks = ctl_json('tasks', env=self.db.as_login(self.cw))
        mine = next(t for t in tasks if t['household'] == int(ha))
        self.assertIsNone(mine['children'], 'the worklist: null in JSON')
        p = self.as_(self.cw, 'tasks')
        line = next(x for x in p.stdout.splitlines() if x.split()[1] == str(mine['task']))
        self.assertIn(' unknown ', line, 'the worklist: "unknown" in the table, never 0')
        shown = self.as_(self.cw, 'household', 'show', ha).stdout
        self.assertRegex(shown, r'\n *Children: unknown\n')
        self.assertIn('Children: unknown; no feed reported a count and no caseworker gave one.', shown)
        p = self.as_(self.coord, 'subject', 'export', '-', input=pnr(1) + '\n')
        self.assertRegex(p.stdout, rf'\nWhat is known of the home:\n.*\n{ha} +unknown +11111 ',
                         'the person\'s copy: unknown, never "-"')
        households = self.as_(self.coord, 'households').stdout
        self.assertRegex(households, rf'\n\d+ +{ha} +Outreach +60 +unknown ')

        # The caseworker of the household's team counts two children.
        p = self.as_(self.cw, 'household', 'children', ha, '2', '--source', 'home visit')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f'Household {ha}: 2 children, class Outreach, score 80.\n')
        shown = self.as_(self.cw, 'household', 'show', ha).stdout
        self.assertRegex(shown, r'\n *Children: 2\n')
        self.assertRegex(shown, rf'\n\d{{1,2}} [A-Z][a-z]+ \d{{4}}, \d\d:\d\d +2 +corrected by a caseworker +{self.cw} '
                                r'+home visit +yes\n')
        self.assertEqual(ctl_json('household', 'show', ha, env=self.db.as_login(self.cw))['children_history'][0]['by'],
                         self.cw)
        self.assertEqual(self.db.query("SELECT actor, subject, detail ->> 'to' FROM bokvar.audit_log "
                                       "WHERE action = 'household.children'"), [[self.cw, ha, '2']])
        again = json.loads(self.as_(self.cw, '--json', 'household', 'children', ha, '3', '--source', 'a call').stdout)
        self.assertEqual((again['children'], again['class'], again['score']), (3, 'outreach', 80),
                         'the latest count is in force; the score counts children present, not how many')

        # Who may not, and what is no count: nothing recorded.
        self.assertEqual(self.as_(self.cw2, 'household', 'children', ha, '1', '--source', 'x').returncode, 5)
        self.assertEqual(self.as_(self.op, 'household', 'children', ha, '1', '--source', 'x').returncode, 1)
        for args in ((ha, 'two', '--source', 'x'), (ha, '100', '--source', 'x'), (ha, '1'), (ha, '1', '--source')):
            self.assertEqual(self.as_(self.cw, 'household', 'children', *args).returncode, 2, args)
        self.assertEqual(self.as_(self.cw, 'household', 'children', ha, '31', '--source', 'x').returncode, 1,
                         'more than 30: refused by the database, as the web\'s form is')
        p = self.as_(self.cw, 'household', 'children', ha, '1', '--source', 'bad\x1b[2Jsource')
        self.assertEqual(p.returncode, 1)
        self.assertIn('control character', p.stderr)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.children_correction'), '2')

        # The person's copy says who counted, when, from what, and how they knew.
        p = self.as_(self.coord, 'subject', 'export', '-', input=pnr(1) + '\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'\nThe children as caseworkers counted them:\nWHEN +BEFORE +CHILDREN +WHO +HOW THEY KNEW\n'
                                   rf'.* unknown +2 +{self.cw} +home visit\n.* 2 +3 +{self.cw} +a call\n')

    def test_merge(self):
        b1, b2 = self.home('B1'), self.home('B2')
        self.assertNotEqual(b1, b2)
        # The enforcement agency's date alone is no task of north's: the
        # caseworker sees one of the two only, and may not merge them.
        p = self.as_(self.cw, 'household', 'merge', b1, b2)
        self.assertEqual(p.returncode, 5, p.stderr)
        self.assertIn(f'no household {b2}', p.stderr)
        self.assertEqual(self.as_(self.op, 'household', 'merge', b1, b2).returncode, 1)
        self.assertEqual(self.as_(self.coord, 'household', 'merge', b1, 'x').returncode, 2)
        p = self.as_(self.coord, 'household', 'merge', b1, b2)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, f'Household {b2} merged into household {b1}: 1 signals, 0 tasks and 1 people moved.\n'
                                   f'Household {b1}: 2 children, class Urgent, score 110.\n')
        self.assertEqual(self.as_(self.coord, 'household', 'show', b2).returncode, 5, 'the other household is gone')
        top = ctl_json('tasks', env=self.db.as_login(self.cw))[0]
        self.assertEqual((top['household'], top['class'], top['children'], top['eviction']),
                         (int(b1), 'urgent', 2, day(20)), 'the family, its eviction scheduled, first in the worklist')
        self.assertEqual(self.db.query("SELECT actor, subject, detail ->> 'merged' FROM bokvar.audit_log "
                                       "WHERE action = 'household.merge'"), [[self.coord, b1, b2]])
        # The next delivery writes the flat-less address again: the same household.
        with open(os.path.join(self.dir, 'feed.csv'), 'a') as f:
            f.write(row('B3', 'arrears', -1, 3, 'Lindvägen 1', '111 55'))
        self.assertEqual(self.once(self.cfg)[0], 0)
        self.assertEqual(self.home('B3'), b1)
        # The person's copy names the household merged in and its address.
        p = self.as_(self.coord, 'subject', 'export', '-', input=pnr(3) + '\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r'\nHouseholds a caseworker merged into it, and their addresses:\n.*\n'
                                   rf'{b2} +\d{{1,2}} [A-Z][a-z]+ \d{{4}}, \d\d:\d\d +LINDVÄGEN1\|11155\|\n')

    def test_split_with_the_number_on_standard_input(self):
        hs = self.home('S1')
        self.assertEqual(self.home('S2'), hs)
        number = pnr(4)
        p = self.as_(self.cw, 'household', 'split', hs, '--person', '-', input=number + '\n')
        self.assertEqual(p.returncode, 0, p.stderr)
        new = self.home('S1')
        self.assertNotEqual(new, hs)
        self.assertEqual(p.stdout, f'Household {hs} split: 1 signals moved to the new household {new}.\n'
                                   f'Household {new}: unknown children, class Outreach, score 50.\n'
                                   f'Household {hs}: unknown children, class None, score 10.\n')
        self.assertEqual(self.db.query(f'SELECT team, status FROM bokvar.task WHERE household_id = {new}'),
                         [['north', 'open']], 'the new household is scored and gets its task')
        self.assertEqual(self.db.query("SELECT e.kind FROM bokvar.task_event e JOIN bokvar.task t ON t.id = e.task_id "
                                       f"WHERE t.household_id = {hs} ORDER BY e.id"), [['created'], ['risk_lowered']])
        audit = self.db.query("SELECT actor, subject, detail::text FROM bokvar.audit_log WHERE action = 'household.split'")
        self.assertEqual([a[:2] for a in audit], [[self.cw, hs]])
        for text in (p.stdout, p.stderr, audit[0][2]):
            self.assertNotIn(number.replace('-', ''), text.replace('-', ''))
        # Typed at a terminal: asked for, never shown.
        shown, status = self.typed(self.cw, ('household', 'split', hs, '--person', '-'), pnr(9))
        self.assertEqual(status, 5, shown)
        self.assertIn('Identity number (not shown): \r\n', shown)
        self.assertNotIn(pnr(9).replace('-', ''), shown.replace('-', ''))
        # Refused, and never repeated: an invalid number, one not in the household.
        for bad, status in ((number[:-1] + str((int(number[-1]) + 1) % 10), 1), (pnr(9), 5)):
            p = self.as_(self.cw, 'household', 'split', hs, '--person', '-', input=bad + '\n')
            self.assertEqual(p.returncode, status, p.stderr)
            self.assertNotIn(bad.replace('-', ''), (p.stdout + p.stderr).replace('-', ''))
        self.assertEqual(self.as_(self.cw, 'household', 'split', hs, '--person', '-', input='').returncode, 2)
        self.assertEqual(self.as_(self.cw, 'household', 'split', hs).returncode, 2)
        # Later, the person at the old address comes to their own household.
        with open(os.path.join(self.dir, 'feed.csv'), 'a') as f:
            f.write(row('S3', 'arrears', -1, 4, 'Björkgatan 2', '111 66'))
        self.assertEqual(self.once(self.cfg)[0], 0)
        self.assertEqual(self.home('S3'), new)


class Report(TestCase):
    """2024 beside 2023, from households written straight into the
    database; the purge of today (6 and 18 months) takes all of them."""

    def setUp(self):
        super().setUp()
        s = self.db.name[-6:]
        self.coord, self.op = f'coord_{s}', f'op_{s}'
        self.cfg = self.config(f'teams:\n  - name: north\n    default: true\npeople:\n  coordinators: [{self.coord}]\n'
                               f'  operators: [{self.op}]\n'
                               'retention:\n  signals_without_task: 6mo\n  households_with_tasks: 18mo\n')
        self.assertEqual(self.once(self.cfg)[0], 0)
        self.db.login(self.coord, 'coordinator')
        self.db.login(self.op, 'operator')
        # 801: a family that kept its home (its landlord's name has a comma);
        # 802: evicted, no task; 803: a task, the one call did not reach
        # them, evicted; 804 (2023): a payment plan.
        self.db.query("""
            INSERT INTO bokvar.household (id, children, landlord, last_signal_at) VALUES
                (801, 2, 'Bostäder, Norr AB', '2024-02-01'), (802, NULL, NULL, '2024-07-01'),
                (803, 1, NULL, '2024-10-15'), (804, 0, 'Alfa AB', '2023-03-01');
            INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, household_id, fetch_id,
                                       received_at) OVERRIDING SYSTEM VALUE VALUES
                (1, 't', '1', 'landlord', 'termination_notice', '2024-02-01', 801, 1, '2024-02-02 09:00'),
                (2, 't', '2', 'enforcement', 'eviction_executed', '2024-07-01', 802, 1, '2024-07-02 09:00'),
                (3, 't', '3', 'landlord', 'termination_notice', '2024-09-01', 803, 1, '2024-09-02 09:00'),
                (4, 't', '4', 'enforcement', 'eviction_executed', '2024-10-15', 803, 1, '2024-10-16 09:00'),
                (5, 't', '5', 'landlord', 'arrears', '2023-03-01', 804, 1, '2023-03-02 09:00');
            INSERT INTO bokvar.task (id, household_id, status, class, opened_class, top_class, score, team,
                                     legal_deadline, due, created_at, first_contact_at, closed_at, outcome)
            OVERRIDING SYSTEM VALUE VALUES
                (1, 801, 'closed', 'outreach', 'outreach', 'outreach', 60, 'north', '2024-02-22', '2024-02-22',
                 '2024-02-03 10:00', '2024-02-05 10:00', '2024-03-01 12:00', 'kept_home'),
                (2, 803, 'closed', 'outreach', 'outreach', 'outreach', 60, 'north', '2024-09-22', '2024-09-22',
                 '2024-09-02 10:00', '2024-09-10 10:00', '2024-10-20 12:00', 'evicted'),
                (3, 804, 'closed', 'outreach', 'outreach', 'outreach', 60, 'north', NULL, '2023-03-09',
                 '2023-03-02 10:00', '2023-03-03 10:00', '2023-04-01 12:00', 'payment_plan');
            INSERT INTO bokvar.contact (task_id, at, by, channel, reached) VALUES
                (1, '2024-02-05 10:00', 'anna', 'phone', true), (2, '2024-09-10 10:00', 'anna', 'phone', false),
                (3, '2023-03-03 10:00', 'anna', 'home_visit', true);
            INSERT INTO bokvar.children_correction (household_id, old_children, new_children, note, at, by)
            VALUES (801, NULL, 2, 'home visit', '2024-02-05 10:00', 'anna');""")

    def reports(self):
        env = self.db.as_login(self.coord)
        return {y: (ctl_json('report', '--year', y, '--compare', env=env),
                    ctl('report', '--year', y, '--compare', '--csv', env=env).stdout,
                    ctl('report', '--year', y, '--compare', env=env).stdout) for y in ('2023', '2024')}

    def test_compare_and_purge(self):
        before = self.reports()
        j, csv, text = before['2024']
        self.assertEqual((j['year'], j['previous']['year']), (2024, 2023))
        self.assertEqual((j['tasks_reached'], j['contact_rate'], j['previous']['contact_rate']), (1, 0.5, 1.0))
        self.assertEqual((j['missed_cases'], j['missed_no_task'], j['missed_no_contact']), (2, [802], [803]))
        self.assertEqual((j['evictions_executed_with_children'], j['children_evicted'],
                          j['evictions_executed_children_unknown']), (1, 1, 1))
        self.assertEqual(j['outcomes_by_landlord'], {'Bostäder, Norr AB': {'kept_home': 1}, 'unknown': {'evicted': 1}})
        self.assertEqual(j['previous']['outcomes_by_cause'], {'arrears': {'payment_plan': 1}})
        lines = csv.splitlines()
        self.assertEqual(lines[0], 'figure,value,previous')
        for want in ('tasks_opened,2,1', 'tasks_reached,1,1', 'contact_rate,0.500,1.000', 'missed_cases,2,0',
                     'missed_no_task,802,', 'missed_no_contact,803,', '"outcomes_by_landlord.Bostäder, Norr AB.kept_home",1,0',
                     'outcomes_by_cause.arrears.payment_plan,0,1', 'kept_home_children_unknown,0,0',
                     'evictions_executed_children_unknown,1,0'):
            self.assertIn(want, lines)
        self.assertRegex(text, r'bokvar: the year +2024 +2023\n')
        self.assertRegex(text, r'\n  contact rate: reached of opened +50\.0% +100\.0%\n')
        self.assertIn('\n  no task in the year before the eviction\n    2024: 802\n    2023: none\n', text)
        self.assertRegex(text, r'\n  Bostäder, Norr AB: Kept their home +1 +0\n')

        purged = ctl_json('purge', env=self.db.as_login(self.op))
        self.assertEqual((purged['household'], purged['children_correction']), (4, 1))
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.household'), '0')
        self.assertEqual(self.reports(), before, 'every figure, text, JSON and CSV, as before the purge')


if __name__ == '__main__':
    main()
