# SPDX-License-Identifier: GPL-3.0-or-later
"""A randomised but fixed scoring fixture: 10,000 households with 1 to 8
signals each, over every kind and source, dated around a fixed day, with
deadlines ahead and behind, amounts, months in arrears and children; and a
ruleset that uses every condition and every kind of increment. The same
seed always gives the same rows (Python's random.Random is stable across
versions for randrange and random).

    python3 scoring_fixture.py          # writes the golden file with the scoring of this build
                                        # (tests/fixtures/scoring-golden.txt), from a database in
                                        # the cluster of the environment

test_scoring_golden.py loads the same fixture and compares the scores of
the build under test with the golden file, household by household."""

import datetime
import json
import os
import random

DAY = datetime.date(2026, 6, 15)      # the day every score is computed for
HOUSEHOLDS = 10000
SEED = 16

KINDS = ['arrears', 'termination_notice', 'disturbance', 'sanitary', 'payment_order', 'eviction_application',
         'eviction_scheduled', 'eviction_executed', 'eviction_cancelled', 'utility_disconnection', 'resolved']
SOURCE = {'payment_order': 'enforcement', 'eviction_application': 'enforcement', 'eviction_scheduled': 'enforcement',
          'eviction_executed': 'enforcement', 'eviction_cancelled': 'enforcement',
          'utility_disconnection': 'utility'}

# config/rules.yaml's rules, and more: every condition, every increment.
RULES = {
    'window_days': 365,
    'thresholds': {'watch': 20, 'outreach': 50, 'urgent': 90},
    'rules': [
        {'name': 'termination-notice', 'description': 'Lease terminated for unpaid rent',
         'when': {'kind': ['termination_notice'], 'within_days': 60}, 'points': 50},
        {'name': 'eviction-scheduled-soon', 'description': 'Eviction date within two weeks',
         'when': {'kind': ['eviction_scheduled'], 'deadline_within_days': 14}, 'points': 80},
        {'name': 'eviction-scheduled', 'description': 'Eviction date set',
         'when': {'kind': ['eviction_scheduled'], 'deadline_passed': False}, 'points': 40},
        {'name': 'eviction-application', 'description': 'Applied for eviction',
         'when': {'kind': ['eviction_application', 'payment_order'], 'within_days': 90}, 'points': 45},
        {'name': 'repeated-arrears', 'description': 'Reminders three times in half a year',
         'when': {'kind': ['arrears'], 'count_at_least': 3, 'within_days': 180}, 'points': 30,
         'per': {'unit': 'signal', 'step': 1, 'points': 4, 'max': 12}},
        {'name': 'arrears', 'description': 'A recent reminder',
         'when': {'kind': ['arrears'], 'within_days': 60}, 'points': 10},
        {'name': 'large-debt', 'description': 'A debt of 20 000 or more',
         'when': {'kind': ['arrears', 'termination_notice'], 'amount_at_least': 20000}, 'points': 10,
         'per': {'unit': 'amount', 'step': 10000, 'points': 5, 'max': 25}},
        {'name': 'disconnection-notice', 'description': 'Electricity to be cut off',
         'when': {'kind': ['utility_disconnection'], 'within_days': 45, 'source': ['utility']}, 'points': 25},
        {'name': 'children', 'description': 'Children live in the home',
         'when': {'children_at_least': 1}, 'points': 20, 'per': {'unit': 'child', 'step': 1, 'points': 5, 'max': 20}},
        {'name': 'paid', 'description': 'Paid or withdrawn',
         'when': {'kind': ['resolved', 'eviction_cancelled'], 'within_days': 30}, 'points': -40},
        {'name': 'months-behind', 'description': 'Many months behind',
         'when': {'months_at_least': 3, 'source': ['landlord']}, 'points': 15,
         'per': {'unit': 'month', 'step': 2, 'points': 3, 'max': 9}},
        {'name': 'deadline-passed', 'description': 'A deadline went by',
         'when': {'deadline_passed': True, 'within_days': 120}, 'points': 12},
        {'name': 'families-evicted', 'description': 'Children and an executed eviction',
         'when': {'kind': ['eviction_executed'], 'children_at_least': 2}, 'points': 60},
        {'name': 'disturbance', 'description': 'Disturbances, fewer points the more',
         'when': {'kind': ['disturbance', 'sanitary'], 'count_at_least': 2}, 'points': 8,
         'per': {'unit': 'signal', 'step': 1, 'points': -2, 'max': -6}},
        {'name': 'any-enforcement', 'description': 'Anything from the enforcement agency',
         'when': {'source': ['enforcement'], 'within_days': 365}, 'points': 5},
    ],
}


def generate(seed=SEED, households=HOUSEHOLDS):
    """(households, signals): rows as tuples for COPY."""
    rng = random.Random(seed)
    homes, signals = [], []
    sid = 0
    for h in range(1, households + 1):
        children = rng.choice([None, 0, 0, 1, 2, 3, 5])
        homes.append((h, children, '60%03d' % rng.randrange(1000), rng.choice(['Norrköping', 'Uppsala'])))
        for _ in range(rng.randint(1, 8)):
            sid += 1
            kind = rng.choice(KINDS)
            occurred = DAY - datetime.timedelta(days=rng.randint(-5, 420))
            deadline = None
            if kind in ('termination_notice', 'utility_disconnection'):
                deadline = occurred + datetime.timedelta(days=21)
            elif kind == 'eviction_scheduled':
                deadline = DAY + datetime.timedelta(days=rng.randint(-30, 40))
            elif rng.random() < 0.1:
                deadline = DAY + datetime.timedelta(days=rng.randint(-60, 60))
            amount = None if rng.random() < 0.3 else '%d.%02d' % (rng.randint(0, 90000), rng.randint(0, 99))
            months = None if rng.random() < 0.4 else rng.randint(0, 12)
            signals.append((sid, f'G{sid}', SOURCE.get(kind, 'landlord'), kind, occurred.isoformat(),
                            deadline.isoformat() if deadline else None, amount, months, h))
    return homes, signals


def copy_text(rows):
    return ''.join('\t'.join('\\N' if v is None else str(v) for v in r) + '\n' for r in rows)


def load_sql():
    """SQL (for psql) that loads the fixture into a migrated database and
    makes the ruleset active; psql reads the rows from standard input in
    two COPY blocks."""
    homes, signals = generate()
    return ("COPY bokvar.household (id, children, postal_code, city) FROM STDIN;\n" + copy_text(homes) + "\\.\n"
            "COPY bokvar.signal (id, external_id, source, kind, occurred_at, deadline, amount, months_in_arrears, "
            "household_id, feed, fetch_id) FROM STDIN;\n"
            + copy_text([s + ('golden', 1) for s in signals]) + "\\.\n"
            "SELECT setval(pg_get_serial_sequence('bokvar.household', 'id'), %d);\n" % HOUSEHOLDS
            + "SELECT version FROM bokvar.ruleset_load($j$%s$j$::jsonb, 'golden fixture', 'fixture', 'test');\n"
            % json.dumps(RULES)
            + "SELECT bokvar.config_sync($j$%s$j$::jsonb);\n" % json.dumps(CONFIG)
            # The households' routing words, as an ingest makes them since
            # migration 007 (before it, routing made them).
            + "DO $$ BEGIN IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'bokvar.household'::regclass "
              "AND attname = 'city_key') THEN EXECUTE 'UPDATE bokvar.household SET city_key = upper(city)'; "
              "END IF; END $$;\n"
            + "ANALYZE bokvar.signal, bokvar.household;\n")


# Teams to route the tasks the scores open to, and caseworkers to assign
# them to; a channel, so that every event writes its outbox row.
CONFIG = {
    # With the routing words bokvard sends since migration 007 (the teams'
    # postal codes, cities and landlords normalised, basic/word.c).
    'teams': [{'name': 'south', 'postal_codes': ['600', '6010'], 'cities': [], 'landlords': [], 'default': False,
               'caseworkers': ['s1', 's2', 's3'], 'postal_keys': ['600', '6010'], 'city_keys': [],
               'landlord_keys': []},
              {'name': 'north', 'postal_codes': [], 'cities': ['uppsala'], 'landlords': [], 'default': False,
               'caseworkers': ['n1'], 'postal_keys': [], 'city_keys': ['UPPSALA'], 'landlord_keys': []},
              {'name': 'central', 'postal_codes': [], 'cities': [], 'landlords': [], 'default': True,
               'caseworkers': ['c1', 'c2'], 'postal_keys': [], 'city_keys': [], 'landlord_keys': []}],
    'channels': [{'name': 'hook', 'type': 'webhook'}],
    'tasks': {},
}


# What is compared: a digest of each household's score (score, class, next
# deadline, fingerprint, explanation), and a few households in full.
DIGEST_SQL = '''SELECT household_id, left(md5(score || '|' || class || '|' || coalesce(next_deadline::text, '') || '|'
                || coalesce(fingerprint::text, '') || '|' || explanation::text), 8)
                FROM bokvar.score ORDER BY household_id'''
FULL = [1, 2, 17, 256, 4096, 9999]
# The tasks the scores opened: where each went, to whom, when it is due,
# and its events.
TASKS_SQL = '''SELECT t.household_id, left(md5(t.status || '|' || t.class || '|' || t.opened_class || '|' || t.top_class
                || '|' || t.score || '|' || t.team || '|' || coalesce(t.assignee, '') || '|'
                || coalesce(t.deadline::text, '') || '|' || coalesce(t.legal_deadline::text, '') || '|' || t.due || '|'
                || (SELECT string_agg(e.kind || ':' || coalesce(e.class::text, ''), ',' ORDER BY e.id)
                    FROM bokvar.task_event e WHERE e.task_id = t.id) || '|'
                || (SELECT count(*) FROM bokvar.outbox o WHERE o.task_id = t.id) || '|'
                || coalesce(t.household_children::text, 'unknown') || '|' || coalesce(t.eviction_until::text, '') || '|'
                || coalesce((SELECT string_agg(o.kind || ':' || o.channel || ':'
                                               || ((o.payload -> 'data') - 'task_id')::text, ',' ORDER BY o.id)
                             FROM bokvar.outbox o WHERE o.task_id = t.id), '')), 8)
                FROM bokvar.task t ORDER BY t.household_id'''
FULL_SQL = '''SELECT household_id, score, class, next_deadline, fingerprint, explanation::text FROM bokvar.score
              WHERE household_id IN (%s) ORDER BY household_id''' % ', '.join(map(str, FULL))

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'fixtures', 'scoring-golden.txt')


def golden_lines(digests, tasks):
    """One line per household scored: its id, the first 8 hex digits of
    md5(score|class|next deadline|fingerprint|explanation), and those of
    its task's (TASKS_SQL), or '-'."""
    task = dict(tasks)
    return ['%s %s %s' % (h, d, task.get(h, '-')) for h, d in digests]


def golden_text(digests, full, tasks):
    lines = ['# bokvar scoring, golden: the fixture of tests/integration/scoring_fixture.py scored at %s' % DAY,
             '# by main\'s SQL scoring, casework included (migrations 003-008; written by: python3',
             '# scoring_fixture.py with BUILD_ROOT a build of main). Per household scored:',
             '# id, md5(score|class|next deadline|fingerprint|explanation) and its task\'s (TASKS_SQL), 8 hex',
             '# digits each; then a few households in full.']
    lines += golden_lines(digests, tasks)
    lines += ['full ' + '\t'.join(r) for r in full]
    return '\n'.join(lines) + '\n'


if __name__ == '__main__':
    import subprocess
    import sys
    import uuid
    build = os.environ.get('BUILD_ROOT', os.path.join(os.path.dirname(__file__), '..', '..', 'build', 'release'))
    db = 'golden_' + uuid.uuid4().hex[:8]
    subprocess.run(['psql', '-XAtq', '-d', 'postgres', '-c', f'CREATE DATABASE {db}'], check=True)
    try:
        subprocess.run([os.path.join(build, 'src', 'bokvarctl'), 'migrate'], env={**os.environ, 'PGDATABASE': db},
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', db], input=load_sql(), text=True, check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c',
                        f"SELECT bokvar.score_apply(NULL, DATE '{DAY}')"], check=True, stdout=subprocess.DEVNULL)

        def q(sql):
            out = subprocess.run(['psql', '-XAtq', '-F', '\t', '-d', db, '-c', sql], check=True, capture_output=True,
                                 text=True).stdout
            return [line.split('\t') for line in out.splitlines()]
        with open(GOLDEN, 'w') as f:
            f.write(golden_text(q(DIGEST_SQL), q(FULL_SQL), q(TASKS_SQL)))
        print(f'wrote {GOLDEN}', file=sys.stderr)
    finally:
        subprocess.run(['psql', '-XAtq', '-d', 'postgres', '-c', f'DROP DATABASE {db} WITH (FORCE)'], check=True)
