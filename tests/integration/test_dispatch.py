#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""Outreach tasks leaving bokvard: signed webhooks to a real receiver and
e-mail to a real SMTP server over TLS, both on loopback. Every event
arrives, none is lost, and a duplicate always carries the event's id: with
the receiver down for a while, after kill -9 mid-dispatch, with two daemons
dispatching from one outbox. A refusal is a dead letter at once, not a
retry storm. And what caseworkers do with the tasks, through bokvarctl."""

import collections
import datetime
import email.policy
import json
import os
import re
import shutil
import signal
import time

from harness import SLOW, SOURCE_ROOT, TestCase, ctl, ctl_json, main
import identity
from hookserver import HookServer
from smtpserver import SmtpServer

HEADER = 'id;kind;date;pnr;name;street;zip;children;amount\n'


pnr = identity.person


def ago(days):
    return (datetime.date.today() - datetime.timedelta(days=days)).isoformat()


def row(i, kind='termination_notice', days=3, children='', amount=''):
    """A household (street i) with a person of its own; the fields a payload
    must never carry are distinctive: the name, the number, the street."""
    return (f'R{i}-{kind};{kind};{ago(days)};{pnr(i)};Namn Efternamn{i};Storgatan {i};'
            f'60{2 + i % 2}{i % 10}0;{children};{amount}\n')


FEED = '''rules: rules.yaml
language: en
feeds:
  - name: f
    source: landlord
    url: file:feed.csv
    interval: {interval}
    format: csv
    csv: {{ delimiter: ";" }}
    identity: [se]
    map:
      external_id: id
      kind: kind
      occurred_at: date
      person_id: pnr
      name: name
      address: street
      postal_code: zip
      children: children
      amount: amount
teams:
  - name: norr
    postal_codes: ["603"]
    email: norr@kommun.example
    caseworkers: [anna.k, erik.l]
    language: nb
  - name: central
    default: true
    email: central@kommun.example
tasks:
  max_attempts: {max_attempts}
dispatch:
  concurrency: {concurrency}
channels:
'''


def hook_channel(srv, name='hook', timeout='3s'):
    return f'''  - name: {name}
    type: webhook
    url: {srv.url('/bokvar')}
    secret_credential: {name}-secret
    timeout: {timeout}
'''


def smtp_channel(srv, name, auth=False):
    s = f'''  - name: {name}
    type: smtp
    url: {srv.url()}
    from: bokvar@kommun.example
    timeout: 5s
'''
    if srv.ca_file:
        s += f'    ca_file: {srv.ca_file}\n'
    if auth:
        s += f'    username_credential: {name}-user\n    password_credential: {name}-password\n'
    return s


class Dispatch(TestCase):

    def setUp(self):
        super().setUp()
        shutil.copy(os.path.join(SOURCE_ROOT, 'config', 'rules.yaml'), os.path.join(self.dir, 'rules.yaml'))
        self.servers = []
        self.env = {'CREDENTIALS_DIRECTORY': self.dir}

    def tearDown(self):
        super().tearDown()
        for s in self.servers:
            s.stop()

    def hook(self, name='hook', **kw):
        srv = HookServer(**kw)
        self.servers.append(srv)
        self.write(f'{name}-secret', srv.secret + '\n')
        return srv

    def setup(self, rows, channels, interval='1h', max_attempts=10, concurrency=8):
        self.write('feed.csv', HEADER + ''.join(rows))
        return self.config(FEED.format(interval=interval, max_attempts=max_attempts, concurrency=concurrency)
                           + channels)

    def events(self, channel=None):
        """The outbox: {event_id: (kind, task, status, attempts)}."""
        where = f"WHERE channel = '{channel}'" if channel else ''
        return {e: (k, int(t), s, int(a)) for e, k, t, s, a in self.db.query(
            f'SELECT event_id, kind, task_id, status, attempts FROM bokvar.outbox {where}')}

    def wait_delivered(self, n, timeout=60):
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            st = collections.Counter(s for _, _, s, _ in self.events().values())
            if st['delivered'] >= n and st['pending'] == 0:
                return
            time.sleep(0.2)
        self.fail(f'not every event was delivered: {self.db.query("SELECT status, count(*) FROM bokvar.outbox GROUP BY 1")}')

    def assert_every_event_arrived(self, srv, channel='hook'):
        """Every event in the outbox arrived, verified; duplicates carry the same id."""
        events = self.events(channel)
        accepted = srv.ids()
        self.assertEqual(set(accepted), set(events), 'the events accepted are exactly those in the outbox')
        for d in srv.deliveries:
            self.assertTrue(d.signature_ok, d)
            self.assertEqual(d.json['event_id'], d.id, 'the body names the same event as webhook-id')
            self.assertEqual(events[d.id][0], d.json['type'].removeprefix('task.'))
        return accepted

    def assert_no_personal_data(self, text, n):
        for i in range(n):
            self.assertNotIn(pnr(i), text)
            self.assertNotIn(pnr(i).replace('-', ''), text)
            self.assertNotIn(f'Efternamn{i};', text + ';')
            self.assertNotIn(f'Storgatan {i}\n', text + '\n')
        self.assertNotIn('Efternamn', text)
        self.assertNotIn('Storgatan', text)

    # ------------------------------------------------------------------

    def test_webhooks_and_mail_arrive_signed_over_tls(self):
        hook = self.hook()
        smtps = SmtpServer(tls='implicit', auth=('bokvar', 'hemligt lösen'))
        starttls = SmtpServer(tls='starttls')
        self.servers += [smtps, starttls]
        self.write('smtps-user', 'bokvar\n')
        self.write('smtps-password', 'hemligt lösen\n')
        n = 6
        rows = [row(i, children=str(i % 3) if i % 3 else '', amount='45000') for i in range(n)]
        cfg = self.setup(rows, hook_channel(hook) + smtp_channel(smtps, 'smtps', auth=True)
                         + smtp_channel(starttls, 'starttls'))
        status, out = self.once(cfg, env=self.env)
        self.assertEqual(status, 0, out)
        self.assertIn(f'Dispatch: {3 * n} delivered, 0 to retry later, 0 dead letters.', out)

        tasks = {int(t[0]): t for t in self.db.query(
            'SELECT id, team, class, score, due, deadline, household_id FROM bokvar.task')}
        self.assertEqual(len(tasks), n)
        # Webhooks: one per task, verified, with what a case system needs.
        accepted = self.assert_every_event_arrived(hook)
        self.assertEqual(len(accepted), n)
        for d in hook.deliveries:
            self.assertEqual(d.json['type'], 'task.created')
            data = d.json['data']
            t = tasks[data['task_id']]
            self.assertEqual((data['team'], data['class'], str(data['score']), data['due'], data['deadline']),
                             (t[1], t[2], t[3], t[4], t[5] or None))
            children = self.db.value(f'SELECT children FROM bokvar.household WHERE id = {t[6]}')
            self.assertEqual(data['children'], int(children) if children else None, 'null when nobody said')
            self.assertIn('termination-notice', data['rules'])
            self.assertEqual(d.headers.get('Content-Type'), 'application/json')
            # Only what a receiver needs: no libcurl Accept or Expect.
            self.assertEqual(sorted(k.lower() for k in d.headers.keys()),
                             ['content-length', 'content-type', 'host', 'user-agent', 'webhook-id',
                              'webhook-signature', 'webhook-timestamp'])
            self.assertEqual(d.path, '/bokvar')
        self.assert_no_personal_data(''.join(d.body_bytes.decode() for d in hook.deliveries), n)
        # Routing: postal codes 603.. go to norr, the rest to the default team.
        teams = collections.Counter(t[1] for t in tasks.values())
        self.assertEqual(teams, {'norr': n // 2, 'central': n - n // 2})

        # E-mail: one message per event to the team, over TLS (implicit and
        # STARTTLS), logged in where the channel has a login.
        for srv, login in ((smtps, 'bokvar'), (starttls, None)):
            msgs = srv.wait_for(n)
            self.assertEqual(len(msgs), n)
            ids = set()
            for m in msgs:
                self.assertTrue(m.tls)
                self.assertEqual(m.login, login)
                self.assertEqual(m.mail_from, 'bokvar@kommun.example')
                task = int(m.message['Subject'].split()[2])
                self.assertEqual(m.rcpt_tos, [f'{tasks[task][1]}@kommun.example'])
                self.assertEqual(m.message['To'].addresses[0].addr_spec, f'{tasks[task][1]}@kommun.example')
                mid = m.message['Message-ID']
                self.assertRegex(mid, r'^<evt_[0-9a-f]{32}@kommun\.example>$')
                ids.add(mid[1:].split('@')[0])
                body = m.message.get_content()
                self.assertIn(f'bokvarctl task show {task}', body)
                children = self.db.value('SELECT h.children FROM bokvar.household h JOIN bokvar.task t '
                                         f'ON t.household_id = h.id WHERE t.id = {task}')
                # Unknown children (the claim's NULL) in the mail's language, never 0.
                if tasks[task][1] == 'norr':
                    self.assertRegex(body, rf'\nBarn: +{children or "ukjent"}\n')
                else:
                    self.assertRegex(body, rf'\nChildren: +{children or "unknown"}\n')
                self.assert_no_personal_data(m.data.decode(), n)
                # In the team's language (norr's own, else the installation's):
                # the subject as RFC 2047 words where it is not ASCII.
                if tasks[task][1] == 'norr':
                    self.assertRegex(m.message['Subject'], rf'^bokvar: oppgave {task} åpnet \((Haster|Oppsøkende), '
                                                           r'team norr\)$')
                    self.assertIn('=?UTF-8?B?', m.data.decode())
                    self.assertIn('\nSkal være ferdig:    ', body)
                else:
                    self.assertRegex(m.message['Subject'], rf'^bokvar: task {task} opened \((Urgent|Outreach), '
                                                           r'team central\)$')
                    self.assertIn('\nDue:              ', body)
            # Message-ID is the event's id: the same events as the webhooks.
            self.assertEqual(ids, set(accepted))

    def test_mail_is_never_sent_in_the_clear(self):
        plain = SmtpServer(tls=None)
        self.servers.append(plain)
        cfg = self.setup([row(1)], smtp_channel(plain, 'plain'))
        status, out = self.once(cfg, env=self.env)
        self.assertNotEqual(status, 0, out)
        self.assertIn('Dispatch: 0 delivered, 1 to retry later, 0 dead letters.', out)
        self.assertEqual(plain.messages, [])
        (kind, _, st, attempts), = self.events().values()
        self.assertEqual((st, attempts), ('pending', 1))
        err = self.db.value('SELECT last_error FROM bokvar.outbox')
        self.assertIn('TLS', err.upper().replace('SSL', 'TLS'))

    def test_receiver_down_then_back(self):
        hook = self.hook()
        hook.down()
        n = 5
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook), interval='1s')
        d = self.daemon(cfg, env=self.env)
        d.wait_ready()
        # Every first attempt fails: refused connections are retried later.
        deadline = time.monotonic() + 30 * SLOW
        while time.monotonic() < deadline:
            if self.db.value("SELECT count(*) FROM bokvar.outbox WHERE attempts >= 2") == str(n):
                break
            time.sleep(0.2)
        else:
            self.fail(f'no retries: {self.db.query("SELECT * FROM bokvar.outbox")}\n{d.output()}')
        self.assertIn('Channel hook: delivery failed', d.output())
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.outbox WHERE status = 'pending' "
                                       "AND last_error LIKE '%onnect%'"), str(n))
        hook.up()
        self.wait_delivered(n, timeout=90)
        accepted = self.assert_every_event_arrived(hook)
        self.assertEqual(len(accepted), n)
        self.assertIn('Channel hook: delivering again.', d.output())
        # While running, a new household's task goes out without waiting
        # for a poll of the outbox: the ingest's commit wakes the dispatcher.
        with open(os.path.join(self.dir, 'feed.csv'), 'a') as f:
            f.write(row(n))
        hook.wait_for(n + 1, timeout=30)
        self.wait_delivered(n + 1)
        self.assertEqual(len(self.assert_every_event_arrived(hook)), n + 1)

    def test_delivery_resumes_soon_after_a_long_database_outage(self):
        # bokvard logs in as a role of its own (the database's owner, as on a
        # server), so that the test can keep it out of the database
        # (NOLOGIN, its sessions ended) while the cluster, shared with other
        # tests, keeps running.
        role = self.db.owner
        hook = self.hook()
        cfg = self.setup([row(1)], hook_channel(hook))
        d = self.daemon(cfg, env=self.env)
        d.wait_ready()
        hook.wait_for(1, timeout=30 * SLOW)

        # A long outage: the dispatcher's reconnect backoff grew past 10 s
        # (1, 2, 4, 8, 16 s) before it was capped.
        self.db.query(f'ALTER ROLE {role} NOLOGIN; '
                      f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        t_out = time.monotonic()
        # An event to deliver once the database is back.
        self.db.query("INSERT INTO bokvar.outbox (event_id, task_id, kind, channel, payload) "
                      "SELECT 'evt_outage', task_id, kind, channel, jsonb_set(payload, '{event_id}', '\"evt_outage\"') "
                      "FROM bokvar.outbox LIMIT 1")
        time.sleep(max(0.0, 16 - (time.monotonic() - t_out)))
        self.db.query(f'ALTER ROLE {role} LOGIN')
        t_back = time.monotonic()
        hook.wait_for(1, timeout=30 * SLOW, match=lambda dl: dl.id == 'evt_outage')
        self.assertLess(time.monotonic() - t_back, 10 * SLOW, d.output())
        # It kept trying, never more than 5 s apart.
        waits = [int(w) for w in re.findall(r'Dispatch: .* failed: .*; trying again in (\d+)s', d.output())]
        self.assertGreaterEqual(len(waits), 4, d.output())
        self.assertLessEqual(max(waits), 5, d.output())

    def test_kill9_mid_dispatch_loses_nothing(self):
        hook = self.hook()
        hook.delay(0.4)
        n = 24
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook, timeout='2s'), concurrency=4)
        first = self.daemon(cfg, env=self.env)
        first.wait_ready()
        hook.wait_for(6, timeout=60)
        first.kill9()
        arrived_before = len(hook.deliveries)
        self.assertLess(arrived_before, n, 'the kill came before the end')
        second = self.daemon(cfg, env=self.env)
        second.wait_ready()
        self.wait_delivered(n, timeout=120)
        accepted = self.assert_every_event_arrived(hook)
        self.assertEqual(len(accepted), n)
        # The sends in flight at the kill were sent again, with their ids.
        twice = [i for i, c in collections.Counter(d.id for d in hook.deliveries).items() if c > 1]
        self.assertGreater(len(twice), 0, 'some sends were in flight when the daemon was killed')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.task'), str(n))

    def test_sigterm_records_what_was_sent_and_gives_back_the_rest(self):
        hook = self.hook()
        hook.delay(0.3)
        n = 30
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook), concurrency=2)
        first = self.daemon(cfg, env=self.env)
        first.wait_ready()
        hook.wait_for(5, timeout=60)
        first.signal(signal.SIGTERM)
        self.assertEqual(first.wait(), 0, first.output())
        sent = len(hook.deliveries)
        self.assertLess(sent, n, 'stopped before the end')
        # Every send that reached the receiver is recorded as delivered;
        # nothing is left claimed: rows claimed ahead were given back.
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.outbox WHERE status = 'delivered'"), str(sent))
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.outbox WHERE status = 'pending' "
                                       "AND claimed_until > now()"), '0')
        self.assertEqual(self.db.value("SELECT count(*) FROM bokvar.outbox WHERE status = 'pending' "
                                       "AND attempts > 0"), '0', 'a row given back does not count an attempt')
        # So a restart sends the rest at once, and nothing twice.
        second = self.daemon(cfg, env=self.env)
        second.wait_ready()
        self.wait_delivered(n, timeout=60)
        self.assertEqual(len(self.assert_every_event_arrived(hook)), n)
        self.assertEqual(len(hook.deliveries), n, 'no event was sent twice')

    def test_rows_that_waited_too_long_are_given_back_not_sent(self):
        # Twelve rounds of sends are held; a lease covers four rounds of the
        # slowest sends and 10 s: here 4 x 3 s + 10 s = 22 s. A row starts
        # only while its send would end within it (a timeout and 5 s to
        # spare: 14 s after the claim). Behind sends this slow (1.5 s, one
        # at a time) the last rows held would start later, and go out while
        # another daemon may hold them: they are given back and claimed
        # again instead.
        hook = self.hook()
        hook.delay(1.5)
        n, latest = 12, 22 - 3 - 5
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook, timeout='3s'), concurrency=1)
        d = self.daemon(cfg, env=self.env)
        d.wait_ready()
        self.wait_delivered(n, timeout=120)
        accepted = self.assert_every_event_arrived(hook)
        self.assertEqual(len(hook.deliveries), n, 'no event was sent twice')
        self.assertEqual(max(accepted.values()), 1)
        # Each send started in time under the claim it went out under
        # (last_attempt_at: a row given back does not count an attempt).
        claimed = {e: float(t) for e, t in self.db.query(
            'SELECT event_id, extract(epoch FROM last_attempt_at) FROM bokvar.outbox WHERE attempts = 1')}
        self.assertEqual(len(claimed), n, 'one attempt each')
        late = {dl.id: round(dl.arrived - claimed[dl.id], 1) for dl in hook.deliveries
                if dl.arrived - claimed[dl.id] > latest + 0.75}
        self.assertEqual(late, {}, 'started too late in its lease')
        # Some were claimed again, after the first claim: given back.
        first = min(claimed.values())
        self.assertGreater(len([t for t in claimed.values() if t > first + 5]), 0, d.output())

    def test_two_daemons_share_one_outbox(self):
        hook = self.hook()
        hook.delay(0.05)
        # More rows than one daemon's claims hold (twelve rounds of three)
        # several times over: both daemons claim, however late one starts.
        n = 150
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook), concurrency=3)
        one, two = self.daemon(cfg, env=self.env), self.daemon(cfg, env=self.env)
        one.wait_ready()
        two.wait_ready()
        self.wait_delivered(n, timeout=90)
        accepted = self.assert_every_event_arrived(hook)
        self.assertEqual(len(accepted), n)
        self.assertEqual(len(hook.deliveries), n, 'no event was sent twice')
        self.assertEqual(max(accepted.values()), 1)
        claimers = self.db.query('SELECT claimed_by, count(*) FROM bokvar.outbox GROUP BY 1')
        self.assertEqual(len(claimers), 2, f'both daemons sent: {claimers}')
        self.assertEqual(self.db.value('SELECT count(*) FROM bokvar.task'), str(n))

    def test_connections_are_kept_and_reused(self):
        # Many events, a few at a time, to a receiver that keeps connections
        # alive: sent over as many connections as are ever in flight, not
        # one per event (nor reopened when fewer are in flight for a while).
        hook = self.hook()
        hook.delay(0.02)
        n = 120
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook), concurrency=8)
        daemon = self.daemon(cfg, env=self.env)
        daemon.wait_ready()
        self.wait_delivered(n, timeout=90)
        self.assertEqual(len(self.assert_every_event_arrived(hook)), n)
        connections = hook.summary()['connections']
        self.assertLessEqual(connections, 8, f'{n} events over {connections} connections')

    def test_refusal_is_a_dead_letter_without_retries(self):
        hook = self.hook()
        hook.respond(400)
        n = 3
        cfg = self.setup([row(i) for i in range(n)], hook_channel(hook))
        status, out = self.once(cfg, env=self.env)
        self.assertNotEqual(status, 0)
        self.assertIn(f'Dispatch: 0 delivered, 0 to retry later, {n} dead letters.', out)
        self.assertIn('is a dead letter: HTTP 400', out)
        self.assertEqual(len(hook.deliveries), n, 'one attempt each')
        self.assertEqual({(s, a) for _, _, s, a in self.events().values()}, {('dead', 1)})
        # Nothing is retried by itself: a later run sends nothing.
        status, out = self.once(cfg, env=self.env)
        self.assertEqual(status, 0, out)
        self.assertEqual(len(hook.deliveries), n)
        dead = ctl_json('outbox', '--dead', config=cfg)
        self.assertEqual(len(dead), n)
        self.assertEqual({(x['last_status'], x['attempts']) for x in dead}, {('400', 1)})
        self.assertTrue(all(x['last_error'].startswith('HTTP 400') for x in dead))
        # An operator retries them once the receiver is fixed: same ids.
        # The audit log names the operator's own login; no flag can say
        # otherwise, and people of other functions are refused.
        hook.respond(200)
        with open(cfg, 'a') as f:
            f.write('people:\n  operators: [op.erator]\n  coordinators: [co.ordinator]\n')
        self.assertEqual(self.once(cfg, env=self.env)[0], 0)
        op = self.db.as_login(self.db.login('op.erator', 'operator'))
        co = self.db.as_login(self.db.login('co.ordinator', 'coordinator'))
        self.assertEqual(ctl('outbox', 'retry', str(dead[0]['id']), '--by', 'someone', env=op,
                             check=False).returncode, 2)
        p = ctl('outbox', 'retry', str(dead[0]['id']), env=co, check=False)
        self.assertEqual(p.returncode, 1, p.stderr)
        p = ctl('outbox', 'retry', str(dead[0]['id']), env=op)
        self.assertIn('1 event queued again', p.stdout)
        p = ctl('outbox', 'retry', '--all-dead', env=op)
        self.assertIn(f'{n - 1} events queued again', p.stdout)
        self.assertEqual(ctl('outbox', 'retry', '999999', env=op, check=False).returncode, 5)
        status, out = self.once(cfg, env=self.env)
        self.assertEqual(status, 0, out)
        self.assertEqual(len(self.assert_every_event_arrived(hook)), n)
        self.assertEqual(len(hook.deliveries), 2 * n)
        self.assertEqual(self.db.query("SELECT actor FROM bokvar.audit_log WHERE action = 'outbox.retry' ORDER BY id"),
                         [['op.erator'], ['op.erator']])

    def test_temporary_failures_retry_with_backoff(self):
        hook = self.hook()
        hook.respond_sequence([503, (429, '1'), 408, 200])
        cfg = self.setup([row(1)], hook_channel(hook), interval='1h')
        d = self.daemon(cfg, env=self.env)
        d.wait_ready()
        got = hook.wait_for(4, timeout=60)
        self.wait_delivered(1)
        self.assertEqual([x.status for x in got], [503, 429, 408, 200])
        self.assertEqual(len({x.id for x in got}), 1, 'every attempt carries the same webhook-id')
        self.assertTrue(all(x.signature_ok for x in got))
        # Each attempt is signed when it is sent, and waits longer than the last.
        gaps = [b.arrived - a.arrived for a, b in zip(got, got[1:])]
        self.assertGreaterEqual(gaps[0], 1.5 - 0.1)   # 2 s ± 25 %
        self.assertGreaterEqual(gaps[1], 3.0 - 0.1)   # 4 s ± 25 %
        self.assertGreaterEqual(gaps[2], 6.0 - 0.1)   # 8 s ± 25 %
        self.assertLessEqual(got[0].timestamp, got[-1].timestamp - 9)
        self.assertEqual(self.db.query('SELECT status, attempts, last_status FROM bokvar.outbox'),
                         [['delivered', '4', '200']])

    def test_escalation_overdue_and_what_caseworkers_do(self):
        hook = self.hook()
        cfg = self.setup([row(1), row(2, children='2')], hook_channel(hook))
        self.assertEqual(self.once(cfg, env=self.env)[0], 0)
        tasks = ctl_json('tasks', config=cfg)
        self.assertEqual([t['children'] for t in tasks], [2, None], 'children first, then unknown')
        t1 = next(t for t in tasks if t['children'] is None)
        self.assertEqual((t1['class'], t1['state']), ('outreach', 'new'))
        # An eviction application makes household 1 urgent: escalated.
        with open(os.path.join(self.dir, 'feed.csv'), 'a') as f:
            f.write(row(1, 'eviction_application', 1))
        self.assertEqual(self.once(cfg, env=self.env)[0], 0)
        kinds = [x.json['type'] for x in hook.deliveries if x.json['data']['task_id'] == t1['task']]
        self.assertEqual(kinds, ['task.created', 'task.escalated'])
        self.assertEqual(ctl_json('task', 'show', str(t1['task']), config=cfg)['task']['class'], 'urgent')

        # Caseworkers act, each as their own login; each action is recorded
        # with who, and sent nowhere. Neither a flag nor $SUDO_USER says who.
        before = len(hook.deliveries)
        anna = self.db.as_login(self.db.login('anna.k', 'caseworker'))
        erik = self.db.as_login(self.db.login('erik.l', 'caseworker'))
        self.assertEqual(ctl('task', 'ack', str(t1['task']), '--by', 'erik.l', env=anna,
                             check=False).returncode, 2)
        ctl('task', 'ack', str(t1['task']), env={**anna, 'SUDO_USER': 'erik.l'})
        ctl('task', 'contact', str(t1['task']), '--channel', 'phone', '--reached', 'no', env=anna)
        ctl('task', 'contact', str(t1['task']), '--channel', 'home_visit', '--reached', 'yes', '--note',
            'plan agreed', env=erik)
        p = ctl('task', 'close', str(t1['task']), '--outcome', 'payment_plan', env=anna)
        self.assertIn('closed by anna.k: Payment plan agreed.', p.stdout)
        again = ctl('task', 'close', str(t1['task']), '--outcome', 'other', env=erik, check=False)
        self.assertEqual(again.returncode, 1, again.stderr)
        self.assertIn('already closed', again.stderr)
        self.assertEqual(ctl('task', 'ack', '424242', env=anna, check=False).returncode, 5)
        self.assertEqual(ctl('task', 'close', str(t1['task']), '--outcome', 'gone', env=anna,
                             check=False).returncode, 2)
        # The system (the schema's owner, as the tests' own login is) is no
        # person: it does not act on tasks.
        self.assertEqual(ctl('task', 'ack', str(t1['task']), config=cfg, check=False).returncode, 1)
        show = ctl_json('task', 'show', str(t1['task']), env=anna)
        self.assertEqual(show['task']['status'], 'closed')
        self.assertEqual(show['task']['outcome'], 'payment_plan')
        self.assertEqual(show['task']['acknowledged_by'], 'anna.k')
        self.assertEqual([(c['by'], c['channel'], c['reached']) for c in show['contacts']],
                         [('anna.k', 'phone', False), ('erik.l', 'home_visit', True)])
        self.assertEqual([e['kind'] for e in show['events']],
                         ['created', 'escalated', 'acknowledged', 'contacted', 'contacted', 'closed'])
        self.assertTrue(show['signals'] and all('-****' in s['person'] for s in show['signals']))
        self.assertNotIn(pnr(1), json.dumps(show))
        self.assertEqual(len(hook.deliveries), before)
        self.assertEqual(self.db.query('SELECT actor, function, path FROM bokvar.access_log ORDER BY id'),
                         [[self.db.owner, '', 'task.show'], ['anna.k', 'caseworker', 'task.show']],
                         'each show is in the access log once, the system\'s own too')
        self.assertEqual(len(ctl_json('tasks', config=cfg)), 1)
        self.assertEqual(len(ctl_json('tasks', '--team', 'norr', config=cfg)), 0)
        self.assertEqual(ctl('tasks', '--team', 'nowhere', config=cfg, check=False).returncode, 5)

        # Overdue: the other task's due date passes; the daily pass notes it once.
        t2 = next(t for t in tasks if t['children'] == 2)
        self.db.query(f"UPDATE bokvar.task SET due = current_date - 1 WHERE id = {t2['task']}")
        for _ in range(2):
            self.assertEqual(self.once(cfg, env=self.env)[0], 0)
        overdue = [x for x in hook.deliveries if x.json['type'] == 'task.overdue']
        self.assertEqual([x.json['data']['task_id'] for x in overdue], [t2['task']])
        self.assertEqual(ctl_json('tasks', config=cfg)[0]['overdue'], 'OVERDUE')

        # The year's report counts it all.
        report = ctl_json('report', '--year', str(datetime.date.today().year), config=cfg)
        self.assertEqual((report['tasks_opened'], report['tasks_closed']), (2, 1))
        self.assertEqual(report['outcomes'], {'payment_plan': 1})
        self.assertEqual(report['households_kept_home'], 1)
        # The household a contact reached has children nobody reported; the
        # family with two children had a task but no contact.
        self.assertEqual((report['tasks_reached'], report['contact_rate']), (1, 0.5))
        self.assertEqual((report['families_with_children_reached'], report['reached_children_unknown']), (0, 1))
        csv = ctl('report', '--year', str(datetime.date.today().year), '--csv', config=cfg).stdout
        self.assertIn('tasks_opened,2\n', csv)
        self.assertIn('outcomes.payment_plan,1\n', csv)


if __name__ == '__main__':
    main()
