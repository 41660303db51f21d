#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvar-web, the real binary on a real socket, started the way systemd
starts it (socket activation): whom it believes, what it answers without
a person, the headers every answer carries, forms without their token,
idle exit."""

import os
import re
import subprocess

from harness import SLOW, TestCase, main
from webstack import Activator, request

BOKVAR_WEB = os.environ.get('BOKVAR_WEB', '')
CSP = ("default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")


def non_loopback_ipv4():
    """An address of this machine that is not loopback, or None."""
    p = subprocess.run(['ip', '-4', '-o', 'addr', 'show'], capture_output=True, text=True)
    for m in re.finditer(r'inet (\d+\.\d+\.\d+\.\d+)/', p.stdout):
        if not m.group(1).startswith('127.'):
            return m.group(1)
    return None


class WebCase(TestCase):
    """A test database and bokvar-web on a socket in a directory of its own."""

    web_config = ''

    def setUp(self):
        super().setUp()
        # Other users (the untrusted peer below) must reach the socket.
        os.chmod(self.dir, 0o755)
        self.activators = []

    def tearDown(self):
        for a in self.activators:
            exits = a.stop()
            output = a.output()
            # Every run stopped cleanly (or with the status a test expects
            # of it), and no sanitizer had anything to say.
            self.assertTrue(all(e in (0, 1, 4) for e in exits), f'{exits}:\n{output}')
            self.assertNotIn('Sanitizer', output)
            self.assertNotIn('runtime error', output)
        super().tearDown()

    def web(self, web_config=None, address=None, env=None):
        config = self.config('web:\n' + (web_config if web_config is not None else self.web_config or
                                          '  idle_exit: 10m\n'))
        a = Activator([BOKVAR_WEB, '--config', config, '--log-target=console', '--log-level=debug'],
                      address or os.path.join(self.dir, 'web.sock'), env=env,
                      log_path=os.path.join(self.dir, f'web-{len(self.activators)}.log'))
        self.activators.append(a)
        return a


class Answers(WebCase):
    def test_stylesheet_and_security_headers(self):
        a = self.web()
        r = request(a.address, 'GET', '/bokvar.css')
        self.assertEqual(r.status, 200, a.output())
        self.assertEqual(r.header('Content-Type'), 'text/css; charset=utf-8')
        self.assertIn(':focus-visible', r.text)
        for name, value in (('Content-Security-Policy', CSP), ('X-Content-Type-Options', 'nosniff'),
                            ('Referrer-Policy', 'no-referrer'), ('X-Frame-Options', 'DENY')):
            self.assertEqual(r.header(name), value, name)

    def test_no_identity_is_401_in_swedish(self):
        a = self.web()
        r = request(a.address, 'GET', '/')
        self.assertEqual(r.status, 401)
        self.assertIn('<html lang="sv">', r.text)
        self.assertIn('Du är inte inloggad', r.text)
        self.assertEqual(r.header('Content-Security-Policy'), CSP)
        self.assertEqual(r.header('Cache-Control'), 'no-store')
        # An empty header is no identity either.
        self.assertEqual(request(a.address, 'GET', '/', {'X-Remote-User': ''}).status, 401)

    def test_identity_that_is_not_a_login_is_403(self):
        a = self.web()
        for bad in ('a<b>', 'anna k', 'x' * 64, "'; DROP TABLE bokvar.task; --"):
            r = request(a.address, 'GET', '/', {'X-Remote-User': bad})
            self.assertEqual(r.status, 403, bad)
            self.assertNotIn(bad, r.text)
        self.assertNotIn('DROP TABLE', a.output())

    def test_identity_header_twice_is_403(self):
        a = self.web()
        raw = (b'GET / HTTP/1.1\r\nHost: localhost\r\nX-Remote-User: anna.k\r\nX-Remote-User: sara.b\r\n'
               b'Connection: close\r\n\r\n')
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect(a.address)
        s.sendall(raw)
        data = b''
        while chunk := s.recv(65536):
            data += chunk
        s.close()
        self.assertTrue(data.startswith(b'HTTP/1.1 403'), data[:100])

    def test_configured_header_name(self):
        a = self.web('  identity_header: X-Signed-On\n')
        self.assertEqual(request(a.address, 'GET', '/nowhere', {'X-Remote-User': 'anna.k'}).status, 401)
        r = request(a.address, 'GET', '/nowhere', {'X-Signed-On': 'anna.k'})
        self.assertEqual(r.status, 404)
        self.assertIn('Sidan finns inte', r.text)

    def test_session_cookie(self):
        a = self.web()
        r = request(a.address, 'GET', '/nowhere', {'X-Remote-User': 'anna.k'})
        cookie = r.header('Set-Cookie')
        self.assertRegex(cookie, r'^__Host-bokvar=[A-Za-z0-9_-]{43}; Path=/; Secure; HttpOnly; SameSite=Strict$')
        # A browser that has one keeps it.
        session = cookie.split(';')[0]
        r = request(a.address, 'GET', '/nowhere', {'X-Remote-User': 'anna.k', 'Cookie': session})
        self.assertIsNone(r.header('Set-Cookie'))

    def test_post_without_csrf_token_is_refused(self):
        a = self.web()
        session = request(a.address, 'GET', '/nowhere', {'X-Remote-User': 'anna.k'}).header('Set-Cookie')
        session = session.split(';')[0]
        form = {'X-Remote-User': 'anna.k', 'Cookie': session, 'Content-Type': 'application/x-www-form-urlencoded'}
        for body in ('outcome=kept_home', 'outcome=kept_home&csrf=', 'csrf=' + 'A' * 43):
            r = request(a.address, 'POST', '/task/1/close', form, body)
            self.assertEqual(r.status, 403, body)
            self.assertIn('Formuläret skickades inte från den här sidan', r.text)
        # Without the session cookie, or from another site, even a well-formed body is refused.
        r = request(a.address, 'POST', '/task/1/close', {**form, 'Cookie': ''}, 'csrf=' + 'A' * 43)
        self.assertEqual(r.status, 403)
        self.assertIn('no valid CSRF token', a.output())

    def test_methods_and_sizes(self):
        a = self.web()
        self.assertEqual(request(a.address, 'DELETE', '/', {'X-Remote-User': 'anna.k'}).status, 405)
        r = request(a.address, 'POST', '/notice', {'X-Remote-User': 'anna.k',
                                                   'Content-Type': 'application/x-www-form-urlencoded'},
                    'a=' + 'x' * 70000)
        self.assertEqual(r.status, 413)
        # The server is still there.
        self.assertEqual(request(a.address, 'GET', '/bokvar.css').status, 200)


class Trust(WebCase):
    def test_non_loopback_peer_is_refused(self):
        ip = non_loopback_ipv4()
        if not ip:
            self.skipTest('this machine has no address but loopback')
        a = self.web(address=('0.0.0.0', 0))
        port = a.address[1]
        r = request((ip, port), 'GET', '/', {'X-Remote-User': 'anna.k'})
        self.assertEqual(r.status, 403)
        self.assertIn('sign-on proxy', r.text)
        self.assertIn(f'Refused a request from {ip}', a.output())
        # The same server believes loopback.
        r = request(('127.0.0.1', port), 'GET', '/nowhere', {'X-Remote-User': 'anna.k'})
        self.assertEqual(r.status, 404)

    def test_unix_peer_not_among_trusted_users_is_refused(self):
        if os.geteuid() != 0:
            self.skipTest('needs root to connect as another user')
        a = self.web('  trusted_users: [root]\n  idle_exit: 10m\n')
        self.assertEqual(request(a.address, 'GET', '/nowhere', {'X-Remote-User': 'anna.k'}).status, 404)
        p = subprocess.run(['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups', 'curl', '-s',
                            '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', a.address,
                            '-H', 'X-Remote-User: anna.k', 'http://localhost/'],
                           capture_output=True, text=True)
        self.assertEqual(p.stdout, '403', p.stderr)
        self.assertRegex(a.output(), r'Refused a request from a Unix socket peer with uid \d+')

    def test_unknown_trusted_user_stops_the_start(self):
        a = self.web('  trusted_users: [no-such-user-here]\n')
        a.start_now()
        self.assertEqual(a.wait_exit(30 * SLOW), 1)
        self.assertIn("web.trusted_users: no user 'no-such-user-here'", a.output())


class Lifetime(WebCase):
    def test_started_by_the_first_connection_and_exits_when_idle(self):
        a = self.web('  idle_exit: 2s\n')
        self.assertEqual(a.starts, 0)
        self.assertEqual(request(a.address, 'GET', '/bokvar.css').status, 200)
        self.assertEqual(a.starts, 1)
        self.assertEqual(a.wait_exit(30 * SLOW), 0)
        self.assertIn('No request for 2 s; exiting', a.output())
        # The socket stayed; the next request starts it again.
        self.assertEqual(request(a.address, 'GET', '/bokvar.css').status, 200)
        self.assertEqual(a.starts, 2)

    def test_sigterm_stops_cleanly(self):
        a = self.web()
        self.assertEqual(request(a.address, 'GET', '/bokvar.css').status, 200)
        a.proc.terminate()
        self.assertEqual(a.wait_exit(30 * SLOW), 0)
        self.assertIn('bokvar-web stopped.', a.output())

    def test_wrong_schema_is_exit_4(self):
        self.db.query("INSERT INTO bokvar.schema_migrations (version, name, checksum) VALUES (999, 'x', 'x')")
        a = self.web()
        a.start_now()
        self.assertEqual(a.wait_exit(30 * SLOW), 4)


if __name__ == '__main__':
    if not BOKVAR_WEB:
        raise SystemExit('BOKVAR_WEB not set: run through meson test')
    main()
