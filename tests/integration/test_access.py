#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""People and the law, end to end with the real binaries: two bokvar
databases on one cluster whose logins never reach each other; bokvarctl
run by two different OS users (peer authentication) acting as two actors,
whatever the command line says; one access-log row for every read of a
household through every path; and the purge on a fixture dated relative
to today: the dry run predicts it, nothing of the purged people is left in
any table, the yearly report does not change, a second purge deletes
nothing, and a purge killed with SIGKILL leaves everything as it was."""

import datetime
import json
import os
import re
import shutil
import signal
import subprocess
import time
import uuid

from harness import BOKVARCTL, PASSWORD, SLOW, SOURCE_ROOT, Database, TestCase, ctl, ctl_json, main, psql
import identity

TODAY = datetime.date.today()


def ago(days):
    return TODAY - datetime.timedelta(days=days)


def teams(*caseworkers):
    """One team, the default, with these caseworkers."""
    return f'teams:\n  - name: norr\n    default: true\n    caseworkers: [{", ".join(caseworkers)}]\n'


class TwoDatabases(TestCase):
    """Roles reach one database only."""

    def test_no_login_of_one_reaches_the_other(self):
        other = Database()
        try:
            mine = self.db.login('acc_mine_' + self.db.name[-6:], 'caseworker')
            theirs = other.login('acc_theirs_' + other.name[-6:], 'case_system')
            self.assertEqual(self.db.group('caseworker'), f'{self.db.name}_bokvar_caseworker')
            self.assertNotEqual(self.db.group('case_system'), other.group('case_system'))
            # Each reaches its own database ...
            self.assertEqual(ctl('whoami', env=self.db.as_login(mine)).returncode, 0)
            p = psql_as(theirs, other.name, 'SELECT count(*) FROM bokvar.worklist')
            self.assertEqual(p.returncode, 0, p.stderr)
            # ... and neither the other: not to connect, let alone to read.
            for login, db in ((mine, other), (theirs, self.db), (self.db.owner, other), (other.owner, self.db)):
                p = psql_as(login, db.name, 'SELECT 1', password=PASSWORD)
                self.assertNotEqual(p.returncode, 0, f'{login} reached {db.name}')
                self.assertIn('permission denied for database', p.stderr)
            p = ctl('tasks', env={**self.db.as_login(mine), 'PGDATABASE': other.name}, check=False)
            self.assertEqual(p.returncode, 3)
            # Schema 4's cluster-wide case-system role reaches neither.
            old = self.db.login('acc_old_cs_' + self.db.name[-6:])
            psql(f'GRANT bokvar_case_system TO {old}')
            for db in (self.db, other):
                p = psql_as(old, db.name, 'SELECT count(*) FROM bokvar.worklist')
                self.assertNotEqual(p.returncode, 0, f'bokvar_case_system reached {db.name}')
        finally:
            other.drop()


    def test_databases_migrate_at_once(self):
        # Roles belong to the cluster: four databases migrating at the same
        # moment each create their own six, and none fails on another's.
        dbs = [Database(migrate=False) for _ in range(4)]
        try:
            procs = [subprocess.Popen([BOKVARCTL, 'migrate'], env={**os.environ, **db.env}, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for db in dbs]
            for p in procs:
                out, err = p.communicate(timeout=120 * SLOW)
                self.assertEqual(p.returncode, 0, err)
            for db in dbs:
                self.assertEqual(db.value("SELECT count(*) FROM pg_roles WHERE rolname IN "
                                          "(SELECT role FROM bokvar.access_role)"), '6')
        finally:
            for db in dbs:
                db.drop()


def psql_as(login, db, sql, password=PASSWORD):
    env = {k: v for k, v in os.environ.items() if not k.startswith('PG')}
    env.update(PGHOST=os.environ.get('PGHOST', 'localhost'), PGPORT=os.environ.get('PGPORT', '5432'),
               PGUSER=login, PGPASSWORD=password, PGDATABASE=db)
    return subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql], capture_output=True, text=True,
                          env=env)


class OsUsers(TestCase):
    """bokvarctl as two people on the server: each is the actor of their own
    login, by peer authentication over the Unix socket."""

    def setUp(self):
        super().setUp()
        if os.geteuid() != 0:
            self.skipTest('creating OS users needs root (CI runs as root)')
        self.users = []
        self.socket = psql('SHOW unix_socket_directories')[0][0].split(',')[0].strip()

    def tearDown(self):
        for u in getattr(self, 'users', []):
            subprocess.run(['userdel', u], capture_output=True)
        super().tearDown()

    def os_user(self, letter):
        name = f'bkv{uuid.uuid4().hex[:8]}{letter}'
        subprocess.run(['useradd', '--system', '--no-create-home', '--shell', '/usr/sbin/nologin', name], check=True)
        self.users.append(name)
        self.db.login(name, 'caseworker', password=uuid.uuid4().hex)   # a password nobody knows: peer only
        return name

    def as_user(self, user, *args, env=None):
        """bokvarctl run by OS user user, the way a person runs it: no
        --config (bokvar.yaml is not theirs to read), the database by name."""
        e = {k: v for k, v in os.environ.items() if not k.startswith('PG')}
        e.update(PGHOST=self.socket, PGPORT=os.environ.get('PGPORT', '5432'), PGDATABASE=self.db.name)
        e.update(env or {})
        return subprocess.run(['runuser', '-u', user, '--', BOKVARCTL, *args], capture_output=True, text=True,
                              env=e, cwd='/')

    def test_two_people_two_actors(self):
        anna, bo = self.os_user('a'), self.os_user('b')
        cfg = self.config(teams(anna, bo))
        self.assertEqual(self.once(cfg)[0], 0)
        self.db.query("INSERT INTO bokvar.household (id, postal_code) VALUES (1, '60211');"
                      "INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, due) "
                      "VALUES (1, 'outreach', 'outreach', 'outreach', 60, 'norr', current_date + 7)")
        task = self.db.value('SELECT id FROM bokvar.task')
        for user in (anna, bo):
            p = self.as_user(user, '--json', 'whoami')
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)['actor'], user)
        p = self.as_user(anna, 'task', 'ack', task)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f'acknowledged by {anna}', p.stdout)
        p = self.as_user(bo, 'task', 'contact', task, '--channel', 'phone', '--reached', 'no')
        self.assertEqual(p.returncode, 0, p.stderr)
        # No flag, no variable makes one the other.
        self.assertEqual(self.as_user(bo, 'task', 'close', task, '--outcome', 'other', '--by', anna).returncode, 2)
        p = self.as_user(bo, 'task', 'close', task, '--outcome', 'other', env={'SUDO_USER': anna, 'USER': anna})
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(f'closed by {bo}', p.stdout)
        p = self.as_user(bo, 'whoami', env={'PGUSER': anna})
        self.assertEqual(p.returncode, 3, 'a person cannot log in as another')
        self.assertIn('Peer authentication failed', p.stderr)
        self.assertEqual(self.db.query('SELECT kind, by FROM bokvar.task_event ORDER BY id'),
                         [['acknowledged', anna], ['contacted', bo], ['closed', bo]])
        self.assertEqual(self.db.query("SELECT actor, detail ->> 'session_user' FROM bokvar.audit_log "
                                       "WHERE action LIKE 'task.%' ORDER BY id"),
                         [[anna, anna], [bo, bo], [bo, bo]])


class ReadPaths(TestCase):
    """Every read of a household's personal data, through every path, is one
    access-log row; reads of lists are none."""

    def test_every_read_path_logs_once(self):
        s = self.db.name[-6:]
        cw, coord, op, cs, aud = (f'acc_cw_{s}', f'acc_co_{s}', f'acc_op_{s}', f'acc_cs_{s}', f'acc_aud_{s}')
        cfg = self.config(teams(cw) + f'people:\n  coordinators: [{coord}]\n  operators: [{op}]\n  auditors: [{aud}]\n'
                          f'  case_systems:\n    - login: {cs}\n      teams: [norr]\n')
        self.assertEqual(ctl('check', config=cfg).returncode, 0)
        self.assertEqual(self.once(cfg)[0], 0)
        for login, function in ((cw, 'caseworker'), (coord, 'coordinator'), (op, 'operator'), (cs, 'case_system'),
                                (aud, 'auditor')):
            self.db.login(login, function)
        pnr = identity.person(1)
        self.db.query(f"""
            INSERT INTO bokvar.feed (name, source) VALUES ('f', 'landlord');
            INSERT INTO bokvar.fetch (feed, url, started_at) VALUES ('f', 'file:///f', now());
            INSERT INTO bokvar.household (id, postal_code) VALUES (1, '60211');
            INSERT INTO bokvar.household_person VALUES ('{pnr.replace('-', '')}', 1);
            INSERT INTO bokvar.signal (feed, external_id, source, kind, occurred_at, person_id, name, household_id, fetch_id)
            VALUES ('f', 'A', 'landlord', 'arrears', current_date, '{pnr.replace('-', '')}', 'Anna Läsbar', 1, 1);
            INSERT INTO bokvar.task (household_id, class, opened_class, top_class, score, team, assignee, due)
            VALUES (1, 'outreach', 'outreach', 'outreach', 60, 'norr', '{cw}', current_date + 7);
            INSERT INTO bokvar.quarantine (feed, fetch_id, raw, reason) VALUES ('f', 1, 'x;{pnr};Anna Läsbar', 'bad');""")
        task = self.db.value('SELECT id FROM bokvar.task')

        def read(what, *args, login, expect=None):
            before = int(self.db.value('SELECT count(*) FROM bokvar.access_log'))
            p = ctl(*args, env=self.db.as_login(login))
            rows = self.db.query(f'SELECT actor, path, household_id FROM bokvar.access_log ORDER BY id OFFSET {before}')
            self.assertEqual(rows, [expect] if expect else [], f'{what}: {rows}')
            return p

        # Lists: no personal data, no entry.
        read('tasks', 'tasks', login=cw)
        read('households', 'households', login=cw)
        read('quarantine', 'quarantine', login=op)
        # Reads of a household: one entry each.
        p = read('task show', 'task', 'show', task, login=cw, expect=[cw, 'task.show', '1'])
        self.assertIn('Anna Läsbar', p.stdout)
        self.assertNotIn(pnr, p.stdout, 'task show masks the identity number')
        read('task show --json', '--json', 'task', 'show', task, login=cw, expect=[cw, 'task.show', '1'])
        read('household show', 'household', 'show', '1', '--reason', 'a call', login=cw,
             expect=[cw, 'household.show', '1'])
        p = read('subject export', 'subject', 'export', pnr, login=coord, expect=[coord, 'subject.export', '1'])
        self.assertIn(pnr.replace('-', ''), p.stdout)
        read('subject export --json', '--json', 'subject', 'export', pnr, login=coord,
             expect=[coord, 'subject.export', '1'])
        p = read('quarantine --raw', 'quarantine', '--raw', login=op, expect=[op, 'quarantine.raw', ''])
        self.assertIn(pnr, p.stdout)
        self.assertNotIn(pnr, ctl('quarantine', env=self.db.as_login(op)).stdout, 'the quarantine is masked')
        before = int(self.db.value('SELECT count(*) FROM bokvar.access_log'))
        p = psql_as(cs, self.db.name, f'SELECT person_id, name FROM bokvar.case_system_read({task})')
        self.assertEqual(p.stdout.strip(), f"{pnr.replace('-', '')}|Anna Läsbar", p.stderr)
        self.assertEqual(self.db.query(f'SELECT actor, path FROM bokvar.access_log ORDER BY id OFFSET {before}'),
                         [[cs, 'case_system.read']], 'the case system\'s read')
        # A read refused writes nothing; an invalid or unknown number is
        # exit 5 and never echoed.
        before = int(self.db.value('SELECT count(*) FROM bokvar.access_log'))
        for number in ('19600207-1015', identity.person(9), '12'):
            p = ctl('subject', 'export', number, env=self.db.as_login(coord), check=False)
            self.assertEqual(p.returncode, 5, p.stderr)
            self.assertNotIn(number, p.stderr + p.stdout)
            self.assertNotIn(number.replace('-', ''), p.stderr + p.stdout)
        p = ctl('subject', 'export', '-', env=self.db.as_login(coord), input=pnr + '\n')
        self.assertIn('Anna Läsbar', p.stdout, 'the number on standard input')
        self.assertEqual(ctl('household', 'show', '1', env=self.db.as_login(op), check=False).returncode, 1)
        self.assertEqual(int(self.db.value('SELECT count(*) FROM bokvar.access_log')), before + 1)
        # The auditor's command.
        log = ctl_json('access-log', '--household', '1', env=self.db.as_login(aud))
        self.assertEqual([(x['actor'], x['path']) for x in log],
                         [(cw, 'task.show'), (cw, 'task.show'), (cw, 'household.show'), (coord, 'subject.export'),
                          (coord, 'subject.export'), (cs, 'case_system.read'), (coord, 'subject.export')])
        unusual = ctl_json('access-log', '--unusual', env=self.db.as_login(aud))
        self.assertEqual({(x['actor'], x['path']) for x in unusual}, {(coord, 'subject.export')})
        self.assertEqual(ctl('access-log', env=self.db.as_login(cw), check=False).returncode, 1)


class Operators(TestCase):
    """An operator's jobs see every household where they must
    (the retry's ingest, the rules preview), and is recorded as theirs."""

    FEED = ('feeds:\n  - name: f\n    source: landlord\n    url: file:feed.csv\n    format: csv\n'
            '    csv: {{ delimiter: ";" }}\n    map:\n      external_id: id\n'
            '      kind: {{ from: kind, values: {{ {values} }} }}\n'
            '      occurred_at: date\n      person_id: pnr\n      name: name\n      address: street\n'
            '      postal_code: zip\n')

    def test_retry_and_rules_preview(self):
        op = f'acc_op_{self.db.name[-6:]}'
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        self.write('feed.csv', 'id;kind;date;pnr;name;street;zip\n'
                   f'A1;Avhysning;{ago(2)};{identity.person(1)};Olle Operatörsfri;Gatan 1;60211\n'
                   f'A2;arrears;{ago(2)};{identity.person(2)};Berit Betald;Gatan 2;60211\n')
        people = f'rules: rules.yaml\npeople:\n  operators: [{op}]\n'
        cfg = self.config(people + self.FEED.format(values='x: arrears'))
        self.assertEqual(self.once(cfg)[0], 0)
        self.db.login(op, 'operator')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.quarantine'), '1')
        # The operator's own configuration: the same file, no user in it.
        opcfg = self.write('operator.yaml', f'database: "dbname={self.db.name}"\n' + people
                           + self.FEED.format(values='Avhysning: eviction_application'))
        env = self.db.as_login(op)
        listing = ctl('quarantine', config=opcfg, env=env).stdout
        self.assertIn(identity.person(1)[:8] + '-****', listing, 'the quarantine, masked')
        self.assertNotIn('Olle', listing)
        retried = ctl_json('quarantine', 'retry', config=opcfg, env=env)
        self.assertEqual([(r['feed'], r['retried'], r['accepted']) for r in retried], [('f', 1, 1)])
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.signal'), '2', 'the retried row is ingested')
        self.assertEqual(self.db.value('SELECT count(DISTINCT household_id) FROM bokvar.signal'), '2')
        self.assertEqual(self.db.query("SELECT actor FROM bokvar.audit_log WHERE action = 'quarantine.retry'"), [[op]])
        # A rules preview over every household, by the operator: the
        # loaded rules are the same, a changed copy would move households.
        rules = os.path.join(self.dir, 'rules.yaml')
        self.assertTrue(ctl_json('rules', 'diff', rules, config=opcfg, env=env)['same_as_active'])
        with open(os.path.join(self.dir, 'rules.yaml')) as f:
            self.write('half.yaml', f.read().replace('    points: 50\n', '    points: 5\n'))
        diff = ctl_json('rules', 'diff', os.path.join(self.dir, 'half.yaml'), config=opcfg, env=env)
        self.assertEqual(diff['totals']['households'], 2, 'the preview sees every household')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.ruleset'), '1', 'and loads nothing')
        p = ctl('rules', 'diff', rules, config=opcfg, env=self.db.as_login(self.db.login(
            f'acc_cw_{self.db.name[-6:]}', 'caseworker')), check=False)
        self.assertEqual(p.returncode, 1, 'a caseworker previews no rules')


# ---------------------------------------------------------------------------
# The purge.

# Who the fixture holds: (key, pnr index, name, street). P* are due for
# purging, K* are kept.
PEOPLE = {
    'P1': (11, 'Purge Ettan', 'Raderagatan 1'),     # household without a task, last signal 8 months ago
    'P3': (13, 'Purge Trean', 'Raderagatan 3'),     # task closed 20 months ago, last signal 22 months ago
    'P4': (14, 'Purge Fyran', 'Raderagatan 3'),     # ... and their co-tenant
    'K2': (12, 'Kvar Tvaan', 'Stannagatan 2'),      # without a task, last signal 2 months ago
    'K5': (15, 'Kvar Femman', 'Stannagatan 5'),     # task closed 10 months ago
    'K6': (16, 'Kvar Sexan', 'Stannagatan 6'),      # task open, last signal 3 years ago
    'K7': (17, 'Kvar Sjuan', 'Stannagatan 7'),      # last signal 7 months ago, a deadline still ahead
    'Q1': (18, 'Purge Atta', 'Raderagatan 8'),      # only in a row quarantined 40 days ago
    'Q2': (19, 'Kvar Nian', 'Stannagatan 9'),       # only in a row quarantined 5 days ago
}


def pnr_of(key):
    return identity.person(PEOPLE[key][0])


def fixture(db):
    """The households, signals, versions, scores, tasks, events, contacts,
    outbox rows, quarantined rows and log entries of PEOPLE, dated relative
    to today."""
    def lit(v):
        return f"'{v}'" if v is not None else 'NULL'

    def sig(n, key, hh, occurred, deadline=None, kind='arrears'):
        i, name, street = PEOPLE[key]
        pid = pnr_of(key).replace('-', '')
        return (f"({n}, 'f', 'S{n}', 'landlord', '{kind}', '{occurred}', {lit(deadline)}, '{pid}', '{name}', "
                f"'{street}', '60211', {hh}, 1)")

    def task(n, hh, created, closed=None, outcome='kept_home'):
        status = 'closed' if closed else 'open'
        return (f"({n}, {hh}, '{status}', 'outreach', 'outreach', 'outreach', 60, 'norr', 'anna', '{created}', "
                f"'{created}', {lit(closed)}, {lit(outcome if closed else None)}, '{created}'::date + 7)")

    signals = [sig(1, 'P1', 1, ago(240)), sig(2, 'P1', 1, ago(250)), sig(3, 'K2', 2, ago(60)),
               sig(4, 'P3', 3, ago(670), kind='termination_notice'), sig(5, 'P4', 3, ago(665)),
               sig(6, 'K5', 4, ago(330)), sig(7, 'K6', 5, ago(1100)), sig(8, 'K7', 6, ago(210), ago(-10))]
    tasks = [task(1, 3, ago(660), ago(610)), task(2, 4, ago(320), ago(300), 'payment_plan'), task(3, 5, ago(1000))]
    q1 = f"x;{pnr_of('Q1')};{PEOPLE['Q1'][1]};{PEOPLE['Q1'][2]}"
    q2 = f"x;{pnr_of('Q2')};{PEOPLE['Q2'][1]};{PEOPLE['Q2'][2]}"
    db.query(f"""
        INSERT INTO bokvar.feed (name, source) VALUES ('f', 'landlord');
        INSERT INTO bokvar.fetch (id, feed, url, started_at) OVERRIDING SYSTEM VALUE VALUES (1, 'f', 'file:///f', now());
        INSERT INTO bokvar.household (id, postal_code, city, children, first_signal_at, last_signal_at) VALUES
            (1, '60211', 'Norrköping', 2, '{ago(250)}', '{ago(240)}'), (2, '60211', 'Norrköping', 0, '{ago(60)}', '{ago(60)}'),
            (3, '60211', 'Norrköping', 3, '{ago(670)}', '{ago(665)}'), (4, '60211', 'Norrköping', 1, '{ago(330)}', '{ago(330)}'),
            (5, '60211', 'Norrköping', 0, '{ago(1100)}', '{ago(1100)}'), (6, '60211', 'Norrköping', 0, '{ago(210)}', '{ago(210)}');
        INSERT INTO bokvar.household_person
        SELECT translate(p, '-', ''), h FROM (VALUES ('{pnr_of('P1')}', 1), ('{pnr_of('K2')}', 2), ('{pnr_of('P3')}', 3),
                                                     ('{pnr_of('P4')}', 3), ('{pnr_of('K5')}', 4), ('{pnr_of('K6')}', 5),
                                                     ('{pnr_of('K7')}', 6)) v(p, h);
        INSERT INTO bokvar.signal (id, feed, external_id, source, kind, occurred_at, deadline, person_id, name, address,
                                   postal_code, household_id, fetch_id) OVERRIDING SYSTEM VALUE VALUES {', '.join(signals)};
        UPDATE bokvar.signal SET amount = 1200 WHERE id IN (1, 4);   -- earlier versions, kept by the trigger
        INSERT INTO bokvar.score (household_id, score, class, ruleset_version, next_deadline, explanation, as_of)
        SELECT h, 30, 'watch', 1, CASE WHEN h = 6 THEN current_date + 10 END,
               jsonb_build_array(jsonb_build_object('rule', 'arrears', 'points', 30, 'signals', '[]'::jsonb)), current_date
        FROM generate_series(1, 6) h;
        INSERT INTO bokvar.score_history (household_id, scored_at, as_of, score, class, ruleset_version, explanation)
        SELECT household_id, now() - interval '600 days', current_date - 600, 60, 'outreach', 1, explanation FROM bokvar.score;
        INSERT INTO bokvar.task (id, household_id, status, class, opened_class, top_class, score, team, assignee, created_at,
                                 first_contact_at, closed_at, outcome, due) OVERRIDING SYSTEM VALUE VALUES {', '.join(tasks)};
        INSERT INTO bokvar.task_event (task_id, event_id, kind, at, by, detail)
        SELECT id, 'evt_' || id || k, k, created_at, 'anna', '{{}}' FROM bokvar.task, unnest(ARRAY['created', 'closed']) k;
        INSERT INTO bokvar.contact (task_id, at, by, channel, reached, note) VALUES
            (1, '{ago(650)}', 'anna', 'phone', true, 'Spoke with {PEOPLE['P3'][1]} at {PEOPLE['P3'][2]}'),
            (2, '{ago(310)}', 'anna', 'phone', true, 'Spoke with {PEOPLE['K5'][1]}');
        INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload, status)
        SELECT 'evt_' || id || 'created', id, 'created', 'hook', jsonb_build_object('type', 'task.created', 'data',
               jsonb_build_object('task_id', id)), 'delivered' FROM bokvar.task;
        INSERT INTO bokvar.quarantine (feed, fetch_id, raw, reason, last_seen_at) VALUES
            ('f', 1, '{q1}', 'person_id: wrong', now() - interval '40 days'),
            ('f', 1, '{q2}', 'person_id: wrong', now() - interval '5 days');
        INSERT INTO bokvar.access_log (at, actor, household_id, path, reason) VALUES
            (now() - interval '3 years', 'anna', 1, 'household.show', NULL),
            (now() - interval '30 days', 'anna', 3, 'household.show', 'a call about {PEOPLE['P3'][1]}'),
            (now() - interval '30 days', 'anna', 4, 'household.show', 'a call about {PEOPLE['K5'][1]}');
        INSERT INTO bokvar.audit_log (at, actor, action, subject) VALUES (now() - interval '3 years', 'anna', 'task.ack', '1');
        ANALYZE;""")


def table_texts(db):
    """Every row of every table of schema bokvar, as text, and the
    statistics PostgreSQL keeps of their columns."""
    out = {}
    for (t,) in db.query("SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                         "WHERE n.nspname = 'bokvar' AND c.relkind = 'r' ORDER BY 1"):
        out[t] = '\n'.join(r[0] for r in db.query(f'SELECT x::text FROM bokvar.{t} x'))
    out['pg_stats'] = '\n'.join(r[0] for r in db.query("SELECT s::text FROM pg_stats s WHERE schemaname = 'bokvar'"))
    return out


def holding(texts, word):
    """The tables whose text holds word. A word of digits only counts
    where it is a whole number: a postal code such as 11122 also occurs
    inside a timestamp's microseconds (.111226)."""
    if word.isdigit():
        pattern = re.compile(rf'(?<![0-9]){word}(?![0-9])')
        return [t for t, text in texts.items() if pattern.search(text)]
    return [t for t, text in texts.items() if word in text]


def row_counts(db):
    return {t: int(db.value(f'SELECT count(*) FROM bokvar.{t}'))
            for t in ('household', 'household_person', 'signal', 'signal_version', 'score', 'score_history', 'task',
                      'task_event', 'contact', 'outbox', 'quarantine', 'access_log', 'audit_log')}


def traces(texts, key):
    """Where anything of person key (number, name, street) is found."""
    i, name, street = PEOPLE[key]
    words = (pnr_of(key), pnr_of(key).replace('-', ''), name, street)
    return sorted({t for t, text in texts.items() for w in words if w in text})


class Purge(TestCase):

    def setUp(self):
        super().setUp()
        s = self.db.name[-6:]
        self.op = f'acc_op_{s}'
        self.cfg = self.config(teams('anna') + f'people:\n  operators: [{self.op}]\n'
                               'retention:\n  signals_without_task: 6mo\n  households_with_tasks: 18mo\n'
                               '  quarantine: 30d\n  access_log: 2y\n  audit_log: 2y\n')
        # The retention in the database, before the first purge: a run of
        # bokvard --once stores the configuration (its own daily purge
        # comes later, on an empty database).
        self.assertEqual(self.once(self.cfg)[0], 0)
        self.db.login(self.op, 'operator')
        fixture(self.db)
        self.years = sorted({ago(d).year for d in (240, 250, 670, 665, 660, 610, 650, 320, 300, 310, 1000, 1100)}
                            | {TODAY.year})

    def reports(self):
        return {y: (ctl_json('report', '--year', str(y), config=self.cfg),
                    ctl('report', '--year', str(y), '--csv', config=self.cfg).stdout) for y in self.years}

    def purge(self, *args):
        return ctl_json('purge', *args, env=self.db.as_login(self.op))

    def test_purge(self):
        reports = self.reports()
        before = row_counts(self.db)
        dry = self.purge('--dry-run')
        self.assertEqual(row_counts(self.db), before, 'a dry run deletes nothing')
        self.assertEqual((dry['households_without_task'], dry['households_with_tasks'], dry['quarantine'],
                          dry['access_log'], dry['audit_log']), (1, 1, 1, 1, 1), dry)
        done = self.purge()
        after = row_counts(self.db)
        self.assertEqual({k: v for k, v in dry.items() if k != 'dry_run'},
                         {k: v for k, v in done.items() if k != 'dry_run'}, 'the dry run predicted the purge')
        # (the audit log gained the purge's own record)
        lost = {t: before[t] - after[t] + (t == 'audit_log') for t in before}
        self.assertEqual({t: n for t, n in lost.items() if n}, {t: done[t] for t in before if done[t]},
                         'each table lost what the purge counted')
        self.assertEqual(done['household'], 2)
        self.assertEqual(done['access_log_reasons_cleared'], 1)

        # Nothing of the purged people anywhere; the others all there.
        texts = table_texts(self.db)
        for key in ('P1', 'P3', 'P4', 'Q1'):
            self.assertEqual(traces(texts, key), [], f'{key} is gone from every table')
        for key in ('K2', 'K5', 'K6', 'K7', 'Q2'):
            self.assertNotEqual(traces(texts, key), [], f'{key} is kept')
        self.assertEqual(self.db.query("SELECT actor, action, detail ->> 'household' FROM bokvar.audit_log "
                                       "WHERE action = 'purge' ORDER BY id"),
                         [[self.db.owner, 'purge', '0'], [self.op, 'purge', '2']],
                         'a record of each purge, counts only: bokvard\'s daily one (of an empty database) and this')
        self.assertEqual(self.reports(), reports, 'the yearly reports are unchanged')
        again = self.purge()
        self.assertEqual({k: v for k, v in again.items() if v and k != 'dry_run'}, {}, 'a second purge deletes nothing')
        self.assertEqual(self.reports(), reports, '... and changes no report')

    def test_kill_nine_during_the_purge(self):
        reports = self.reports()
        before = row_counts(self.db)
        texts = table_texts(self.db)
        dry = self.purge('--dry-run')
        # The purge stops in the middle, after it deleted the outbox rows,
        # contacts and events of the tasks it purges and kept their figures.
        self.db.query("CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$BEGIN PERFORM pg_sleep(60); RETURN NULL; END$$; "
                      "CREATE TRIGGER slow BEFORE DELETE ON bokvar.task FOR EACH STATEMENT EXECUTE FUNCTION public.slow()")
        env = {**os.environ, **self.db.as_login(self.op)}
        p = subprocess.Popen([BOKVARCTL, 'purge'], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30 * SLOW
        while self.db.value("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep' "
                            f"AND datname = '{self.db.name}'") != '1':
            self.assertLess(time.monotonic(), deadline, 'the purge did not reach the slow delete')
            time.sleep(0.1)
        p.send_signal(signal.SIGKILL)
        p.wait()
        # The server notices the client is gone (bokvarctl asks it to check
        # every 2 s) and rolls the purge back.
        while self.db.value(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.db.name}' "
                            "AND application_name = 'bokvarctl'") != '0':
            self.assertLess(time.monotonic(), deadline + 30 * SLOW, 'the purge went on without its client')
            time.sleep(0.1)
        self.assertEqual(row_counts(self.db), before, 'killed mid-way: nothing was deleted')
        self.assertEqual(table_texts(self.db), texts, '... nothing changed')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.report_purged'), '0', '... no figures kept')
        self.db.query('DROP TRIGGER slow ON bokvar.task; DROP FUNCTION public.slow()')
        done = self.purge()
        self.assertEqual({k: v for k, v in dry.items() if k != 'dry_run'},
                         {k: v for k, v in done.items() if k != 'dry_run'}, 'run again: the purge the dry run predicted')
        self.assertEqual(self.reports(), reports, 'and the reports are what they were')


if __name__ == '__main__':
    main()
