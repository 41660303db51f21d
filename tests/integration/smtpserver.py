# SPDX-License-Identifier: GPL-3.0-or-later
"""An SMTP server on 127.0.0.1 (aiosmtpd, from Debian's python3-aiosmtpd)
that records every message it accepts, speaking TLS from the first byte
(smtps, as on port 465), offering and requiring STARTTLS (as on 587), or
plain with no STARTTLS at all, for proving that a client refuses to send
in the clear. Optionally it requires AUTH PLAIN or LOGIN, and it can turn
messages away with a temporary or permanent error. It runs in a background
thread from construction to stop().

    srv = SmtpServer(tls='implicit', auth=('user', 'password'))
    ... point the daemon at srv.url() ('smtps://127.0.0.1:PORT') with srv.ca_file ...
    m, = srv.wait_for(1)                     # Message(mail_from, rcpt_tos, data, message, tls, arrived, login)
    srv.reject(451)                          # 451 to DATA until srv.accept()
    srv.stop()

tls='implicit': srv.url() is smtps://127.0.0.1:PORT. tls='starttls' (the
default): smtp://127.0.0.1:PORT, STARTTLS offered, and every command but
EHLO, NOOP, STARTTLS and QUIT gets '530 Must issue a STARTTLS command
first' until the client has used it. tls=None: smtp://, no STARTTLS
offered. The certificate is for 127.0.0.1 and localhost, signed by a
throwaway CA (srv.ca_file, None with tls=None) made with the openssl CLI.

auth=(user, password): MAIL, RCPT and DATA get '530 5.7.0 Authentication
required' until AUTH PLAIN or AUTH LOGIN with those has succeeded (a wrong
one gets 535). AUTH is offered and accepted only over TLS (538 before
STARTTLS), so with tls=None no client can authenticate and none can send.

srv.messages lists every message accepted as Message(mail_from, rcpt_tos,
data, message, tls, arrived, login): data the bytes after DATA as they
came (CRLF line ends; dot-stuffing undone), message those parsed (an
email.message.EmailMessage, policy email.policy.default) after turning
each CRLF into LF, so its text has LF line ends; tls whether the
session was encrypted (implicitly or by STARTTLS), arrived its
time.time(), login the user it authenticated as, or None. srv.rejections
lists what reject() turned away, as Rejection(stage, code, mail_from,
rcpt_tos, arrived).

Run this file to test the server itself against smtplib and the curl CLI."""

import asyncio
import collections
import email
import email.policy
import logging
import os
import shutil
import socket
import smtplib
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import weakref

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

import loopback

Message = collections.namedtuple('Message', 'mail_from rcpt_tos data message tls arrived login')
Message.__doc__ = """One message accepted; see the module's docstring for the fields."""

Rejection = collections.namedtuple('Rejection', 'stage code mail_from rcpt_tos arrived')
Rejection.__doc__ = """One DATA or RCPT that reject() turned away: stage 'DATA' or 'RCPT', the code
answered, the envelope so far (for RCPT, rcpt_tos includes the refused address)."""


class SmtpServer:
    """Started on construction. srv.port, srv.tls, srv.auth, srv.ca_file
    (None with tls=None); srv.url(), srv.messages, srv.rejections,
    srv.wait_for(); srv.reject(), srv.accept(), srv.stop()."""

    def __init__(self, tls='starttls', auth=None):
        """tls: 'implicit', 'starttls' or None. auth: (user, password) to
        require AUTH PLAIN/LOGIN with, or None for none."""
        if tls not in ('implicit', 'starttls', None):
            raise ValueError(f"tls must be 'implicit', 'starttls' or None, not {tls!r}")
        self.tls = tls
        self.auth = auth
        self._cond = threading.Condition()
        self._messages = []
        self._rejections = []
        self._reject = None
        self._stopped = False
        self._sessions = weakref.WeakSet()
        self._tmp = None
        self.ca_file = None
        context = None
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix='smtpserver-')
            files = loopback.make_certificates(self._tmp.name)
            self.ca_file = files['ca']
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(files['server'], files['server_key'])
        kwargs = {}
        if tls == 'starttls':
            kwargs.update(tls_context=context, require_starttls=True)
        if auth:
            kwargs.update(authenticator=self._authenticate, auth_required=True, auth_require_tls=True)
        self._controller = _Controller(self, _Handler(self), hostname='127.0.0.1', port=0,
                                       ssl_context=context if tls == 'implicit' else None,
                                       server_hostname='localhost', **kwargs)
        try:
            self._controller.start()
        except BaseException:
            self._cleanup()
            raise
        self.port = self._controller.port

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def url(self):
        """smtps://127.0.0.1:PORT with tls='implicit', else smtp://127.0.0.1:PORT."""
        return f'{"smtps" if self.tls == "implicit" else "smtp"}://127.0.0.1:{self.port}'

    def reject(self, code=451, stage='DATA', text=None):
        """From now on answers every DATA (after the message has been sent),
        or with stage='RCPT' every RCPT TO, with code (451: try again later;
        550: never) and text, until accept()."""
        if stage not in ('DATA', 'RCPT'):
            raise ValueError(f"stage must be 'DATA' or 'RCPT', not {stage!r}")
        if text is None:
            text = f'{code // 100}.0.0 rejected by the test' if code >= 400 else 'rejected by the test'
        with self._cond:
            self._reject = (stage, code, f'{code} {text}')

    def accept(self):
        """Accepts messages again."""
        with self._cond:
            self._reject = None

    @property
    def messages(self):
        """A copy of the list of every Message accepted so far, oldest first."""
        with self._cond:
            return list(self._messages)

    @property
    def rejections(self):
        """A copy of the list of every Rejection so far, oldest first."""
        with self._cond:
            return list(self._rejections)

    def wait_for(self, count=1, timeout=30):
        """Waits until count messages have been accepted; returns all of them
        so far. AssertionError on timeout."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise AssertionError(f'{len(self._messages)} of {count} messages within {timeout}s '
                                     f'({len(self._rejections)} rejected)')
            return list(self._messages)

    def stop(self):
        """Stops serving and drops every open session."""
        if self._stopped:
            return
        self._stopped = True
        try:
            asyncio.run_coroutine_threadsafe(self._close_all(), self._controller.loop).result(10)
        finally:
            self._controller.stop()
            self._cleanup()

    # Internals.

    def _cleanup(self):
        if self._tmp:
            self._tmp.cleanup()

    async def _close_all(self):
        # Controller.stop() alone leaves sessions' sockets open (it stops the
        # loop before their tasks see the cancellation), and a client would
        # wait for its timeout: close the listener and every session first.
        self._controller.server.close()
        for session in list(self._sessions):
            transport = session._original_transport or session.transport
            if transport is None:
                continue
            try:
                # The client sees the end at once, whatever state a TLS
                # transport is in (shutting down, or half torn down already)...
                sock = transport.get_extra_info('socket')
                if sock is not None and sock.fileno() >= 0:
                    with socket.socket(fileno=os.dup(sock.fileno())) as dup:
                        dup.shutdown(socket.SHUT_RDWR)
                # ...and the transport lets go of the socket.
                transport.abort()
            except (AttributeError, OSError):
                pass
        # Let the transports' connection_lost callbacks, which close the sockets, run.
        for _ in range(3):
            await asyncio.sleep(0)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (self.auth[0].encode(), self.auth[1].encode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def _rejecting(self, stage, envelope, rcpt=None):
        """The reply with which to reject stage now (recording that), or None."""
        with self._cond:
            if self._reject is None or self._reject[0] != stage:
                return None
            rcpt_tos = list(envelope.rcpt_tos) + ([rcpt] if rcpt else [])
            self._rejections.append(Rejection(stage, self._reject[1], envelope.mail_from, rcpt_tos, time.time()))
            self._cond.notify_all()
            return self._reject[2]

    def _record(self, message):
        with self._cond:
            self._messages.append(message)
            self._cond.notify_all()


class _Controller(Controller):

    def __init__(self, owner, *args, **kwargs):
        self.owner = owner
        super().__init__(*args, **kwargs)

    def factory(self):
        smtp = super().factory()
        if self.ssl_context is not None:
            # aiosmtpd 1.4.3 knows a session is encrypted only by STARTTLS: with
            # implicit TLS it would neither offer nor accept AUTH under
            # auth_require_tls (538 'Encryption required'), though every
            # byte is encrypted.
            smtp._auth_require_tls = False
        self.owner._sessions.add(smtp)
        return smtp

    def _trigger_server(self):
        # Bound to port 0, the server has a port of its own choosing, which
        # the readiness check (which connects to self.port) needs to know.
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class _Handler:

    def __init__(self, owner):
        self.owner = owner

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.owner._rejecting('RCPT', envelope, address)
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        reply = self.owner._rejecting('DATA', envelope)
        if reply is not None:
            return reply
        data = envelope.original_content
        login = session.auth_data.login.decode() if session.authenticated else None
        # Parsed with the CRLFs of the wire made LFs, as the email package expects.
        parsed = email.message_from_bytes(data.replace(b'\r\n', b'\n'), policy=email.policy.default)
        self.owner._record(Message(envelope.mail_from, list(envelope.rcpt_tos), data, parsed,
                                   server.transport.get_extra_info('ssl_object') is not None, time.time(), login))
        return '250 Message accepted for delivery'


class _QuietDeprecation(logging.Filter):
    """aiosmtpd 1.4.3's own AUTH code sets the deprecated Session.login_data,
    which logs a warning on stderr after every successful AUTH."""

    def filter(self, record):
        return 'login_data is deprecated' not in record.getMessage()


logging.getLogger('mail.log').addFilter(_QuietDeprecation())


# The self-test: python3 smtpserver.py

_MSG = (b'From: Bokvar <a@x.example>\r\nTo: b@y.example\r\nSubject: =?utf-8?q?Hej_=C3=85sa?=\r\n'
        b'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n'
        b'A task for you.\r\n.A line starting with a dot.\r\n')


class _SelfTest(unittest.TestCase):

    def server(self, **kw):
        srv = SmtpServer(**kw)
        self.addCleanup(srv.stop)
        return srv

    def client(self, srv, starttls=True):
        """An smtplib client that has said EHLO, over TLS if srv has it."""
        ctx = ssl.create_default_context(cafile=srv.ca_file) if srv.ca_file else None
        if srv.tls == 'implicit':
            c = smtplib.SMTP_SSL('127.0.0.1', srv.port, context=ctx, timeout=10)
        else:
            c = smtplib.SMTP('127.0.0.1', srv.port, timeout=10)
        self.addCleanup(c.close)
        c.ehlo('client.example')
        if srv.tls == 'starttls' and starttls:
            c.starttls(context=ctx)
            c.ehlo('client.example')
        return c

    def check_message(self, m, tls, login=None):
        self.assertEqual((m.mail_from, m.rcpt_tos, m.data, m.tls, m.login),
                         ('a@x.example', ['b@y.example', 'c@y.example'], _MSG, tls, login))
        self.assertEqual((m.message['Subject'], m.message.get_content()),
                         ('Hej Åsa', 'A task for you.\n.A line starting with a dot.\n'))
        self.assertIsInstance(m.message, email.message.Message)
        self.assertAlmostEqual(m.arrived, time.time(), delta=5)

    def test_implicit(self):
        srv = self.server(tls='implicit')
        self.assertRegex(srv.url(), r'^smtps://127\.0\.0\.1:\d+$')
        c = self.client(srv)
        self.assertFalse(c.has_extn('starttls'))
        c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
        m, = srv.wait_for(1)
        self.check_message(m, tls=True)
        # Not trusting the throwaway CA, a client refuses the server.
        with self.assertRaises(ssl.SSLCertVerificationError):
            smtplib.SMTP_SSL('127.0.0.1', srv.port, context=ssl.create_default_context(), timeout=10)
        with smtplib.SMTP_SSL('localhost', srv.port, context=ssl.create_default_context(cafile=srv.ca_file),
                              timeout=10) as c:
            c.sendmail('a@x.example', ['b@y.example'], b'Subject: 2\r\n\r\nx\r\n')
        self.assertEqual(len(srv.wait_for(2)), 2)

    def test_starttls_required(self):
        srv = self.server(tls='starttls')
        self.assertRegex(srv.url(), r'^smtp://127\.0\.0\.1:\d+$')
        c = self.client(srv, starttls=False)
        self.assertTrue(c.has_extn('starttls'))
        with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
            c.sendmail('a@x.example', ['b@y.example'], _MSG)
        self.assertEqual(cm.exception.smtp_code, 530)
        c = self.client(srv)
        self.assertFalse(c.has_extn('starttls'))
        c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
        self.check_message(srv.wait_for(1)[0], tls=True)

    def test_plain(self):
        srv = self.server(tls=None)
        self.assertIsNone(srv.ca_file)
        c = self.client(srv)
        self.assertFalse(c.has_extn('starttls'))
        with self.assertRaises(smtplib.SMTPNotSupportedError):
            c.starttls()
        c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
        self.check_message(srv.wait_for(1)[0], tls=False)

    def test_auth(self):
        for tls in ('implicit', 'starttls'):
            with self.subTest(tls=tls):
                srv = self.server(tls=tls, auth=('user', 'pass word'))
                if tls == 'starttls':
                    c = self.client(srv, starttls=False)
                    self.assertFalse(c.has_extn('auth'))
                    # require_starttls answers first.
                    self.assertEqual(c.docmd('AUTH', 'PLAIN AHVzZXIAcGFzcyB3b3Jk')[0], 530)
                c = self.client(srv)
                self.assertEqual(c.esmtp_features['auth'].split(), ['LOGIN', 'PLAIN'])
                with self.assertRaises(smtplib.SMTPSenderRefused) as cm:
                    c.sendmail('a@x.example', ['b@y.example'], _MSG)
                self.assertEqual(cm.exception.smtp_code, 530)
                with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                    c.login('user', 'wrong')
                self.assertEqual(cm.exception.smtp_code, 535)
                for mechanism in ('PLAIN', 'LOGIN'):
                    c = self.client(srv)
                    c.user, c.password = 'user', 'pass word'
                    self.assertEqual(c.auth(mechanism, getattr(c, f'auth_{mechanism.lower()}'))[0], 235)
                    c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
                for m in srv.wait_for(2):
                    self.check_message(m, tls=True, login='user')
        # In the clear, nobody can authenticate, so nobody can send.
        srv = self.server(tls=None, auth=('user', 'pass word'))
        c = self.client(srv)
        self.assertFalse(c.has_extn('auth'))
        self.assertEqual(c.docmd('AUTH', 'PLAIN AHVzZXIAcGFzcyB3b3Jk')[0], 538)
        self.assertEqual(c.docmd('MAIL', 'FROM:<a@x.example>')[0], 530)

    def test_reject(self):
        srv = self.server(tls='implicit')
        c = self.client(srv)
        srv.reject(451)
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail('a@x.example', ['b@y.example'], _MSG)
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error), (451, b'4.0.0 rejected by the test'))
        srv.reject(550, text='5.7.1 go away')
        with self.assertRaises(smtplib.SMTPDataError) as cm:
            c.sendmail('a@x.example', ['b@y.example'], _MSG)
        self.assertEqual((cm.exception.smtp_code, cm.exception.smtp_error), (550, b'5.7.1 go away'))
        srv.reject(550, stage='RCPT')
        with self.assertRaises(smtplib.SMTPRecipientsRefused) as cm:
            c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
        self.assertEqual({a: code for a, (code, _) in cm.exception.recipients.items()},
                         {'b@y.example': 550, 'c@y.example': 550})
        srv.accept()
        c.sendmail('a@x.example', ['b@y.example', 'c@y.example'], _MSG)
        self.check_message(srv.wait_for(1)[0], tls=True)
        self.assertEqual([(r.stage, r.code, r.mail_from, r.rcpt_tos) for r in srv.rejections],
                         [('DATA', 451, 'a@x.example', ['b@y.example']),
                          ('DATA', 550, 'a@x.example', ['b@y.example']),
                          ('RCPT', 550, 'a@x.example', ['b@y.example']),
                          ('RCPT', 550, 'a@x.example', ['c@y.example'])])
        self.assertEqual(len(srv.messages), 1)

    def test_stop(self):
        srv = SmtpServer(tls='starttls')
        idle = self.client(srv)
        plain = socket.create_connection(('127.0.0.1', srv.port), timeout=5)
        self.addCleanup(plain.close)
        self.assertTrue(plain.recv(100).startswith(b'220 localhost'))
        t = time.monotonic()
        with srv:
            pass
        srv.stop()
        self.assertLess(time.monotonic() - t, 2)
        self.assertEqual(plain.recv(100), b'')
        self.assertEqual(idle.sock.recv(100), b'')
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(('127.0.0.1', srv.port), timeout=5)
        self.assertFalse(os.path.exists(srv.ca_file))
        self.assertEqual([t.name for t in threading.enumerate()], ['MainThread'])

    def test_wait_for_timeout(self):
        srv = self.server(tls=None)
        with self.assertRaises(AssertionError):
            srv.wait_for(1, timeout=0.1)

    def curl(self, srv, *args, user=None):
        with tempfile.NamedTemporaryFile() as f:
            f.write(_MSG)
            f.flush()
            cmd = ['curl', '-sS', '--ssl-reqd', '--mail-from', 'a@x.example',
                   '--mail-rcpt', 'b@y.example', '--mail-rcpt', 'c@y.example', '-T', f.name]
            if srv.ca_file:
                cmd += ['--cacert', srv.ca_file]
            if user:
                cmd += ['--user', user]
            return subprocess.run(cmd + list(args) + [srv.url()], capture_output=True, text=True)

    def test_curl(self):
        for tls in ('implicit', 'starttls'):
            with self.subTest(tls=tls):
                srv = self.server(tls=tls)
                p = self.curl(srv)
                self.assertEqual(p.returncode, 0, p.stderr)
                self.check_message(srv.wait_for(1)[0], tls=True)
                srv = self.server(tls=tls, auth=('user', 'pass word'))
                self.assertEqual(self.curl(srv).returncode, 55)             # CURLE_SEND_ERROR: 530 to MAIL
                self.assertEqual(self.curl(srv, user='user:nope').returncode, 67)    # CURLE_LOGIN_DENIED
                for mechanism in ('PLAIN', 'LOGIN'):
                    p = self.curl(srv, '--login-options', f'AUTH={mechanism}', user='user:pass word')
                    self.assertEqual(p.returncode, 0, p.stderr)
                for m in srv.wait_for(2):
                    self.check_message(m, tls=True, login='user')
                srv.reject(451)
                p = self.curl(srv, user='user:pass word')
                # curl 7.88 says no more than 'Weird server reply' to a refusal after DATA.
                self.assertEqual(p.returncode, 8, p.stderr)                 # CURLE_WEIRD_SERVER_REPLY
                self.assertEqual([(r.stage, r.code) for r in srv.rejections], [('DATA', 451)])
                srv.reject(550, stage='RCPT')
                p = self.curl(srv, user='user:pass word')
                self.assertEqual(p.returncode, 55, p.stderr)                # CURLE_SEND_ERROR
                self.assertIn('RCPT failed: 550', p.stderr)
        # With no STARTTLS offered, curl --ssl-reqd sends nothing.
        srv = self.server(tls=None)
        p = self.curl(srv)
        self.assertEqual(p.returncode, 64, p.stderr)    # CURLE_USE_SSL_FAILED
        self.assertEqual(srv.messages, [])
        # Nor does it take smtps:// for an answer from a plain server.
        with self.assertLogs('mail.log', 'WARNING') as logs:
            p = subprocess.run(['curl', '-sS', '--mail-from', 'a@x.example', '--mail-rcpt', 'b@y.example',
                                '-T', '/dev/null', f'smtps://127.0.0.1:{srv.port}'], capture_output=True, text=True)
        # aiosmtpd took the TLS ClientHello for a command.
        self.assertIn('unrecognised', logs.output[0])
        self.assertEqual(p.returncode, 35, p.stderr)    # CURLE_SSL_CONNECT_ERROR


if __name__ == '__main__':
    if not shutil.which('curl'):
        raise SystemExit('the self-test needs the curl CLI: apt-get install curl')
    unittest.main(verbosity=2)
