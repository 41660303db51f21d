# SPDX-License-Identifier: GPL-3.0-or-later
"""An HTTP(S) server on 127.0.0.1 whose answer for each path the test
scripts: a feed with validators (ETag, Last-Modified, 304s), failures,
hangs, truncated bodies, redirects, auth checks and JSON paging, plus big
bodies streamed without holding them in memory. It runs in a background
thread from construction to stop(), and records every request it gets.

    srv = FeedServer()                       # or FeedServer(tls=True), see below
    srv.serve('/a.csv', body=b'...', etag='"v1"')
    ... point the daemon at srv.url('/a.csv'), let it poll ...
    srv.wait_requests('/a.csv', 2)           # the two polls, with their headers
    srv.fail('/a.csv', status=503)           # replaces the behaviour for later polls
    srv.stop()

Every behaviour method replaces whatever the path did before, so a test can
serve v1, then fail, then serve v2 between polls. Paths are matched without
the query string; a path with no behaviour answers 404. Only GET is served
(other methods get http.server's 501 and are not recorded). srv.requests
lists every GET as Request(method, path, headers), path with its query.

With tls=True the server speaks only HTTPS, with a certificate for
127.0.0.1 and localhost signed by a throwaway CA (srv.ca_file) made with
the openssl CLI. With client_ca=True as well it also demands a client
certificate from that CA, and srv.client_cert / srv.client_key are one.

Run this file to test the server itself against urllib, http.client and
the curl CLI."""

import base64
import collections
import email.utils
import http.client
import http.server
import json
import mimetypes
import os
import resource
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

import loopback

Request = collections.namedtuple('Request', 'method path headers')
Request.__doc__ = """One request: method, the path with its query string, and the headers
(an http.client.HTTPMessage: case-insensitive, .get() returns None when absent)."""


class FeedServer:

    def __init__(self, tls=False, client_ca=False):
        if client_ca and not tls:
            raise ValueError('client_ca needs tls')
        self._behaviours = {}
        self._requests = []
        self._cond = threading.Condition()
        self._tmp = None
        self.ca_file = self.client_cert = self.client_key = None
        context = None
        if tls:
            self._tmp = tempfile.TemporaryDirectory(prefix='feedserver-')
            context = self._make_tls_context(self._tmp.name, client_ca)
        self._server = _Server(self, context)
        self.port = self._server.server_address[1]
        self.base = f'{"https" if tls else "http"}://127.0.0.1:{self.port}'
        # A short poll interval keeps stop() quick: shutdown() waits for the loop to notice.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={'poll_interval': 0.05},
                                        name=f'feedserver:{self.port}', daemon=True)
        self._thread.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def url(self, path):
        """The absolute URL of path (which starts with /) on this server."""
        return self.base + path

    # Behaviours. Each replaces what the path did before.

    def set_behaviour(self, path, handler):
        """Answers requests for path with handler(req), req being the
        http.server.BaseHTTPRequestHandler of the request, with
        req.respond(status, body=None, headers=()) for a complete small
        response and req.server.stopping, an Event set by stop() that
        anything waiting must give up on. The building block of the rest."""
        with self._cond:
            self._behaviours[path] = handler

    def serve(self, path, body=b'', *, body_file=None, length=None, etag=None, last_modified=None,
              content_type=None, headers=None, bearer=None, basic=None, chunk_size=65536, delay=0.0):
        """200 with body, which is bytes, str (sent as UTF-8), or a callable
        returning an iterable of bytes, called afresh for each request and sent
        as it comes: with Content-Length if length is given, chunked otherwise.
        body_file=PATH streams that file instead, with its size as
        Content-Length. etag and last_modified (an HTTP date string) are sent
        as ETag and Last-Modified, and a request whose If-None-Match matches
        etag (or, without If-None-Match, whose If-Modified-Since is not older
        than last_modified) gets 304 with no body. content_type defaults to a
        guess from the path's extension. headers: extra (name, value) pairs or
        a dict. bearer='TOKEN' or basic='USER:PASSWORD': anything but that
        Authorization gets 401. The body goes out in chunk_size pieces with
        delay seconds between them, for slow servers."""
        if content_type is None:
            content_type = mimetypes.guess_type(path)[0] or 'application/octet-stream'
        extra = list(headers.items() if isinstance(headers, dict) else headers or ())
        if isinstance(body, str):
            body = body.encode()

        def handle(req):
            if not req.authorized(bearer, basic):
                return
            validators = [('ETag', etag)] if etag else []
            if last_modified:
                validators.append(('Last-Modified', last_modified))
            if req.not_modified(etag, last_modified):
                req.respond(304, None, validators)
                return
            if body_file is not None:
                size, chunks = os.path.getsize(body_file), _file_chunks(body_file, chunk_size)
            elif callable(body):
                size, chunks = length, body()
            else:
                view = memoryview(body)
                size, chunks = len(body), (view[i:i + chunk_size] for i in range(0, len(body), chunk_size))
            req.send_response(200)
            for name, value in [('Content-Type', content_type)] + validators + extra:
                req.send_header(name, value)
            if size is None:
                req.send_header('Transfer-Encoding', 'chunked')
            else:
                req.send_header('Content-Length', str(size))
            req.end_headers()
            req.send_body(chunks, chunked=size is None, delay=delay)

        self.set_behaviour(path, handle)

    def fail(self, path, status=500, body=None, headers=None):
        """Always answers status, with a one-line body unless body is given;
        headers as for serve(), e.g. {'Retry-After': '120'}."""
        if body is None:
            body = f'{status} {http.HTTPStatus(status).phrase}\n'
        extra = list(headers.items() if isinstance(headers, dict) else headers or ())
        self.set_behaviour(path, lambda req: req.respond(status, body, extra))

    def hang(self, path):
        """Reads the request, then sends nothing at all until the server stops."""
        def handle(req):
            req.close_connection = True
            req.server.stopping.wait()
        self.set_behaviour(path, handle)

    def truncate(self, path, body, cut, content_type=None):
        """Promises len(body) bytes in Content-Length, sends body[:cut] and closes the connection."""
        if isinstance(body, str):
            body = body.encode()
        if content_type is None:
            content_type = mimetypes.guess_type(path)[0] or 'application/octet-stream'

        def handle(req):
            req.send_response(200)
            req.send_header('Content-Type', content_type)
            req.send_header('Content-Length', str(len(body)))
            req.end_headers()
            req.wfile.write(body[:cut])
            req.close_connection = True
        self.set_behaviour(path, handle)

    def redirect(self, path, location, status=302):
        """Answers status (302 by default) with Location: location, sent as given."""
        self.set_behaviour(path, lambda req: req.respond(status, b'', [('Location', location)]))

    def pages(self, path, pages, *, style='cursor', cursor_key='next', param='cursor', next_as='url',
              omit_last=False, bearer=None, basic=None):
        """Serves the JSON documents in pages one after another, the first at
        path itself (whatever its query string).

        style='cursor': page n (1-based) is also at path?PARAM=tN, and each
        page is json.dumps(pages[n-1]) with the key cursor_key (a dot path
        such as 'meta.next': missing objects are created) set to the next
        page: with next_as='url' its full URL, srv.url(path + '?cursor=t2') =
        'http://127.0.0.1:PORT/p.json?cursor=t2' on the first page; with
        next_as='token' just 't2', for a client that adds ?PARAM=t2 to the
        URL itself. The last page has
        cursor_key null, or no such key at all with omit_last=True. Other
        query parameters are ignored; an unknown cursor gets 400. The pages
        must be JSON objects.

        style='link': page n is also at path?page=N; the body is the page
        unchanged, and every page but the last has the header
        Link: <http://127.0.0.1:PORT/p.json?page=N+1>; rel="next"
        (srv.url(path + '?page=N+1') between the angle brackets).

        bearer and basic as for serve()."""
        if style not in ('cursor', 'link'):
            raise ValueError(f'unknown paging style {style!r}')
        if next_as not in ('url', 'token'):
            raise ValueError(f'next_as must be url or token, not {next_as!r}')
        bodies = []
        for n, page in enumerate(pages, 1):
            if style == 'cursor':
                # A copy, so the caller's objects stay as they were.
                page = json.loads(json.dumps(page))
                *parents, key = cursor_key.split('.')
                holder = page
                for p in parents:
                    holder = holder.setdefault(p, {})
                if n < len(pages):
                    holder[key] = f't{n + 1}' if next_as == 'token' else self.url(f'{path}?{param}=t{n + 1}')
                elif not omit_last:
                    holder[key] = None
            bodies.append(json.dumps(page).encode())
        query_key, token = (param, 't{}'.format) if style == 'cursor' else ('page', str)

        def handle(req):
            if not req.authorized(bearer, basic):
                return
            values = urllib.parse.parse_qs(urllib.parse.urlsplit(req.path).query).get(query_key)
            if not values:
                n = 1
            else:
                n = next((i for i in range(1, len(bodies) + 1) if token(i) == values[-1]), None)
                if n is None:
                    req.respond(400, f'unknown {query_key} {values[-1]!r}\n')
                    return
            extra = [('Content-Type', 'application/json')]
            if style == 'link' and n < len(bodies):
                extra.append(('Link', f'<{self.url(f"{path}?page={n + 1}")}>; rel="next"'))
            req.respond(200, bodies[n - 1], extra)
        self.set_behaviour(path, handle)

    # What the server saw.

    @property
    def requests(self):
        """A copy of the list of every Request received so far, oldest first."""
        with self._cond:
            return list(self._requests)

    def wait_requests(self, path, count=1, timeout=30):
        """Waits until count requests for path (query string ignored) have
        arrived; returns all of them so far. AssertionError on timeout."""
        def matching():
            return [r for r in self._requests if urllib.parse.urlsplit(r.path).path == path]
        with self._cond:
            if not self._cond.wait_for(lambda: len(matching()) >= count, timeout):
                raise AssertionError(f'{len(matching())} of {count} requests for {path} within {timeout}s')
            return matching()

    def stop(self):
        """Stops serving and drops every open connection, hanging ones included."""
        if self._server.stopping.is_set():
            return
        self._server.stopping.set()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        self._thread.join()
        if self._tmp:
            self._tmp.cleanup()

    # Internals.

    def _record(self, req):
        with self._cond:
            self._requests.append(Request(req.command, req.path, req.headers))
            self._cond.notify_all()

    def _behaviour(self, path):
        with self._cond:
            return self._behaviours.get(path)

    def _make_tls_context(self, directory, client_ca):
        files = loopback.make_certificates(directory, client=client_ca)
        self.ca_file = files['ca']
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(files['server'], files['server_key'])
        if client_ca:
            self.client_cert, self.client_key = files['client'], files['client_key']
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(self.ca_file)
        return context


def _file_chunks(path, size):
    with open(path, 'rb') as f:
        while chunk := f.read(size):
            yield chunk


class _Server(loopback.ThreadingServer):

    def __init__(self, feed, context):
        self.feed = feed
        super().__init__(('127.0.0.1', 0), _Handler, context)


class _Handler(http.server.BaseHTTPRequestHandler):
    # HTTP/1.1 for keep-alive and chunked bodies, as a real feed server has.
    protocol_version = 'HTTP/1.1'
    server_version = 'feedserver'

    def do_GET(self):
        self.server.feed._record(self)
        handler = self.server.feed._behaviour(urllib.parse.urlsplit(self.path).path)
        if handler is None:
            self.respond(404)
        else:
            handler(self)

    def log_message(self, format, *args):
        # srv.requests is the log; a line per request on stderr would bury the test's output.
        pass

    def respond(self, status, body=None, headers=()):
        """A complete response. body None: a one-line default, or none at all for 304."""
        if body is None:
            body = b'' if status == 304 else f'{status} {http.HTTPStatus(status).phrase}\n'
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_body(self, chunks, chunked, delay):
        for i, chunk in enumerate(chunks):
            if not chunk:
                # An empty chunk would end a chunked body early.
                continue
            if i and delay and self.server.stopping.wait(delay):
                self.close_connection = True
                return
            # One write per chunk: separate small writes meet Nagle and delayed ACKs.
            self.wfile.write(b''.join((b'%x\r\n' % len(chunk), chunk, b'\r\n')) if chunked else chunk)
        if chunked:
            self.wfile.write(b'0\r\n\r\n')

    def authorized(self, bearer, basic):
        """True if the request carries the Authorization wanted (or none is); else answers 401."""
        if bearer is None and basic is None:
            return True
        got = self.headers.get('Authorization')
        if bearer is not None and got == f'Bearer {bearer}':
            return True
        if basic is not None and got == 'Basic ' + base64.b64encode(basic.encode()).decode():
            return True
        challenge = 'Bearer' if bearer is not None else 'Basic realm="feed"'
        self.respond(401, None, [('WWW-Authenticate', challenge)])
        return False

    def not_modified(self, etag, last_modified):
        """Whether the request's validators say the client has this version (RFC 9110 13.1)."""
        if_none_match = self.headers.get('If-None-Match')
        if if_none_match is not None:
            # Weak comparison, and If-Modified-Since is ignored when If-None-Match is present.
            tags = [t.strip().removeprefix('W/') for t in if_none_match.split(',')]
            return etag is not None and ('*' in tags or etag.removeprefix('W/') in tags)
        if_modified_since = self.headers.get('If-Modified-Since')
        if if_modified_since is None or last_modified is None:
            return False
        try:
            return email.utils.parsedate_to_datetime(if_modified_since) >= \
                email.utils.parsedate_to_datetime(last_modified)
        except (TypeError, ValueError):
            # Unparseable, or one with a time zone and one without: not a match.
            return False


# The self-test: python3 feedserver.py


def _get(srv, path, headers=None, context=None, timeout=10):
    """(status, headers, body) of one GET, any status, on a fresh connection."""
    if srv.base.startswith('https'):
        conn = http.client.HTTPSConnection('127.0.0.1', srv.port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection('127.0.0.1', srv.port, timeout=timeout)
    try:
        conn.request('GET', path, headers=headers or {})
        r = conn.getresponse()
        return r.status, r.headers, r.read()
    finally:
        conn.close()


class _SelfTest(unittest.TestCase):

    def setUp(self):
        self.srv = FeedServer()
        self.addCleanup(self.srv.stop)

    def test_validators(self):
        lm = 'Wed, 21 Oct 2026 07:28:00 GMT'
        self.srv.serve('/a.csv', body='id;v\n1;2\n', etag='"v1"', last_modified=lm)
        status, h, body = _get(self.srv, '/a.csv')
        self.assertEqual((status, h['ETag'], h['Last-Modified'], h['Content-Type'], body),
                         (200, '"v1"', lm, 'text/csv', b'id;v\n1;2\n'))
        self.assertEqual(_get(self.srv, '/a.csv', {'If-None-Match': '"v1"'})[::2], (304, b''))
        self.assertEqual(_get(self.srv, '/a.csv', {'If-None-Match': '"v0", W/"v1"'})[0], 304)
        self.assertEqual(_get(self.srv, '/a.csv', {'If-None-Match': '"v0"'})[0], 200)
        # If-None-Match wins over If-Modified-Since.
        self.assertEqual(_get(self.srv, '/a.csv', {'If-None-Match': '"v0"', 'If-Modified-Since': lm})[0], 200)
        self.assertEqual(_get(self.srv, '/a.csv', {'If-Modified-Since': lm})[0], 304)
        self.assertEqual(_get(self.srv, '/a.csv', {'If-Modified-Since': 'Thu, 22 Oct 2026 00:00:00 GMT'})[0], 304)
        self.assertEqual(_get(self.srv, '/a.csv', {'If-Modified-Since': 'Tue, 20 Oct 2026 07:28:00 GMT'})[0], 200)
        self.assertEqual(_get(self.srv, '/a.csv', {'If-Modified-Since': 'garbage'})[0], 200)
        reqs = self.srv.wait_requests('/a.csv', 9)
        self.assertIsNone(reqs[0].headers['If-None-Match'])
        self.assertEqual(reqs[1].headers['if-none-match'], '"v1"')
        self.assertEqual((reqs[1].method, reqs[1].path), ('GET', '/a.csv'))

    def test_behaviour_changes_between_polls(self):
        self.srv.serve('/a.csv', body=b'v1')
        self.assertEqual(_get(self.srv, '/a.csv')[::2], (200, b'v1'))
        self.srv.fail('/a.csv', status=503, headers={'Retry-After': '7'})
        status, h, body = _get(self.srv, '/a.csv')
        self.assertEqual((status, h['Retry-After'], body), (503, '7', b'503 Service Unavailable\n'))
        self.srv.serve('/a.csv', body=b'v2')
        self.assertEqual(_get(self.srv, '/a.csv')[::2], (200, b'v2'))
        self.assertEqual(_get(self.srv, '/nothing-here')[0], 404)
        self.assertEqual([r.path for r in self.srv.requests], ['/a.csv'] * 3 + ['/nothing-here'])

    def test_keep_alive(self):
        # Several requests on one connection, as libcurl's connection reuse does.
        self.srv.serve('/a.csv', body=b'x' * 100000, etag='"e"')
        self.srv.serve('/b.csv', body=lambda: iter([b'ab', b'', b'cd']))
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        for path, headers, want in [('/a.csv', {}, b'x' * 100000), ('/a.csv', {'If-None-Match': '"e"'}, b''),
                                    ('/b.csv', {}, b'abcd'), ('/nope', {}, b'404 Not Found\n')]:
            conn.request('GET', path, headers=headers)
            self.assertEqual(conn.getresponse().read(), want)
        conn.close()

    def test_hang_and_prompt_stop(self):
        self.srv.hang('/c.csv')
        with self.assertRaises(TimeoutError):
            _get(self.srv, '/c.csv', timeout=0.5)
        # A client still waiting, and an idle keep-alive connection: stop() drops both at once.
        waiting = socket.create_connection(('127.0.0.1', self.srv.port))
        waiting.sendall(b'GET /c.csv HTTP/1.1\r\nHost: x\r\n\r\n')
        self.srv.serve('/a.csv', body=b'a')
        idle = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        idle.request('GET', '/a.csv')
        idle.getresponse().read()
        self.srv.wait_requests('/c.csv', 2)
        t = time.monotonic()
        self.srv.stop()
        self.assertLess(time.monotonic() - t, 1)
        waiting.settimeout(5)
        self.assertEqual(waiting.recv(100), b'')
        self.assertEqual(idle.sock.recv(100), b'')
        waiting.close()
        idle.close()
        self.assertFalse(self.srv._thread.is_alive())
        # The connections' threads end on their own once their sockets are shut down.
        deadline = time.monotonic() + 1
        while any('process_request' in t.name for t in threading.enumerate()) and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertEqual([t.name for t in threading.enumerate()], ['MainThread'])

    def test_truncate(self):
        self.srv.truncate('/d.csv', body=b'0123456789' * 20, cut=100)
        conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=10)
        conn.request('GET', '/d.csv')
        r = conn.getresponse()
        self.assertEqual(r.headers['Content-Length'], '200')
        with self.assertRaises(http.client.IncompleteRead) as cm:
            r.read()
        self.assertEqual(len(cm.exception.partial), 100)
        conn.close()
        p = subprocess.run(['curl', '-sS', '-o', '/dev/null', self.srv.url('/d.csv')], capture_output=True, text=True)
        self.assertEqual(p.returncode, 18, p.stderr)  # CURLE_PARTIAL_FILE

    def test_redirect(self):
        self.srv.serve('/real.csv', body=b'real')
        self.srv.redirect('/r.csv', location=self.srv.url('/real.csv'))
        status, h, _ = _get(self.srv, '/r.csv')
        self.assertEqual((status, h['Location']), (302, self.srv.url('/real.csv')))
        with urllib.request.urlopen(self.srv.url('/r.csv'), timeout=10) as r:
            self.assertEqual(r.read(), b'real')

    def test_auth(self):
        self.srv.serve('/b.csv', body=b'secret', bearer='tok')
        status, h, _ = _get(self.srv, '/b.csv')
        self.assertEqual((status, h['WWW-Authenticate']), (401, 'Bearer'))
        self.assertEqual(_get(self.srv, '/b.csv', {'Authorization': 'Bearer nope'})[0], 401)
        self.assertEqual(_get(self.srv, '/b.csv', {'Authorization': 'Bearer tok'})[::2], (200, b'secret'))
        self.srv.serve('/u.csv', body=b'secret', basic='user:pa:ss')
        self.assertEqual(_get(self.srv, '/u.csv')[0], 401)
        good = 'Basic ' + base64.b64encode(b'user:pa:ss').decode()
        self.assertEqual(_get(self.srv, '/u.csv', {'Authorization': good})[::2], (200, b'secret'))

    def follow(self, url, key=None, param=None):
        """Walks a paged feed from url the way a client would; returns the bodies."""
        seen = []
        while url and len(seen) < 10:
            with urllib.request.urlopen(url, timeout=10) as r:
                doc = json.load(r)
                link = r.headers['Link']
            seen.append(doc)
            if key is None:
                url = link and link[1:link.index('>')]
            else:
                for k in key.split('.'):
                    doc = doc.get(k) if doc else None
                url = doc and (self.srv.url(f'/p.json?x=1&{param}={doc}') if param else doc)
        return seen

    def test_pages_cursor(self):
        self.srv.pages('/p.json', [{'items': [1]}, {'items': [2]}, {'items': [3]}])
        got = self.follow(self.srv.url('/p.json'), 'next')
        self.assertEqual(got, [{'items': [1], 'next': self.srv.url('/p.json?cursor=t2')},
                               {'items': [2], 'next': self.srv.url('/p.json?cursor=t3')},
                               {'items': [3], 'next': None}])
        self.assertEqual([r.path for r in self.srv.requests], ['/p.json', '/p.json?cursor=t2', '/p.json?cursor=t3'])
        self.assertEqual(_get(self.srv, '/p.json?cursor=t9')[0], 400)

        pages = [{'data': [1], 'meta': {'total': 2}}, {'data': [2]}]
        self.srv.pages('/p.json', pages, cursor_key='meta.after', param='after', next_as='token', omit_last=True)
        got = self.follow(self.srv.url('/p.json?x=1'), 'meta.after', param='after')
        self.assertEqual(got, [{'data': [1], 'meta': {'total': 2, 'after': 't2'}}, {'data': [2], 'meta': {}}])
        self.assertEqual(pages[0], {'data': [1], 'meta': {'total': 2}})

    def test_pages_link(self):
        self.srv.pages('/p.json', [[1], [2], [3]], style='link', bearer='tok')
        self.assertEqual(_get(self.srv, '/p.json')[0], 401)
        status, h, body = _get(self.srv, '/p.json?page=2', {'Authorization': 'Bearer tok'})
        self.assertEqual((status, h['Link'], json.loads(body)),
                         (200, f'<{self.srv.url("/p.json?page=3")}>; rel="next"', [2]))
        self.srv.pages('/p.json', [[1], [2], [3]], style='link')
        self.assertEqual(self.follow(self.srv.url('/p.json')), [[1], [2], [3]])

    def test_big_bodies_stream(self):
        mib = 1 << 20
        block = b'x' * mib
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.srv.serve('/big.csv', body=lambda: (block for _ in range(256)), length=256 * mib)
        self.srv.serve('/chunked.csv', body=lambda: (block for _ in range(64)))
        for path, total in [('/big.csv', 256 * mib), ('/chunked.csv', 64 * mib)]:
            conn = http.client.HTTPConnection('127.0.0.1', self.srv.port, timeout=30)
            conn.request('GET', path)
            r = conn.getresponse()
            self.assertEqual(r.headers['Content-Length'], str(total) if path == '/big.csv' else None)
            n = 0
            while data := r.read(mib):
                n += len(data)
            self.assertEqual(n, total)
            conn.close()
        # ru_maxrss is in KiB: neither side held the 256 MiB.
        self.assertLess(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before, 64 * 1024)

        with tempfile.NamedTemporaryFile() as f:
            f.write(b'0123456789' * 100000)
            f.flush()
            self.srv.serve('/file.csv', body_file=f.name, etag='"f"')
            status, h, body = _get(self.srv, '/file.csv')
            self.assertEqual((status, h['Content-Length'], body), (200, '1000000', b'0123456789' * 100000))

    def test_slow(self):
        self.srv.serve('/slow.csv', body=b'abcdef', chunk_size=2, delay=0.2)
        t = time.monotonic()
        self.assertEqual(_get(self.srv, '/slow.csv')[2], b'abcdef')
        self.assertGreaterEqual(time.monotonic() - t, 0.4)


class _SelfTestTLS(unittest.TestCase):

    def curl(self, srv, *args):
        return subprocess.run(['curl', '-sS', '--cacert', srv.ca_file, *args, srv.url('/a.csv')],
                              capture_output=True, text=True)

    def test_https(self):
        with FeedServer(tls=True) as srv:
            srv.serve('/a.csv', body=b'tls')
            self.assertTrue(srv.url('/a.csv').startswith('https://127.0.0.1:'))
            ctx = ssl.create_default_context(cafile=srv.ca_file)
            with urllib.request.urlopen(srv.url('/a.csv'), context=ctx, timeout=10) as r:
                self.assertEqual(r.read(), b'tls')
            with urllib.request.urlopen(f'https://localhost:{srv.port}/a.csv', context=ctx, timeout=10) as r:
                self.assertEqual(r.read(), b'tls')
            with self.assertRaises(urllib.error.URLError):
                urllib.request.urlopen(srv.url('/a.csv'), context=ssl.create_default_context(), timeout=10)
            p = self.curl(srv)
            self.assertEqual((p.returncode, p.stdout), (0, 'tls'), p.stderr)
            # A client that connects and never says hello holds up nobody.
            stalled = socket.create_connection(('127.0.0.1', srv.port))
            self.assertEqual(self.curl(srv).stdout, 'tls')
            self.assertIsNone(srv.client_cert)
            ca_dir = os.path.dirname(srv.ca_file)
        stalled.close()
        self.assertFalse(os.path.exists(ca_dir))

    def test_client_certificate(self):
        with FeedServer(tls=True, client_ca=True) as srv:
            srv.serve('/a.csv', body=b'mtls')
            ctx = ssl.create_default_context(cafile=srv.ca_file)
            with self.assertRaises((ssl.SSLError, ConnectionError)):
                _get(srv, '/a.csv', context=ctx)
            ctx.load_cert_chain(srv.client_cert, srv.client_key)
            self.assertEqual(_get(srv, '/a.csv', context=ctx)[::2], (200, b'mtls'))
            p = self.curl(srv)
            self.assertNotEqual(p.returncode, 0)
            p = self.curl(srv, '--cert', srv.client_cert, '--key', srv.client_key)
            self.assertEqual((p.returncode, p.stdout), (0, 'mtls'), p.stderr)
            self.assertEqual(len(srv.requests), 2)


if __name__ == '__main__':
    if not shutil.which('curl'):
        raise SystemExit('the self-test needs the curl CLI: apt-get install curl')
    unittest.main(verbosity=2)
