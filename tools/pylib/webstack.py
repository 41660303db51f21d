# SPDX-License-Identifier: GPL-3.0-or-later
"""bokvar-web as systemd runs it, for the tests, the demo and the benchmark:
a listening socket held by a stand-in for systemd that starts bokvar-web
on the first connection (and again after it exits for want of work), and
HTTP over that socket."""

import http.client
import os
import select
import socket
import subprocess
import sys
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
                with self._lock:
                    self.starts += 1
                    self.proc = subprocess.Popen(
                        [sys.executable, '-c', LAUNCH, str(self.sock.fileno()), *self.argv],
                        pass_fds=(self.sock.fileno(),), env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def start_now(self):
        """Starts the service without waiting for a connection."""
        with self._lock:
            if not self.proc:
                self.starts += 1
                self.proc = subprocess.Popen(
                    [sys.executable, '-c', LAUNCH, str(self.sock.fileno()), *self.argv],
                    pass_fds=(self.sock.fileno(),), env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

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
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        self._stop = True
        self._thread.join()
        with self._lock:
            if self.proc and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            if self.proc:
                self.exits.append(self.proc.returncode)
                self.proc = None
        self.sock.close()
        if isinstance(self.address, str) and os.path.exists(self.address):
            os.unlink(self.address)
        if self.log is not subprocess.DEVNULL:
            self.log.close()
