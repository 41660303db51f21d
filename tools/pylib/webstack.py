# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvar-web as systemd runs it, for the tests, the demo and the benchmark:
a listening socket held by a stand-in for systemd that starts bokvar-web
on the first connection (and again after it exits for want of work), and
HTTP over that socket."""

import base64
import hashlib
import http.client
import os
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

# Starts the program with the socket as descriptor 3 and LISTEN_PID set to
# its own pid, as systemd does: exec keeps the pid.
LAUNCH = ('import os, sys\n'
          'fd = int(sys.argv[1])\n'
          'os.dup2(fd, 3)\n'
          'if fd != 3: os.close(fd)\n'
          'os.environ["LISTEN_PID"] = str(os.getpid())\n'
          'os.environ["LISTEN_FDS"] = "1"\n'
          'os.execv(sys.argv[2], sys.argv[2:])\n')


class UnixHTTPConnection(http.client.HTTPConnection):
    """http.client over a Unix socket (the host name is only for the Host header)."""

    def __init__(self, path, timeout=30):
        super().__init__('localhost', timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Response:
    def __init__(self, r):
        self.status = r.status
        self.headers = r.headers
        self.body = r.read()
        self.text = self.body.decode('utf-8', 'replace')

    def header(self, name):
        return self.headers.get(name)

    def __repr__(self):
        return f'<{self.status} {self.text[:200]!r}>'


def request(address, method, path, headers=None, body=None, timeout=30):
    """One request to a Unix socket path or a (host, port) address."""
    if isinstance(address, str):
        c = UnixHTTPConnection(address, timeout=timeout)
    else:
        c = http.client.HTTPConnection(address[0], address[1], timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers or {})
        return Response(c.getresponse())
    finally:
        c.close()


def terminate(proc):
    """SIGTERM, and SIGKILL if it has not ended within 30 seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Activator:
    """Holds a listening socket like a systemd .socket unit and starts the
    service on it when a connection waits and the service is not running."""

    def __init__(self, argv, address, env=None, log_path=None, mode=0o666):
        self.argv = argv
        self.env = dict(os.environ)
        self.env.update(env or {})
        self.log = open(log_path, 'a') if log_path else subprocess.DEVNULL
        self.log_path = log_path
        if isinstance(address, str):
            if os.path.exists(address):
                os.unlink(address)
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.bind(address)
            os.chmod(address, mode)
        else:
            family = socket.AF_INET6 if ':' in address[0] else socket.AF_INET
            self.sock = socket.socket(family, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.sock.bind(address)
            address = self.sock.getsockname()[:2]
        self.sock.listen(128)
        self.address = address
        self.starts = 0
        self.exits = []            # exit statuses of the runs that ended
        self.proc = None
        self._lock = threading.Lock()
        self._stop = False
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self):
        while not self._stop:
            with self._lock:
                if self.proc and self.proc.poll() is not None:
                    self.exits.append(self.proc.returncode)
                    self.proc = None
                running = self.proc is not None
            if running:
                time.sleep(0.05)
                continue
            ready, _, _ = select.select([self.sock], [], [], 0.05)
            if ready and not self._stop:
                self.start_now()

    def start_now(self):
        """Starts the service without waiting for a connection."""
        with self._lock:
            if not self.proc:
                self.starts += 1
                self.proc = subprocess.Popen(
                    [sys.executable, '-c', LAUNCH, str(self.sock.fileno()), *self.argv],
                    pass_fds=(self.sock.fileno(),), env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop_checked(self):
        """Stops as stop() does, and fails unless every run exited 0 with
        nothing from a sanitizer (a leak, say) in its output."""
        exits = self.stop()
        output = self.output()
        if any(e != 0 for e in exits) or 'Sanitizer' in output or 'runtime error' in output:
            raise AssertionError(f'the service exited {exits}:\n{output}')

    def running(self):
        with self._lock:
            return self.proc is not None and self.proc.poll() is None

    def wait_exit(self, timeout):
        """Waits until the service has exited; returns its status."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if self.proc is None and self.exits:
                    return self.exits[-1]
                if self.proc is not None and self.proc.poll() is not None:
                    pass
            time.sleep(0.05)
        raise AssertionError(f'the service did not exit within {timeout:.0f}s')

    def output(self):
        if not self.log_path:
            return ''
        if not self.log.closed:
            self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """Stops the service (SIGTERM) and the socket; returns the exit
        statuses of every run of the service."""
        self._stop = True
        self._thread.join()
        with self._lock:
            if self.proc and self.proc.poll() is None:
                terminate(self.proc)
            if self.proc:
                self.exits.append(self.proc.returncode)
                self.proc = None
        self.sock.close()
        if isinstance(self.address, str) and os.path.exists(self.address):
            os.unlink(self.address)
        if self.log is not subprocess.DEVNULL:
            self.log.close()
        return self.exits


# ---------------------------------------------------------------------------
# The whole stack for the tests, the demo and the benchmark: a database
# owned by a role of its own (no superuser: row-level security holds for
# the functions it owns), the web service's own login, a world of feeds,
# teams and people, the daemon's one pass over it, bokvar-web on its
# socket and Apache in front, signing people on with Basic authentication
# in the identity provider's stead.

APACHE_MODULES = '/usr/lib/apache2/modules'
PASSWORD = 'bokvar-test-login'


def psql(sql, db='postgres', env=None, check=True):
    """Runs SQL as the cluster's administrator; returns the rows."""
    e = dict(os.environ)
    e.update(env or {})
    p = subprocess.run(['psql', '-XAtq', '-v', 'ON_ERROR_STOP=1', '-F', '\t', '-d', db, '-f', '-'],
                       input=sql, capture_output=True, text=True, env=e)
    if check and p.returncode != 0:
        raise AssertionError(f'psql failed: {p.stderr}')
    return [line.split('\t') for line in p.stdout.splitlines() if line != '']


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class WebDatabase:
    """A bokvar database owned by a login of its own, migrated, and a login
    for bokvar-web in the database's web role."""

    def __init__(self, name, bokvarctl, bokvard, directory):
        self.name = name
        self.owner = f'{name}_owner'
        self.web_login = f'{name}_web'
        self.bokvarctl, self.bokvard, self.dir = bokvarctl, bokvard, directory
        psql(f'CREATE ROLE {self.owner} LOGIN CREATEROLE PASSWORD \'{PASSWORD}\';'
             f'CREATE DATABASE {name} OWNER {self.owner}')
        self.env = {'PGDATABASE': name, 'PGUSER': self.owner, 'PGPASSWORD': PASSWORD}
        self.ctl('migrate')
        psql(f'CREATE ROLE {self.web_login} LOGIN PASSWORD \'{PASSWORD}\';'
             f'GRANT {name}_bokvar_web TO {self.web_login};'
             f'ALTER ROLE {self.web_login} SET client_min_messages = warning')

    def conninfo(self, login=None):
        return f'dbname={self.name} user={login or self.owner} password={PASSWORD}'

    def ctl(self, *args, check=True):
        e = dict(os.environ)
        e.update(self.env)
        p = subprocess.run([self.bokvarctl, *args], capture_output=True, text=True, env=e)
        if check and p.returncode != 0:
            raise AssertionError(f'bokvarctl {" ".join(args)}: {p.stdout}{p.stderr}')
        return p

    def once(self, config):
        """bokvard --once as the owner: teams, people and rules synced, the
        feeds ingested, households scored, tasks opened."""
        e = dict(os.environ)
        e.update(self.env)
        p = subprocess.run([self.bokvard, '--config', config, '--once', '--log-target=console'],
                           capture_output=True, text=True, env=e, timeout=300)
        if p.returncode != 0:
            raise AssertionError(f'bokvard --once: {p.stdout}{p.stderr}')

    def query(self, sql):
        """As the owner (the system: every row)."""
        return psql(sql, self.name, env={'PGUSER': self.owner, 'PGPASSWORD': PASSWORD})

    def value(self, sql):
        rows = self.query(sql)
        return rows[0][0] if rows else None

    def drop(self):
        psql(f'DROP DATABASE IF EXISTS {self.name} WITH (FORCE)')
        roles = [r[0] for r in psql(f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{self.name}\\_%'")]
        for role in roles:
            psql(f'DROP ROLE IF EXISTS "{role}"')


class Apache:
    """Apache on 127.0.0.1 in front of bokvar-web's Unix socket, as the
    examples in config/apache/ are, with Basic authentication against a
    password file standing in for the identity provider."""

    def __init__(self, directory, socket_path, users, port=None):
        self.dir = directory
        self.port = port or free_port()
        self.users = users
        with open(os.path.join(directory, 'htpasswd'), 'w') as f:
            for login, password in users.items():
                digest = base64.b64encode(hashlib.sha1(password.encode()).digest()).decode()
                f.write(f'{login}:{{SHA}}{digest}\n')
        root = os.geteuid() == 0
        # As root, Apache's workers run as www-data, as on a server.
        run_as = 'User www-data\nGroup www-data\n' if root else ''
        self.conf = os.path.join(directory, 'httpd.conf')
        with open(self.conf, 'w') as f:
            f.write(f'''ServerName localhost
ServerRoot {directory}
PidFile {directory}/httpd.pid
DefaultRuntimeDir {directory}
ErrorLog {directory}/apache-error.log
LogLevel warn
Listen 127.0.0.1:{self.port}
{run_as}LoadModule mpm_event_module {APACHE_MODULES}/mod_mpm_event.so
LoadModule authn_core_module {APACHE_MODULES}/mod_authn_core.so
LoadModule authn_file_module {APACHE_MODULES}/mod_authn_file.so
LoadModule authz_core_module {APACHE_MODULES}/mod_authz_core.so
LoadModule authz_user_module {APACHE_MODULES}/mod_authz_user.so
LoadModule auth_basic_module {APACHE_MODULES}/mod_auth_basic.so
LoadModule headers_module {APACHE_MODULES}/mod_headers.so
LoadModule proxy_module {APACHE_MODULES}/mod_proxy.so
LoadModule proxy_http_module {APACHE_MODULES}/mod_proxy_http.so
LogFormat "%a %t \\"%m %U %H\\" %>s %b %D \\"%u\\"" bokvar
CustomLog {directory}/apache-access.log bokvar
<Location />
    AuthType Basic
    AuthName "bokvar (test sign-on)"
    AuthBasicProvider file
    AuthUserFile {directory}/htpasswd
    Require valid-user
</Location>
RequestHeader unset X-Remote-User early
RequestHeader set X-Remote-User "expr=%{{REMOTE_USER}}"
ProxyPass "/" "unix:{socket_path}|http://localhost/"
ProxyPassReverse "/" "http://localhost/"
ProxyAddHeaders Off
''')
        self.proc = subprocess.Popen(['/usr/sbin/apache2', '-f', self.conf, '-DFOREGROUND'],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(('127.0.0.1', self.port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None:
                    raise AssertionError(f'apache2 exited: {self.error_log()}')
                time.sleep(0.05)
        else:
            raise AssertionError('apache2 did not start listening')
        self.url = f'http://127.0.0.1:{self.port}'

    def auth(self, login):
        token = base64.b64encode(f'{login}:{self.users[login]}'.encode()).decode()
        return {'Authorization': f'Basic {token}'}

    def request(self, login, method, path, headers=None, body=None):
        h = dict(self.auth(login)) if login else {}
        h.update(headers or {})
        return request(('127.0.0.1', self.port), method, path, h, body)

    def error_log(self):
        try:
            with open(os.path.join(self.dir, 'apache-error.log')) as f:
                return f.read()
        except OSError:
            return ''

    def access_log(self):
        with open(os.path.join(self.dir, 'apache-access.log')) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            terminate(self.proc)


def proxy_user():
    """The system user Apache's workers run as: trusted on bokvar-web's socket."""
    import pwd
    return 'www-data' if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name


class Browser:
    """Headless Chromium under Selenium, signed on by an Authorization
    header on every request (what Apache asks for); no network beyond
    loopback, a profile of its own."""

    FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
             '--disable-background-networking', '--disable-component-update', '--disable-sync',
             '--disable-dev-shm-usage', '--window-size=1280,1600']

    def __init__(self, directory):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = '/usr/bin/chromium'
        for flag in self.FLAGS:
            options.add_argument(flag)
        self.profile = tempfile.mkdtemp(prefix='profile-', dir=directory)
        options.add_argument(f'--user-data-dir={self.profile}')
        self.driver = webdriver.Chrome(service=Service('/usr/bin/chromedriver'), options=options)
        self.driver.set_page_load_timeout(60)
        self.driver.execute_cdp_cmd('Network.enable', {})

    def sign_on(self, headers, language='sv'):
        """Every request from now on carries these headers (Authorization),
        and asks for pages in language (Accept-Language)."""
        self.driver.execute_cdp_cmd('Network.setExtraHTTPHeaders',
                                    {'headers': dict(headers, **{'Accept-Language': language})})

    def get(self, url):
        self.driver.get(url)

    def screenshot(self, path):
        """The whole page as a PNG."""
        self.driver.execute_script('window.scrollTo(0, 0)')
        height = self.driver.execute_script('return document.documentElement.scrollHeight')
        self.driver.set_window_size(1280, max(800, min(int(height) + 100, 6000)))
        self.driver.save_screenshot(path)
        self.driver.set_window_size(1280, 1600)

    def quit(self):
        self.driver.quit()
