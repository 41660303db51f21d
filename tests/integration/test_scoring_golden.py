#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""The scoring of this build against the golden file made by the scoring of
migration 005 (tests/fixtures/scoring-golden.txt, see scoring_fixture.py):
one randomised fixture of 10,000 households, its scores, classes,
explanations and fingerprints compared row for row, and the tasks they
open (routing, assignment, due dates, events), through every way a score
is computed: a full rescore, the households of ingests in batches, and the
daily rescore after them, which finds nothing changed."""

import subprocess

import scoring_fixture as fx
from harness import TestCase, main


class Golden(TestCase):

    def setUp(self):
        super().setUp()
        subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', self.db.name], input=fx.load_sql(), text=True,
                       check=True, stdout=subprocess.DEVNULL)
        with open(fx.GOLDEN) as f:
            lines = [line.rstrip('\n') for line in f if not line.startswith('#')]
        self.golden = [line for line in lines if not line.startswith('full ')]
        self.full = [line[5:].split('\t') for line in lines if line.startswith('full ')]

    def scored(self):
        return fx.golden_lines(self.db.query(fx.DIGEST_SQL), self.db.query(fx.TASKS_SQL))

    def compare(self, got, what, tasks=True):
        want = self.golden if tasks else [g.rsplit(' ', 1)[0] for g in self.golden]
        got = got if tasks else [g.rsplit(' ', 1)[0] for g in got]
        self.assertEqual(len(got), len(want), f'{what}: households scored')
        wrong = [(w, g) for w, g in zip(want, got) if w != g]
        if wrong:
            ids = ', '.join(w.split()[0] for w, _ in wrong[:5])
            shown = self.db.query(f'SELECT household_id, score, class, next_deadline, explanation FROM bokvar.score '
                                  f'WHERE household_id IN ({ids}) ORDER BY 1')
            self.fail(f'{what}: {len(wrong)} of {len(want)} households differ from the golden file, '
                      f'first {wrong[:5]}; they are now {shown}')

    def test_full_rescore(self):
        self.db.query(f"SELECT bokvar.score_apply(NULL, DATE '{fx.DAY}')")
        self.compare(self.scored(), 'a full rescore')
        self.assertEqual(self.db.query(fx.FULL_SQL), self.full, 'the households shown in full')
        # The same day again: nothing changed, nothing written.
        history = self.db.value('SELECT count(*) FROM bokvar.score_history')
        self.assertEqual(self.db.value(f"SELECT bokvar.score_apply(NULL, DATE '{fx.DAY}')"), '0')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.score_history'), history)
        self.compare(self.scored(), 'a second full rescore')

    def test_households_in_batches(self):
        # As ingests score the households they touched: batches, some twice.
        for first, last in ((1, 2600), (2400, 5000), (5001, 7500), (7400, 10000)):
            self.db.query(f"SELECT bokvar.score_apply(ARRAY(SELECT generate_series({first}, {last})::bigint), "
                          f"DATE '{fx.DAY}')")
        # Tasks are assigned by each caseworker's load as the batches find
        # it, so only the scores must be the full rescore's.
        self.compare(self.scored(), 'households scored in batches', tasks=False)
        self.assertEqual(self.db.value(f"SELECT bokvar.score_apply(NULL, DATE '{fx.DAY}')"), '0',
                         'a full rescore after the batches finds nothing changed')


if __name__ == '__main__':
    main()
