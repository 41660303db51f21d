# SPDX-License-Identifier: GPL-3.0-or-later
"""What the integration tests share: throwaway databases in the PostgreSQL
cluster that pg_virtualenv provides, the real bokvard and bokvarctl
binaries, and a notify socket the test owns in place of systemd."""

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

BOKVARD = os.environ.get('BOKVARD', '')
BOKVARCTL = os.environ.get('BOKVARCTL', '')
SOURCE_ROOT = os.environ.get('SOURCE_ROOT', os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
BUILD_ROOT = os.environ.get('BUILD_ROOT', '')
# Sanitizer builds run several times slower; waits scale with this.
SLOW = float(os.environ.get('BOKVAR_TEST_SLOW', '1'))
# The password of the login roles tests make for people: bokvarctl reaches
# the cluster over TCP (PGHOST), where it asks for one.
PASSWORD = 'bokvar-test-login'
# The functions a person (or case system) can have, and the web service's.
FUNCTIONS = ('caseworker', 'coordinator', 'operator', 'auditor', 'case_system', 'web')


def require_environment():
    missing = [v for v in ('BOKVARD', 'BOKVARCTL') if not os.environ.get(v)]
    if missing:
        sys.exit(f'{", ".join(missing)} not set: run through meson test (tools/test does)')
    if not (os.environ.get('PGHOST') or os.environ.get('PGPORT')):
        sys.exit('no PostgreSQL cluster in the environment: run under pg_virtualenv (tools/test does)')


def psql(sql, db='postgres', check=True):
    """Runs SQL in db; returns the rows as lists of strings."""
    p = subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-F', '\t', '-d', db, '-f', '-'],
                       input=sql, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise AssertionError(f'psql failed: {p.stderr}')
    return [line.split('\t') for line in p.stdout.splitlines() if line != '']


def hold(sql, db):
    """A session of its own that has run sql in a transaction it keeps open
    (what sql locked stays locked) until release()."""
    p = subprocess.Popen(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-d', db], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    p.stdin.write(f'BEGIN;\n{sql};\nSELECT 1;\n')
    p.stdin.flush()
    if p.stdout.readline().strip() != '1':
        p.kill()
        raise AssertionError(f'psql failed: {sql}')
    return p


def release(p):
    """Commits what hold() holds."""
    p.stdin.write('COMMIT;\n')
    p.stdin.close()
    p.wait(timeout=30)


def wait_for_lock(db, text='', connections=1, daemon=None, timeout=60):
    """Until at least as many sessions in db (a Database) wait for a lock
    in a statement with text (what hold() holds, say); fails when the
    timeout passes or daemon (optional) stops first."""
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        # (As the cluster's superuser, who sees every role's statements.)
        if int(psql(f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.name}' "
                    f"AND wait_event_type = 'Lock' AND query LIKE '%{text}%'", db.name)[0][0]) >= connections:
            return
        if daemon is not None:
            assert daemon.running(), daemon.output()
        time.sleep(0.02)
    raise AssertionError(f'{connections} session(s) did not wait for a lock in "{text}"'
                         + (f'; the daemon said:\n{daemon.output()}' if daemon is not None else ''))


class Database:
    """A database of its own for one test, dropped afterwards with its roles.
    As on a server, it belongs to a role of its own (bokvard's), no superuser
    (superusers are never held to row-level security), that may create the
    database's group roles; bokvard and bokvarctl connect as it unless a
    test says otherwise. The test's own queries (query, value) run as the
    cluster's superuser."""

    def __init__(self, migrate=True, name=None):
        self.name = name or 'bokvar_' + uuid.uuid4().hex[:16]
        self.owner = self.name + '_owner'
        self.logins = []
        psql(f"DROP ROLE IF EXISTS {self.owner}; CREATE ROLE {self.owner} LOGIN CREATEROLE PASSWORD '{PASSWORD}'")
        psql(f'CREATE DATABASE {self.name} OWNER {self.owner}')
        self.conninfo = f'dbname={self.name} user={self.owner} password={PASSWORD}'
        self.env = {'PGDATABASE': self.name, 'PGUSER': self.owner, 'PGPASSWORD': PASSWORD}
        if migrate:
            ctl('migrate', env=self.env)

    def group(self, function):
        """This database's group role of function (see FUNCTIONS)."""
        return self.value(f"SELECT role FROM bokvar.access_role WHERE function = '{function}'")

    def login(self, name, function=None, password=PASSWORD):
        """A login role: a person's (or a case system's) own PostgreSQL role,
        in the group role of function when given, with a password."""
        psql(f'DROP ROLE IF EXISTS "{name}"; CREATE ROLE "{name}" LOGIN PASSWORD \'{password}\'')
        self.logins.append(name)
        if function:
            psql(f'GRANT "{self.group(function)}" TO "{name}"')
        return name

    def as_login(self, name, password=PASSWORD):
        """The environment bokvarctl needs to run as login name, without
        --config: as a person runs it, who may not read bokvar.yaml."""
        return {'PGDATABASE': self.name, 'PGUSER': name, 'PGPASSWORD': password}

    def query(self, sql):
        return psql(sql, self.name)

    def value(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def drop(self):
        psql(f'DROP DATABASE IF EXISTS {self.name} WITH (FORCE)')
        groups = [r[0] for r in psql(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{self.name}\\_bokvar\\_%'")]
        for role in self.logins + groups + [self.owner]:
            psql(f'DROP ROLE IF EXISTS "{role}"')



def ctl(*args, config=None, env=None, check=True, input=None, timeout=120):
    """Runs bokvarctl; returns the CompletedProcess."""
    cmd = [BOKVARCTL]
    if config:
        cmd += ['--config', config]
    cmd += list(args)
    # The sources' English whatever the locale of whoever runs the tests
    # (bokvarctl speaks the locale's language): a test that wants another
    # passes --lang, or LANG in env.
    e = {k: v for k, v in os.environ.items() if k not in ('LC_ALL', 'LC_MESSAGES', 'LANG', 'LANGUAGE')}
    e.update(env or {})
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, input=input, timeout=timeout * SLOW)
    if check and p.returncode != 0:
        raise AssertionError(f'bokvarctl {" ".join(args)} exited {p.returncode}:\n{p.stdout}\n{p.stderr}')
    return p


def ctl_json(*args, **kw):
    p = ctl('--json', *args, **kw)
    return json.loads(p.stdout)


class NotifySocket:
    """A datagram socket standing in for systemd's $NOTIFY_SOCKET. Like
    systemd, it reads every message as it comes (a thread drains it): a
    sender must never find the queue full and block."""

    def __init__(self, directory):
        self.path = os.path.join(directory, f'notify-{uuid.uuid4().hex[:8]}')
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.1)
        self.messages = []
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._drain, daemon=True)
        self._thread.start()

    def _drain(self):
        while not self._closed:
            try:
                data = self.sock.recv(65536).decode()
            except socket.timeout:
                continue
            except OSError:
                return
            fields = {}
            for line in data.split('\n'):
                if '=' in line:
                    k, v = line.split('=', 1)
                    fields[k] = v
            with self._cond:
                self.messages.append(fields)
                self._cond.notify_all()

    def wait_for(self, predicate, timeout=30, what='notification'):
        """Returns the first message not returned before that satisfies predicate."""
        deadline = time.monotonic() + timeout * SLOW
        with self._cond:
            while True:
                for m in self.messages:
                    if predicate(m) and not m.get('_seen'):
                        m['_seen'] = True
                        return m
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f'no {what} within {timeout * SLOW:.0f}s; got {self.messages}')
                self._cond.wait(left)

    def close(self):
        self._closed = True
        self._thread.join()
        self.sock.close()


class Daemon:
    """The real bokvard, started the way systemd would start it."""

    def __init__(self, config, directory, args=(), env=None, notify=True):
        self.directory = directory
        self.notify = NotifySocket(directory) if notify else None
        self.log_path = os.path.join(directory, f'bokvard-{uuid.uuid4().hex[:6]}.log')
        e = dict(os.environ)
        if self.notify:
            e['NOTIFY_SOCKET'] = self.notify.path
        e.update(env or {})
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen([BOKVARD, '--config', config, '--log-target=console', *args],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=e)

    def wait_ready(self, timeout=30):
        return self.notify.wait_for(lambda m: m.get('READY') == '1', timeout, 'READY=1')

    def signal(self, sig):
        self.proc.send_signal(sig)

    def wait(self, timeout=30):
        try:
            return self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            raise AssertionError(f'bokvard did not exit within {timeout * SLOW:.0f}s:\n{self.output()}') from None

    def running(self):
        return self.proc.poll() is None

    def output(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        if self.running():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        if self.notify:
            self.notify.close()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


class TestCase(unittest.TestCase):
    """Gives each test a directory and a database, cleaned up afterwards."""

    migrate = True

    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix='bokvar-test-')
        self.dir = self.tmp.name
        self.db = Database(migrate=self.migrate)
        self.daemons = []

    def tearDown(self):
        for d in self.daemons:
            d.stop()
        self.db.drop()
        self.tmp.cleanup()

    def write(self, name, text, mode='w'):
        path = os.path.join(self.dir, name)
        with open(path, mode) as f:
            f.write(text)
        return path

    def config(self, body='', name='bokvar.yaml'):
        """Writes a configuration pointing at this test's database. Unless the
        test sets its own retention:, data is kept for a century: fixtures
        with fixed dates would otherwise be purged by the daily pass of
        bokvard --once as the calendar moves on."""
        if 'retention:' not in body:
            body += ('' if body.endswith('\n') or not body else '\n') + (
                'retention: { signals_without_task: 100y, households_with_tasks: 100y, quarantine: 100y, '
                'access_log: 100y, audit_log: 100y }\n')
        return self.write(name, f'database: "{self.db.conninfo}"\n' + body)

    def daemon(self, config, *args, **kw):
        d = Daemon(config, self.dir, args, **kw)
        self.daemons.append(d)
        return d

    def once(self, config, env=None, timeout=120):
        """Runs bokvard --once to the end; returns (exit status, output)."""
        d = self.daemon(config, '--once', env=env)
        try:
            status = d.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            d.kill9()
            raise AssertionError(f'bokvard --once did not finish within {timeout * SLOW:.0f}s:\n{d.output()}')
        return status, d.output()

    def feed_row(self, name):
        """The feed's row in bokvar.feed as a dict of strings."""
        rows = self.db.query("SELECT row_to_json(f) FROM bokvar.feed f WHERE name = '%s'" % name)
        return json.loads(rows[0][0]) if rows else None


def main():
    require_environment()
    unittest.main(verbosity=2)
