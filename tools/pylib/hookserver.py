# SPDX-License-Identifier: GPL-3.0-or-later
"""A webhook receiver on 127.0.0.1 that checks every POST the way the
Standard Webhooks convention (https://www.standardwebhooks.com/) says, and
whose answers the test scripts: statuses, a sequence of them, Retry-After,
a slow answer, and going away altogether (connection refused) and coming
back on the same port. It runs in a background thread from construction to
stop(), and records every POST it gets.

    srv = HookServer()                       # a fresh secret in srv.secret; or HookServer(secret='whsec_...')
    ... point the daemon at srv.url('/hook') with srv.secret ...
    srv.respond_sequence([503, 503, 200])    # two failures, then success
    d = srv.wait_for(3)                      # the three attempts, as Delivery tuples
    assert srv.ids()[d[0].id] == 1           # accepted (2xx) once
    srv.down(); ...; srv.up()                # connection refused in between
    srv.stop()

A POST is verified when it has the headers webhook-id, webhook-timestamp
(unix seconds, within tolerance seconds of now; tolerance=None skips that
check) and webhook-signature, a space-separated list of
'v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>' of which one
matches. The secret is 'whsec_<base64 key>' and key is the decoded part;
secret may also be a list of them (rotation), any one of which will do.
Unverified POSTs get 401 (reject_bad=False: the scripted answer, like any
other) and are recorded with signature_ok False and why in error.

srv.deliveries lists every POST as Delivery(id, timestamp, signature_ok,
body_bytes, json, headers, path, arrived, status, error): timestamp an int
(or the header as sent when it is not one, None when absent), json the
parsed body or None, headers an http.client.HTTPMessage (case-insensitive
.get()), path with its query string, arrived the time.time() it came in,
status what the server answered (or meant to: with delay() the client may
have given up first), error None or why it was not verified. A delivery is
recorded as it arrives, before any delay. Other methods get http.server's
501 and are not recorded.

With tls=True the server speaks only HTTPS, with a certificate for
127.0.0.1 and localhost signed by a throwaway CA (srv.ca_file) made with
the openssl CLI.

From the command line, for demos and benchmarks:

    python3 hookserver.py --serve --port N --secret whsec_... [--print] [--count-file PATH]

serves in the foreground (--port 0: any free port), its first line on
stdout 'listening on 127.0.0.1:PORT'. --print: one line per delivery,
'verified' or 'BAD SIGNATURE', the webhook-id and the JSON body compact.
--count-file: on SIGTERM, SIGINT or SIGUSR1 (which does not stop it)
writes {"deliveries": n, "verified": n, "bad": n, "ids": distinct ids,
"arrivals": {webhook-id: first arrival, unix time}} there. Nothing is kept
per delivery but that, so wrk can POST at it for as long as it likes.

Run this file without arguments to test the server itself against
http.client and the curl CLI."""

import argparse
import base64
import collections
import hashlib
import hmac
import http
import http.client
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import types
import unittest

import loopback

Delivery = collections.namedtuple('Delivery', 'id timestamp signature_ok body_bytes json headers path arrived '
                                  'status error')
Delivery.__doc__ = """One POST as it arrived; see the module's docstring for the fields."""


class HookServer:
    """Started on construction. srv.port, srv.base ('http[s]://127.0.0.1:PORT'),
    srv.secret, srv.ca_file (with tls=True); srv.url(path), srv.deliveries,
    srv.wait_for(), srv.ids(), srv.summary(); srv.respond(),
    srv.respond_sequence(), srv.delay(), srv.down(), srv.up(), srv.stop()."""

    def __init__(self, secret=None, tls=False, tolerance=300, *, reject_bad=True, port=0, keep=True,
                 on_delivery=None):
        """secret: 'whsec_...' or a list of them; None makes one (srv.secret).
        tolerance: how far webhook-timestamp may be from now, in seconds
        (None: any). reject_bad: answer 401 to unverified POSTs (also the
        attribute srv.reject_bad). port: 0 for any free one (srv.port).
        keep=False records no Delivery, only the counts of summary().
        on_delivery(d) is called with each Delivery, in the connection's
        thread."""
        self.secret = secret if secret is not None else self.make_secret()
        self._keys = [_decode_secret(s) for s in ([self.secret] if isinstance(self.secret, str) else self.secret)]
        self.tolerance = tolerance
        self.reject_bad = reject_bad
        self._keep = keep
        self._on_delivery = on_delivery
        self._cond = threading.Condition()
        # Serializes down() and up(): up() must not bind the port before down() has let go of it.
        self._updown = threading.Lock()
        self._deliveries = []
        self._counts = {'deliveries': 0, 'verified': 0, 'bad': 0, 'connections': 0}
        self._arrivals = {}
        self._status, self._retry_after, self._sequence, self._delay = 200, None, None, 0.0
        self._stopped = False
        self._tmp = None
        self.ca_file = None
        self._context = None
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix='hookserver-')
            files = loopback.make_certificates(self._tmp.name)
            self.ca_file = files['ca']
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.load_cert_chain(files['server'], files['server_key'])
        self.port = port
        self._server = self._thread = None
        self.up()
        self.base = f'{"https" if tls else "http"}://127.0.0.1:{self.port}'

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @staticmethod
    def make_secret():
        """A fresh secret: 'whsec_' and the base64 of 32 random bytes."""
        return 'whsec_' + base64.b64encode(secrets.token_bytes(32)).decode()

    def url(self, path='/hook'):
        """The absolute URL of path (which starts with /) on this server."""
        return self.base + path

    # Behaviour, switchable at any time.

    def respond(self, status=200, retry_after=None):
        """Answers every (verified) POST from now on with status, and with
        Retry-After: retry_after (seconds or an HTTP date) if that is given
        and status is not 2xx."""
        with self._cond:
            self._status, self._retry_after, self._sequence = status, retry_after, None

    def respond_sequence(self, statuses, retry_after=None):
        """Answers the next POSTs with statuses in order, then the last one
        for ever after. An entry may be (status, retry_after) instead of a
        status, else retry_after goes with every status that is not 2xx."""
        statuses = [s if isinstance(s, tuple) else (s, retry_after) for s in statuses]
        if not statuses:
            raise ValueError('an empty sequence')
        with self._cond:
            self._sequence = collections.deque(statuses)

    def delay(self, seconds):
        """Waits this long before answering each POST (0: no wait). down()
        and stop() cut the wait short and drop the connection unanswered."""
        with self._cond:
            self._delay = seconds

    def down(self):
        """Stops listening and drops every open connection, keep-alive ones
        included: connecting gets ECONNREFUSED until up()."""
        with self._updown:
            with self._cond:
                server, thread, self._server, self._thread = self._server, self._thread, None, None
            if server is None:
                return
            server.stopping.set()
            server.shutdown()
            server.close_connections()
            server.server_close()
            thread.join()

    def up(self):
        """Listens again, on the same port as before."""
        with self._updown, self._cond:
            if self._stopped:
                raise RuntimeError('the server has been stopped')
            if self._server is not None:
                return
            self._server = _Server(self, self._context, self.port)
            self.port = self._server.server_address[1]
            # A short poll interval keeps down() quick: shutdown() waits for the loop to notice.
            self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                            name=f'hookserver:{self.port}', daemon=True)
            self._thread.start()

    # What the server saw.

    @property
    def deliveries(self):
        """A copy of the list of every Delivery so far, oldest first."""
        with self._cond:
            return list(self._deliveries)

    def wait_for(self, what=1, timeout=30, match=None):
        """Waits until what (a count, or a predicate on the list of
        deliveries) is satisfied; with match (a predicate on one Delivery),
        only the deliveries it accepts count. Returns those deliveries.
        AssertionError on timeout."""
        def chosen():
            return [d for d in self._deliveries if match is None or match(d)]
        done = what if callable(what) else (lambda ds: len(ds) >= what)
        with self._cond:
            if not self._cond.wait_for(lambda: done(chosen()), timeout):
                raise AssertionError(f'only {len(chosen())} deliveries ({what!r} wanted) within {timeout}s: '
                                     f'{chosen()!r}')
            return chosen()

    def ids(self):
        """A Counter of the webhook-id of every delivery answered 2xx."""
        with self._cond:
            return collections.Counter(d.id for d in self._deliveries if 200 <= d.status < 300)

    def summary(self):
        """What --count-file writes: the counts (connections: every one
        accepted), distinct ids, first arrival by id."""
        with self._cond:
            return dict(self._counts, ids=len(self._arrivals), arrivals=dict(self._arrivals))

    def stop(self):
        """Stops serving and drops every open connection."""
        with self._updown:
            if self._stopped:
                return
            self._stopped = True
        self.down()
        if self._tmp:
            self._tmp.cleanup()

    # Internals.

    def _connected(self):
        with self._cond:
            self._counts['connections'] += 1

    def _receive(self, headers, body, path, arrived):
        """Checks and records one POST; returns (status, retry_after, delay)."""
        error = _verify(self._keys, headers, body, self.tolerance, arrived)
        msg_id = headers.get('webhook-id')
        with self._cond:
            if error is not None and self.reject_bad:
                status, retry_after = 401, None
            elif self._sequence is not None:
                status, retry_after = self._sequence[0]
                if len(self._sequence) > 1:
                    self._sequence.popleft()
            else:
                status, retry_after = self._status, self._retry_after
            if 200 <= status < 300:
                retry_after = None
            self._counts['deliveries'] += 1
            self._counts['verified' if error is None else 'bad'] += 1
            if msg_id is not None:
                self._arrivals.setdefault(msg_id, arrived)
            delay = self._delay
            if self._keep or self._on_delivery:
                d = _delivery(msg_id, headers, body, path, arrived, status, error)
                if self._keep:
                    self._deliveries.append(d)
                    self._cond.notify_all()
        if self._on_delivery:
            self._on_delivery(d)
        return status, retry_after, delay


def _delivery(msg_id, headers, body, path, arrived, status, error):
    ts = headers.get('webhook-timestamp')
    try:
        ts = int(ts)
    except (TypeError, ValueError):
        pass
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    return Delivery(msg_id, ts, error is None, body, doc, headers, path, arrived, status, error)


def _decode_secret(secret):
    return base64.b64decode(secret.removeprefix('whsec_'), validate=True)


def _verify(keys, headers, body, tolerance, now):
    """None if the request is signed as Standard Webhooks say, else why not."""
    msg_id, ts, sig = headers.get('webhook-id'), headers.get('webhook-timestamp'), headers.get('webhook-signature')
    if msg_id is None or ts is None or sig is None:
        return 'missing webhook-id, webhook-timestamp or webhook-signature'
    if not ts.isascii() or not ts.isdigit():
        return f'webhook-timestamp {ts!r} is not unix seconds'
    if tolerance is not None and abs(now - int(ts)) > tolerance:
        return f'webhook-timestamp {ts} is {now - int(ts):+.0f}s from now'
    # http.client decodes header values as ISO 8859-1: this gets the bytes back.
    signed = b'.'.join((msg_id.encode('latin-1'), ts.encode(), body))
    wanted = [base64.b64encode(hmac.new(k, signed, hashlib.sha256).digest()) for k in keys]
    for part in sig.split():
        version, _, value = part.partition(',')
        if version == 'v1' and any(hmac.compare_digest(w, value.encode('latin-1')) for w in wanted):
            return None
    return 'no v1 signature matches'


class _Server(loopback.ThreadingServer):
    # Room for a benchmark's many connections arriving at once.
    request_queue_size = 1024
    nodelay = True

    def __init__(self, hook, context, port):
        self.hook = hook
        super().__init__(('127.0.0.1', port), _Handler, context)

    def finish_request(self, request, client_address):
        self.hook._connected()
        super().finish_request(request, client_address)


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 for keep-alive, as a real webhook receiver has.
    protocol_version = 'HTTP/1.1'
    server_version = 'hookserver'

    def do_POST(self):
        arrived = time.time()
        body = self._body()
        if body is None:
            return
        status, retry_after, delay = self.server.hook._receive(self.headers, body, self.path, arrived)
        if delay and self.server.stopping.wait(delay):
            self.close_connection = True
            return
        try:
            phrase = http.HTTPStatus(status).phrase
        except ValueError:
            phrase = ''
        text = b'' if status in (204, 304) else f'{status} {phrase}\n'.encode()
        head = [f'HTTP/1.1 {status} {phrase}', 'Server: hookserver', f'Date: {self.date_time_string()}',
                'Content-Type: text/plain', f'Content-Length: {len(text)}']
        if retry_after is not None:
            head.append(f'Retry-After: {retry_after}')
        if self.close_connection:
            head.append('Connection: close')
        # One write for the whole answer: two small ones meet Nagle and delayed ACKs.
        self.wfile.write('\r\n'.join(head).encode('latin-1') + b'\r\n\r\n' + text)

    def _body(self):
        """The request's body; None (after answering 400) if it cannot be read."""
        if 'chunked' in self.headers.get('Transfer-Encoding', '').lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b';')[0], 16)
                except ValueError:
                    self.send_error(400, 'bad chunk size')
                    return None
                if size == 0:
                    # Trailers, up to the empty line.
                    while self.rfile.readline(65537) not in (b'\r\n', b'\n', b''):
                        pass
                    return b''.join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(3)
        try:
            length = int(self.headers.get('Content-Length', 0))
        except ValueError:
            self.send_error(400, 'bad Content-Length')
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def log_message(self, format, *args):
        # srv.deliveries is the log; a line per request would slow a benchmark and bury a test's output.
        pass


# The command line: python3 hookserver.py --serve ...


def _serve(argv):
    p = argparse.ArgumentParser(prog='hookserver.py', description='A Standard Webhooks receiver.')
    p.add_argument('--serve', action='store_true', required=True, help='serve in the foreground')
    p.add_argument('--port', type=int, default=0, help='port on 127.0.0.1 (0: any free one)')
    p.add_argument('--secret', required=True, help='whsec_<base64 key>')
    p.add_argument('--print', action='store_true', help='a line on stdout per delivery')
    p.add_argument('--count-file', metavar='PATH', help='where to write the JSON summary on SIGTERM/SIGINT/SIGUSR1')
    p.add_argument('--tolerance', type=int, default=300, help='seconds webhook-timestamp may be off (default 300)')
    args = p.parse_args(argv)

    out_lock = threading.Lock()

    def show(d):
        if d.json is not None:
            what = json.dumps(d.json, separators=(',', ':'), ensure_ascii=False)
        else:
            what = d.body_bytes.decode('utf-8', 'replace')
        line = f'{"verified" if d.signature_ok else "BAD SIGNATURE"} {d.id} {what}\n'
        with out_lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    srv = HookServer(secret=args.secret, port=args.port, tolerance=args.tolerance, keep=False,
                           on_delivery=show if args.print else None)

    def write_counts():
        if not args.count_file:
            return
        tmp = f'{args.count_file}.tmp{os.getpid()}'
        with open(tmp, 'w') as f:
            json.dump(srv.summary(), f)
        os.replace(tmp, args.count_file)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    signal.signal(signal.SIGUSR1, lambda *_: write_counts())
    print(f'listening on 127.0.0.1:{srv.port}', flush=True)
    try:
        while not done.wait(3600):
            pass
    finally:
        srv.stop()
        write_counts()


# The self-test: python3 hookserver.py


def _sign(secret, msg_id, ts, body):
    """The reference signer, written from the spec, apart from the server's code."""
    key = base64.b64decode(secret[len('whsec_'):])
    mac = hmac.new(key, f'{msg_id}.{ts}.'.encode() + body, hashlib.sha256).digest()
    return 'v1,' + base64.b64encode(mac).decode()


def _signed(secret, body, msg_id='msg_1', ts=None):
    ts = int(time.time()) if ts is None else ts
    return {'webhook-id': msg_id, 'webhook-timestamp': str(ts), 'webhook-signature': _sign(secret, msg_id, ts, body),
            'Content-Type': 'application/json'}


def _post(srv, body, headers, path='/hook', conn=None, context=None, timeout=10):
    """(status, headers, body) of one POST, on conn or a fresh connection."""
    own = conn is None
    if own:
        if srv.base.startswith('https'):
            conn = http.client.HTTPSConnection('127.0.0.1', srv.port, timeout=timeout, context=context)
        else:
            conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=timeout)
    try:
        conn.request('POST', path, body=body, headers=headers)
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        if own:
            conn.close()


class _SelfTest(unittest.TestCase):

    def setUp(self):
        self.srv = HookServer()
        self.addCleanup(self.srv.stop)

    def test_secret(self):
        s = HookServer.make_secret()
        self.assertTrue(s.startswith('whsec_'))
        self.assertEqual(len(base64.b64decode(s[6:])), 32)
        self.assertNotEqual(s, HookServer.make_secret())
        self.assertTrue(self.srv.secret.startswith('whsec_'))
        self.assertRegex(self.srv.url(), r'^http://127\.0\.0\.1:\d+/hook$')

    def test_verified_and_bad(self):
        body = b'{"type": "task.created", "data": {"id": 7}}'
        status, h, text = _post(self.srv, body, _signed(self.srv.secret, body, 'msg_a'), path='/hook?x=1')
        self.assertEqual((status, text), (200, b'200 OK\n'))
        d, = self.srv.wait_for(1)
        self.assertEqual((d.id, d.signature_ok, d.body_bytes, d.json, d.path, d.status, d.error),
                         ('msg_a', True, body, {'type': 'task.created', 'data': {'id': 7}}, '/hook?x=1', 200, None))
        self.assertIsInstance(d.timestamp, int)
        self.assertAlmostEqual(d.arrived, time.time(), delta=5)
        self.assertEqual(d.headers['Webhook-Id'], 'msg_a')

        other = HookServer.make_secret()
        now = int(time.time())
        bad = [
            {},                                                             # unsigned
            _signed(other, body, 'msg_b'),                                  # another key
            _signed(self.srv.secret, b'{"type":"changed"}', 'msg_c'),       # another body
            _signed(self.srv.secret, body, 'msg_d', now - 301),             # too old
            _signed(self.srv.secret, body, 'msg_e', now + 301),             # from the future
            dict(_signed(self.srv.secret, body, 'msg_f'), **{'webhook-timestamp': 'soon'}),
        ]
        for headers in bad:
            self.assertEqual(_post(self.srv, body, headers)[0], 401)
        # Several signatures (key rotation): one good one is enough.
        h = _signed(self.srv.secret, body, 'msg_g')
        wrong = _sign(other, 'msg_g', h['webhook-timestamp'], body)
        h['webhook-signature'] = f'{wrong} v1a,xyz {h["webhook-signature"]}'
        self.assertEqual(_post(self.srv, body, h)[0], 200)
        ds = self.srv.wait_for(8)
        self.assertEqual([d.signature_ok for d in ds], [True] + [False] * 6 + [True])
        self.assertEqual([d.status for d in ds], [200] + [401] * 6 + [200])
        self.assertIsNone(ds[1].id)
        self.assertIn('missing', ds[1].error)
        self.assertEqual(ds[2].error, 'no v1 signature matches')
        self.assertIn('from now', ds[4].error)
        self.assertEqual(ds[6].timestamp, 'soon')
        self.assertEqual(self.srv.ids(), collections.Counter({'msg_a': 1, 'msg_g': 1}))

        # reject_bad=False: bad ones are recorded as such but get the scripted answer.
        self.srv.reject_bad = False
        self.assertEqual(_post(self.srv, body, {})[0], 200)
        self.assertFalse(self.srv.deliveries[-1].signature_ok)
        # A secret list: either key verifies.
        with HookServer(secret=[other, self.srv.secret], tolerance=None) as srv2:
            for s in (other, self.srv.secret):
                self.assertEqual(_post(srv2, body, _signed(s, body, 'm', 12345))[0], 200)
            self.assertEqual(_post(srv2, body, _signed(HookServer.make_secret(), body))[0], 401)

    def test_status_switching(self):
        body = b'{"n":1}'
        self.srv.respond(503, retry_after=7)
        status, h, text = _post(self.srv, body, _signed(self.srv.secret, body, 'm1'))
        self.assertEqual((status, h['Retry-After'], text), (503, '7', b'503 Service Unavailable\n'))
        self.srv.respond(204)
        status, h, text = _post(self.srv, body, _signed(self.srv.secret, body, 'm1'))
        self.assertEqual((status, h['Retry-After'], text), (204, None, b''))
        self.srv.respond_sequence([503, (429, 'Wed, 21 Oct 2026 07:28:00 GMT'), 500, 200], retry_after=2)
        got = [_post(self.srv, body, _signed(self.srv.secret, body, f'm{i}')) for i in range(2, 8)]
        self.assertEqual([(s, h['Retry-After']) for s, h, _ in got],
                         [(503, '2'), (429, 'Wed, 21 Oct 2026 07:28:00 GMT'), (500, '2'), (200, None),
                          (200, None), (200, None)])
        # Unverified POSTs get 401 and leave the sequence alone.
        self.srv.respond_sequence([500, 201])
        self.assertEqual(_post(self.srv, body, {})[0], 401)
        self.assertEqual([_post(self.srv, body, _signed(self.srv.secret, body, 'm9'))[0] for _ in range(3)],
                         [500, 201, 201])
        self.assertEqual(self.srv.ids(), collections.Counter({'m1': 1, 'm5': 1, 'm6': 1, 'm7': 1, 'm9': 2}))
        self.assertEqual(self.srv.summary()['ids'], 8)

    def test_keep_alive(self):
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        self.addCleanup(conn.close)
        sock = None
        for i in range(5):
            body = json.dumps({'n': i}).encode()
            status, h, _ = _post(self.srv, body, _signed(self.srv.secret, body, f'k{i}'), conn=conn)
            self.assertEqual((status, h['Connection']), (200, None))
            sock = sock or conn.sock
            self.assertIs(conn.sock, sock)
        # A chunked body too, on the same connection.
        body = b'{"chunked": true}'
        conn.request('POST', '/c', body=iter([body[:5], body[5:]]), headers=_signed(self.srv.secret, body, 'kc'),
                     encode_chunked=True)
        self.assertEqual(conn.getresponse().read(), b'200 OK\n')
        self.assertIs(conn.sock, sock)
        self.assertEqual(self.srv.deliveries[-1].json, {'chunked': True})
        self.assertEqual(self.srv.ids(), collections.Counter(['k0', 'k1', 'k2', 'k3', 'k4', 'kc']))

    def test_down_and_up(self):
        body = b'{}'
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        self.addCleanup(conn.close)
        self.assertEqual(_post(self.srv, body, _signed(self.srv.secret, body), conn=conn)[0], 200)
        port = self.srv.port
        t = time.monotonic()
        self.srv.down()
        self.assertLess(time.monotonic() - t, 1)
        # The idle keep-alive connection is gone...
        self.assertEqual(conn.sock.recv(10), b'')
        # ...and new ones are refused.
        with self.assertRaises(ConnectionRefusedError):
            socket.create_connection(('127.0.0.1', port), timeout=5)
        p = subprocess.run(['curl', '-sS', '-d', '{}', self.srv.url()], capture_output=True, text=True)
        self.assertEqual(p.returncode, 7, p.stderr)  # CURLE_COULDNT_CONNECT
        self.srv.down()
        self.srv.up()
        self.srv.up()
        self.assertEqual(self.srv.port, port)
        conn.close()
        self.assertEqual(_post(self.srv, body, _signed(self.srv.secret, body), conn=conn)[0], 200)
        self.assertEqual(len(self.srv.wait_for(2)), 2)
        self.assertEqual([t.name for t in threading.enumerate() if t.name.startswith('hookserver')],
                         [f'hookserver:{port}'])

    def test_delay(self):
        body = b'{}'
        self.srv.delay(0.4)
        t = time.monotonic()
        self.assertEqual(_post(self.srv, body, _signed(self.srv.secret, body))[0], 200)
        self.assertGreaterEqual(time.monotonic() - t, 0.4)
        self.srv.delay(30)
        with self.assertRaises(TimeoutError):
            _post(self.srv, body, _signed(self.srv.secret, body, 'slow'), timeout=0.3)
        # Recorded on arrival, before the wait.
        self.assertEqual(self.srv.wait_for(1, match=lambda d: d.id == 'slow')[0].status, 200)
        # A client still waiting is dropped by down(), at once.
        waiting = socket.create_connection(('127.0.0.1', self.srv.port))
        self.addCleanup(waiting.close)
        waiting.sendall(b'POST /hook HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}')
        self.srv.wait_for(3)
        t = time.monotonic()
        self.srv.down()
        self.assertLess(time.monotonic() - t, 1)
        waiting.settimeout(5)
        self.assertEqual(waiting.recv(100), b'')

    def test_wait_for(self):
        body = b'{"a": 1}'
        threading.Timer(0.2, _post, (self.srv, body, _signed(self.srv.secret, body, 'late'))).start()
        d, = self.srv.wait_for(lambda ds: any(d.id == 'late' for d in ds), timeout=10)
        self.assertEqual(d.id, 'late')
        with self.assertRaises(AssertionError):
            self.srv.wait_for(2, timeout=0.2)
        with self.assertRaises(AssertionError):
            self.srv.wait_for(1, timeout=0.1, match=lambda d: d.id == 'other')

    def test_curl(self):
        small = '{"type":"task.created","data":{"name":"Åsa"}}'.encode()
        # Past curl's 1 MiB threshold for Expect: 100-continue.
        big = json.dumps({'data': {'name': 'x' * (2 << 20)}}).encode()
        with HookServer(tls=True) as tls_srv, tempfile.TemporaryDirectory() as d:
            for srv in (self.srv, tls_srv):
                def curl(body, msg_id, secret, *urls):
                    name = os.path.join(d, msg_id)
                    with open(name, 'wb') as f:
                        f.write(body)
                    cmd = ['curl', '-sSv', '-w', '%{http_code}', '--data-binary', '@' + name]
                    for k, v in _signed(secret, body, msg_id).items():
                        cmd += ['-H', f'{k}: {v}']
                    if srv.ca_file:
                        cmd += ['--cacert', srv.ca_file]
                    for url in urls:
                        cmd += ['-o', '/dev/null', url]
                    return subprocess.run(cmd, capture_output=True, text=True)

                # Twice in one curl: the second POST reuses the connection.
                p = curl(small, 'msg_curl', srv.secret, srv.url('/a'), srv.url('/b'))
                self.assertEqual((p.returncode, p.stdout), (0, '200200'), p.stderr)
                self.assertIn('Re-using existing connection', p.stderr)
                ds = srv.wait_for(2)
                self.assertEqual([(d.path, d.signature_ok, d.json['data']['name']) for d in ds],
                                 [('/a', True, 'Åsa'), ('/b', True, 'Åsa')])
                self.assertEqual(curl(small, 'msg_bad', HookServer.make_secret(), srv.url()).stdout, '401')
                p = curl(big, 'msg_big', srv.secret, srv.url())
                self.assertEqual(p.stdout, '200', p.stderr)
                self.assertIn('Expect: 100-continue', p.stderr)
                self.assertEqual(srv.deliveries[-1].body_bytes, big)
            self.assertTrue(tls_srv.url().startswith('https://127.0.0.1:'))

    def test_serve_command(self):
        here = os.path.abspath(__file__)

        def start(*args):
            proc = subprocess.Popen([sys.executable, here, '--serve', *args], stdout=subprocess.PIPE, text=True)
            self.addCleanup(proc.stdout.close)
            self.addCleanup(proc.wait)
            self.addCleanup(proc.kill)
            return proc

        with tempfile.TemporaryDirectory() as d:
            counts = os.path.join(d, 'counts.json')
            secret = HookServer.make_secret()
            proc = start('--port', '0', '--secret', secret, '--print', '--count-file', counts)
            first = proc.stdout.readline()
            self.assertRegex(first, r'^listening on 127\.0\.0\.1:\d+\n$')
            port = int(first.rsplit(':', 1)[1])
            at = types.SimpleNamespace(base=f'http://127.0.0.1:{port}', port=port)
            t0 = time.time()
            for i, s in enumerate([secret, secret, HookServer.make_secret()]):
                body = json.dumps({'n': i, 'ok': True}, indent=2).encode()
                _post(at, body, _signed(s, body, f'id{min(i, 1)}'))
            lines = [proc.stdout.readline() for _ in range(3)]
            self.assertEqual(lines, ['verified id0 {"n":0,"ok":true}\n', 'verified id1 {"n":1,"ok":true}\n',
                                     'BAD SIGNATURE id1 {"n":2,"ok":true}\n'])
            # SIGUSR1 writes the counts and carries on.
            proc.send_signal(signal.SIGUSR1)
            deadline = time.monotonic() + 10
            while not os.path.exists(counts) and time.monotonic() < deadline:
                time.sleep(0.02)
            with open(counts) as f:
                self.assertEqual(json.load(f)['deliveries'], 3)
            body = b'{}'
            self.assertEqual(_post(at, body, _signed(secret, body, 'id2'))[0], 200)
            self.assertEqual(proc.stdout.readline(), 'verified id2 {}\n')
            proc.terminate()
            self.assertEqual(proc.wait(10), 0)
            with open(counts) as f:
                summary = json.load(f)
            self.assertEqual({k: v for k, v in summary.items() if k != 'arrivals'},
                             {'deliveries': 4, 'verified': 3, 'bad': 1, 'ids': 3})
            self.assertEqual(sorted(summary['arrivals']), ['id0', 'id1', 'id2'])
            self.assertLessEqual(summary['arrivals']['id0'], summary['arrivals']['id1'])
            self.assertAlmostEqual(summary['arrivals']['id0'], t0, delta=5)

        # The port asked for is the one it takes; no --count-file, no --print: nothing but the first line.
        with socket.socket() as s:
            s.bind(('127.0.0.1', 0))
            free = s.getsockname()[1]
        proc = start('--port', str(free), '--secret', secret)
        self.assertEqual(proc.stdout.readline(), f'listening on 127.0.0.1:{free}\n')
        at = types.SimpleNamespace(base=f'http://127.0.0.1:{free}', port=free)
        self.assertEqual(_post(at, body, _signed(secret, body))[0], 200)
        proc.send_signal(signal.SIGINT)
        self.assertEqual(proc.wait(10), 0)
        self.assertEqual(proc.stdout.read(), '')

    def test_stop(self):
        body = b'{}'
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        self.addCleanup(conn.close)
        _post(self.srv, body, _signed(self.srv.secret, body), conn=conn)
        self.srv.stop()
        self.srv.stop()
        self.assertEqual(conn.sock.recv(10), b'')
        with self.assertRaises(RuntimeError):
            self.srv.up()
        deadline = time.monotonic() + 1
        while len(threading.enumerate()) > 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual([t.name for t in threading.enumerate()], ['MainThread'])


if __name__ == '__main__':
    if '--serve' in sys.argv[1:]:
        _serve(sys.argv[1:])
    else:
        if not shutil.which('curl'):
            raise SystemExit('the self-test needs the curl CLI: apt-get install curl')
        unittest.main(verbosity=2)
