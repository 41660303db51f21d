#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scoring with the real daemon: rules reloaded on SIGHUP (a broken file
keeps the rules in force, a good one becomes a new version and everything
is rescored), and `rules diff` predicting exactly what a load does."""

import json
import os
import shutil
import signal

from harness import SOURCE_ROOT, TestCase, ctl, ctl_json, main

HEADER = 'id;kind;date;pnr;street;zip;children;amount\n'


def row(i, kind, date, children='', amount=''):
    return f'R{i};{kind};{date};;Gatan {i};602{i % 10}0;{children};{amount}\n'


FEED = '''rules: rules.yaml
feeds:
  - name: f
    source: landlord
    url: file:feed.csv
    interval: 1s
    format: csv
    csv: { delimiter: ";" }
    map:
      external_id: id
      kind: kind
      occurred_at: date
      address: street
      postal_code: zip
      children: children
      amount: amount
'''


def today_minus(days):
    import datetime
    return (datetime.date.today() - datetime.timedelta(days=days)).isoformat()


class Scoring(TestCase):

    def setUp(self):
        super().setUp()
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        self.write('feed.csv', HEADER + row(1, 'termination_notice', today_minus(3), '2', '45000')
                   + row(2, 'arrears', today_minus(5)) + row(3, 'arrears', today_minus(400)))
        self.cfg = self.config(FEED)

    def scores(self):
        return {int(h): (c, int(s), int(v)) for h, c, s, v in self.db.query(
            'SELECT household_id, class, score, ruleset_version FROM bokvar.score')}

    def test_sighup_with_broken_and_good_rules(self):
        d = self.daemon(self.cfg)
        d.wait_ready()
        d.notify.wait_for(lambda m: m.get('STATUS', '').startswith('Feed f: 3 rows'), what='first fetch')
        self.assertEqual(self.db.value('SELECT version FROM bokvar.ruleset_active'), '1')
        first = self.scores()
        # R1: termination notice 50, large debt 10 + 2 steps of 5, children 20
        # (present: not how many); R2: one reminder; R3 is older than the
        # window and counts for nothing.
        self.assertEqual(sorted(first.values()), [('none', 10, 1), ('urgent', 90, 1)])
        self.assertEqual({v for c, s, v in first.values()}, {1})

        # A broken rules file: refused with its position; version 1 stays and
        # goes on scoring what the feed brings.
        with open(os.path.join(self.dir, 'rules.yaml'), 'a') as f:
            f.write('  - name: nationality\n    when: { nationality: foreign }\n    points: 50\n')
        d.signal(signal.SIGHUP)
        st = d.notify.wait_for(lambda m: 'Reload failed' in m.get('STATUS', ''), what='failed reload')
        self.assertRegex(st['STATUS'], r"rules\.yaml:\d+:\d+: unknown key 'nationality' in when")
        self.assertTrue(d.running())
        with open(os.path.join(self.dir, 'feed.csv'), 'a') as f:
            f.write(row(4, 'termination_notice', today_minus(1), '', '1000'))
        d.notify.wait_for(lambda m: m.get('STATUS', '').startswith('Feed f: 4 rows, 1 accepted'),
                          what='fetch after the failed reload')
        new = self.db.value("SELECT s.ruleset_version FROM bokvar.score s JOIN bokvar.signal x "
                            "ON x.household_id = s.household_id WHERE x.external_id = 'R4'")
        self.assertEqual(new, '1')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.ruleset'), '1')

        # A good file: a new version, and every household rescored under it.
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        with open(os.path.join(self.dir, 'rules.yaml')) as f:
            text = f.read().replace('    points: 50\n', '    points: 70\n', 1)
        self.write('rules.yaml', text)
        d.signal(signal.SIGHUP)
        d.notify.wait_for(lambda m: m.get('STATUS', '').startswith('Scoring: rules version 2 loaded; every household '
                                                                   'rescored'), what='version 2')
        self.assertEqual(self.db.value('SELECT version FROM bokvar.ruleset_active'), '2')
        self.assertEqual({v for c, s, v in self.scores().values()}, {2})
        r1 = self.db.value("SELECT s.score FROM bokvar.score s JOIN bokvar.signal x ON x.household_id = s.household_id "
                           "WHERE x.external_id = 'R1'")
        # termination-notice 70, large-debt 10 + 2 steps of 5, children 20.
        self.assertEqual(r1, str(70 + 20 + 20))
        actions = self.db.query("SELECT action, subject FROM bokvar.audit_log WHERE action = 'rules.load' ORDER BY id")
        self.assertEqual(actions, [['rules.load', '1'], ['rules.load', '2']])

    def test_diff_predicts_the_load(self):
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        before = self.scores()
        with open(os.path.join(self.dir, 'rules.yaml')) as f:
            text = f.read()
        # Termination notices weigh nothing, reminders more: R1 falls from
        # urgent to watch, R2 rises from none to watch.
        text = text.replace('    when: { kind: termination_notice, within: 60d }\n    points: 50',
                            '    when: { kind: termination_notice, within: 60d }\n    points: 0')
        text = text.replace('    when: { kind: arrears, within: 60d }\n    points: 10',
                            '    when: { kind: arrears, within: 60d }\n    points: 20')
        self.write('rules.yaml', text)
        diff = ctl_json('rules', 'diff', os.path.join(self.dir, 'rules.yaml'), '--top', '100', config=self.cfg)
        self.assertFalse(diff['same_as_active'])
        predicted = {h['household']: h['to'] for h in diff['households']}
        self.assertEqual(sorted(predicted.values()), ['watch', 'watch'])
        self.assertEqual(sorted(h['from'] for h in diff['households']), ['none', 'urgent'])
        # Nothing was written by the diff.
        self.assertEqual(self.scores(), before)
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.ruleset'), '1')

        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        after = self.scores()
        changed = {h: after[h][0] for h in after if after[h][0] != before.get(h, ('none',))[0]}
        self.assertEqual(changed, predicted)
        self.assertEqual(diff['totals']['class_changes'], len(predicted))

    def test_rules_check(self):
        p = ctl('rules', 'check', os.path.join(self.dir, 'rules.yaml'))
        self.assertEqual(p.stdout.strip(), f"{self.dir}/rules.yaml: valid (12 rules)")
        self.write('bad.yaml', 'thresholds: {watch: 1, outreach: 2, urgent: 3}\nrules:\n  - name: x\n    when: {}\n'
                               '    points: 1\n')
        p = ctl('rules', 'check', os.path.join(self.dir, 'bad.yaml'), check=False)
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stdout.strip(), f'{self.dir}/bad.yaml:4:11: when needs at least one condition')
        j = json.loads(ctl('--json', 'rules', 'check', os.path.join(self.dir, 'bad.yaml'), check=False).stdout)
        self.assertFalse(j['valid'])

    def test_households_in_priority_order(self):
        status, out = self.once(self.cfg)
        self.assertEqual(status, 0, out)
        rows = ctl_json('households', config=self.cfg)
        self.assertEqual([r['priority'] for r in rows], list(range(1, len(rows) + 1)))
        top = rows[0]
        self.assertEqual((top['class'], top['children']), ('urgent', 2))
        self.assertIn('termination-notice', top['rules'])
        shown = ctl('household', 'show', str(top['id']), config=self.cfg).stdout
        self.assertIn('class Urgent (ruleset version 1', shown)
        self.assertIn('+50  termination-notice: Lease terminated for unpaid rent', shown)
        self.assertIn('because of termination_notice', shown)
        only = ctl_json('households', '--class', 'watch', config=self.cfg)
        self.assertTrue(all(r['class'] == 'watch' for r in only))


if __name__ == '__main__':
    main()
