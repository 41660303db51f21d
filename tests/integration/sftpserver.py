# SPDX-License-Identifier: GPL-3.0-or-later
"""A real OpenSSH sshd on 127.0.0.1 serving SFTP (internal-sftp) to the
current user with a key, everything it needs in a temporary directory.

    srv = SftpServer()
    srv.write('a.csv', b'id;v\\n1;2\\n')
    ... point the daemon at srv.url('a.csv') with srv.client_key and srv.known_hosts ...
    srv.stop()

srv.known_hosts holds the one line '[127.0.0.1]:PORT ssh-ed25519 AAAA...'
for the server's host key; srv.wrong_known_hosts the same line with a key
the server does not have, which a client must refuse. Debian 12's libcurl
(7.88, libssh2 1.10) verifies ed25519 host keys against such a file, so
that is the default; key_type='ecdsa' or 'rsa' gives host and client keys
of that type instead. libssh2 1.10 signs and verifies RSA keys only with
SHA-1 ('ssh-rsa'), which OpenSSH has refused by default since 8.8, for host
keys and client keys alike: with key_type='rsa' this sshd accepts ssh-rsa
again, as an old server would; without that, libcurl fails with 'Unable to
exchange encryption keys' (host key) or 'Authentication failure' (client key).

Runs as root (sshd then needs its privilege separation directory, /run/sshd,
which is created if missing) and as an ordinary user, who can then only
log in as themselves, which is all this does. Stopping ends the listening
sshd; a session still open ends when its client disconnects.

Run this file to test the server itself with the curl CLI."""

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import unittest
import unittest.mock
import urllib.parse

SSHD = '/usr/sbin/sshd'


class SftpServer:
    """Started on construction. srv.port, srv.user; srv.root, the directory
    served (srv.url() and srv.write() take names relative to it);
    srv.client_key and srv.client_pubkey, the client's key pair (the
    private key unencrypted, OpenSSH format); srv.known_hosts and
    srv.wrong_known_hosts; srv.log() for sshd's own account of things."""

    def __init__(self, key_type='ed25519', timeout=30):
        self._tmp = tempfile.TemporaryDirectory(prefix='sftpserver-')
        self._proc = None
        try:
            self._start(self._tmp.name, key_type, timeout)
        except BaseException:
            self.stop()
            raise

    def _start(self, d, key_type, timeout):
        self.user = pwd.getpwuid(os.getuid()).pw_name
        self.root = os.path.join(d, 'root')
        os.mkdir(self.root)
        host_key = _keygen(os.path.join(d, 'host_key'), key_type)
        self.client_key = _keygen(os.path.join(d, 'client_key'), key_type)
        self.client_pubkey = self.client_key + '.pub'
        wrong_host_key = _keygen(os.path.join(d, 'wrong_host_key'), key_type)
        authorized_keys = os.path.join(d, 'authorized_keys')
        shutil.copyfile(self.client_pubkey, authorized_keys)
        if os.geteuid() == 0:
            # As root, sshd insists on its privilege separation directory,
            # which a container that never started the ssh service lacks.
            os.makedirs('/run/sshd', mode=0o755, exist_ok=True)
        self.log_path = os.path.join(d, 'sshd.log')
        config = os.path.join(d, 'sshd_config')
        # The free port is found by binding and releasing it, so another
        # process can take it before sshd does: then try another.
        for _ in range(5):
            self.port = _free_port()
            with open(config, 'w') as f:
                f.write(_sshd_config(self.port, d, host_key, authorized_keys, key_type))
            log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
            with open(self.log_path, 'a') as log:
                # An absolute path: sshd re-executes itself for each connection.
                self._proc = subprocess.Popen([SSHD, '-D', '-e', '-f', config],
                                              stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
            if self._wait_ready(timeout, log_start):
                break
        else:
            raise RuntimeError(f'sshd found no free port:\n{self.log()}')
        self.known_hosts = self._known_hosts('known_hosts', host_key)
        self.wrong_known_hosts = self._known_hosts('wrong_known_hosts', wrong_host_key)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def url(self, name):
        """sftp://USER@127.0.0.1:PORT/ + the absolute path of name under srv.root."""
        path = urllib.parse.quote(os.path.join(self.root, name))
        return f'sftp://{urllib.parse.quote(self.user)}@127.0.0.1:{self.port}{path}'

    def write(self, name, data):
        """Writes data (bytes or str) to name under srv.root, making directories; returns the path."""
        path = os.path.join(self.root, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, 'wb' if isinstance(data, bytes) else 'w') as f:
            f.write(data)
        return path

    def log(self):
        """What sshd said so far: connections, authentications, errors."""
        with open(self.log_path) as f:
            return f.read()

    def stop(self):
        """Ends sshd and removes the temporary directory."""
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._tmp.cleanup()

    def _wait_ready(self, timeout, log_start):
        """True once sshd answers with its banner; False if the port was
        taken; raises if sshd failed otherwise. log_start: where this
        attempt's part of the log begins."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                if 'Address already in use' in self.log()[log_start:]:
                    return False
                raise RuntimeError(f'sshd exited with {self._proc.returncode}:\n{self.log()}')
            try:
                # The banner, not just a connection: the port must be this sshd's.
                with socket.create_connection(('127.0.0.1', self.port), timeout=1) as s:
                    if s.recv(8).startswith(b'SSH-2.0-'):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        self._proc.kill()
        self._proc.wait()
        raise RuntimeError(f'sshd not answering on port {self.port} within {timeout}s:\n{self.log()}')

    def _known_hosts(self, name, host_key):
        with open(host_key + '.pub') as f:
            key_type, key = f.read().split()[:2]
        path = os.path.join(self._tmp.name, name)
        with open(path, 'w') as f:
            f.write(f'[127.0.0.1]:{self.port} {key_type} {key}\n')
        return path


def _sshd_config(port, directory, host_key, authorized_keys, key_type):
    config = (f'ListenAddress 127.0.0.1\n'
              f'Port {port}\n'
              f'HostKey {host_key}\n'
              f'PidFile {directory}/sshd.pid\n'
              f'AuthorizedKeysFile {authorized_keys}\n'
              'PubkeyAuthentication yes\n'
              'PasswordAuthentication no\n'
              'KbdInteractiveAuthentication no\n'
              'PermitRootLogin prohibit-password\n'
              # The temporary directory and its files are not laid out the
              # way StrictModes wants a home to be.
              'StrictModes no\n'
              # PAM's session modules (pam_loginuid) fail in containers.
              # Without PAM, sshd itself refuses an account whose shadow
              # password it can read and that starts with '!' (locked): root
              # in Debian's images has '*', and an ordinary user's sshd
              # cannot read /etc/shadow, but nss-systemd's 'nobody' is locked.
              'UsePAM no\n'
              'Subsystem sftp internal-sftp\n'
              'AllowTcpForwarding no\n'
              'X11Forwarding no\n'
              'PermitTTY no\n'
              # Tests may open many connections at once; by default sshd
              # starts dropping them at 10 unauthenticated.
              'MaxStartups 100\n'
              'LogLevel VERBOSE\n')
    if key_type == 'rsa':
        # For libssh2 1.10: see the module's docstring.
        config += 'HostKeyAlgorithms +ssh-rsa\nPubkeyAcceptedAlgorithms +ssh-rsa\n'
    return config


def _keygen(path, key_type):
    """A new key pair without a passphrase at path and path.pub; returns path."""
    subprocess.run(['ssh-keygen', '-q', '-t', key_type, '-N', '', '-C', os.path.basename(path), '-f', path],
                   check=True, stdin=subprocess.DEVNULL)
    return path


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


# The self-test: python3 sftpserver.py

def _curl(url, key, known_hosts):
    """Runs the curl CLI on url. It has no option for a known_hosts file and
    reads $HOME/.ssh/known_hosts, so HOME is a directory of its own."""
    with tempfile.TemporaryDirectory(prefix='sftpserver-test-') as home:
        os.mkdir(os.path.join(home, '.ssh'))
        shutil.copyfile(known_hosts, os.path.join(home, '.ssh', 'known_hosts'))
        env = {k: v for k, v in os.environ.items() if k not in ('CURL_HOME', 'XDG_CONFIG_HOME')}
        env['HOME'] = home
        return subprocess.run(['curl', '-sS', '--key', key, url], capture_output=True, env=env, timeout=60)


class _SelfTest(unittest.TestCase):
    key_type = 'ed25519'

    @classmethod
    def setUpClass(cls):
        cls.srv = SftpServer(cls.key_type)

    @classmethod
    def tearDownClass(cls):
        cls.srv.stop()

    def curl(self, url, known_hosts=None, key=None):
        return _curl(url, key or self.srv.client_key, known_hosts or self.srv.known_hosts)

    def test_download(self):
        data = os.urandom(3 << 20)
        self.srv.write('sub/dir/feed data.csv', data)
        url = self.srv.url('sub/dir/feed data.csv')
        srv = self.srv
        self.assertEqual(url, f'sftp://{srv.user}@127.0.0.1:{srv.port}{srv.root}/sub/dir/feed%20data.csv')
        p = self.curl(url)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, data)
        p = self.curl(self.srv.url('sub/dir/'))
        self.assertIn(b'feed data.csv', p.stdout)

    def test_known_hosts_lines(self):
        for path in (self.srv.known_hosts, self.srv.wrong_known_hosts):
            with open(path) as f:
                self.assertRegex(f.read(), rf'^\[127\.0\.0\.1\]:{self.srv.port} (ssh-|ecdsa-)\S+ AAAA\S+\n$')

    def test_wrong_host_key_refused(self):
        self.srv.write('a.csv', b'secret\n')
        p = self.curl(self.srv.url('a.csv'), known_hosts=self.srv.wrong_known_hosts)
        self.assertEqual(p.returncode, 60, p.stderr)  # CURLE_PEER_FAILED_VERIFICATION
        self.assertEqual(p.stdout, b'')

    def test_unknown_client_key_refused(self):
        self.srv.write('a.csv', b'secret\n')
        with tempfile.TemporaryDirectory() as d:
            other = _keygen(os.path.join(d, 'other_key'), self.key_type)
            p = self.curl(self.srv.url('a.csv'), key=other)
        self.assertEqual(p.returncode, 67, p.stderr)  # CURLE_LOGIN_DENIED
        self.assertEqual(p.stdout, b'')

    def test_missing_file(self):
        p = self.curl(self.srv.url('no-such.csv'))
        self.assertEqual(p.returncode, 78, p.stderr)  # CURLE_REMOTE_FILE_NOT_FOUND


class _SelfTestECDSA(_SelfTest):
    key_type = 'ecdsa'


class _SelfTestRSA(_SelfTest):
    key_type = 'rsa'


class _SelfTestLifecycle(unittest.TestCase):

    def test_stop(self):
        srv = SftpServer()
        t = time.monotonic()
        srv.stop()
        self.assertLess(time.monotonic() - t, 5)
        self.assertIsNotNone(srv._proc.poll())
        self.assertFalse(os.path.exists(srv.root))
        with self.assertRaises(OSError):
            socket.create_connection(('127.0.0.1', srv.port), timeout=1).close()

    def test_busy_port_retried(self):
        # Another server takes the port sshd was about to get: it must move on.
        with socket.socket() as taken:
            taken.bind(('127.0.0.1', 0))
            taken.listen()
            ports = [taken.getsockname()[1], _free_port()]
            with unittest.mock.patch(f'{__name__}._free_port', side_effect=ports):
                with SftpServer() as srv:
                    self.assertEqual(srv.port, ports[1])
                    self.assertIn('Address already in use', srv.log())
                    srv.write('ok', b'ok')
                    self.assertEqual(_curl(srv.url('ok'), srv.client_key, srv.known_hosts).stdout, b'ok')

    def test_failed_start_cleans_up(self):
        with tempfile.TemporaryDirectory() as tmp:
            with unittest.mock.patch('tempfile.tempdir', tmp), unittest.mock.patch(f'{__name__}.SSHD', '/bin/false'):
                with self.assertRaisesRegex(RuntimeError, 'sshd exited with 1'):
                    SftpServer()
            self.assertEqual(os.listdir(tmp), [])


if __name__ == '__main__':
    if not shutil.which('curl'):
        raise SystemExit('the self-test needs the curl CLI: apt-get install curl')
    unittest.main(verbosity=2)
