# SPDX-License-Identifier: GPL-3.0-or-later
"""What the test servers on 127.0.0.1 share: throwaway certificates made
with the openssl CLI, and a threading HTTP(S) server that can cut every open
connection at once."""

import http.server
import os
import socket
import subprocess
import threading


def make_certificates(directory, client=False):
    """A throwaway CA in directory and certificates from it: a server's for
    127.0.0.1 and localhost, and with client=True a client's. Returns a dict
    of file names: ca, ca_key, server, server_key, and client, client_key
    (None without client)."""
    cnf = os.path.join(directory, 'openssl.cnf')
    with open(cnf, 'w') as f:
        # Our own config, so that nothing in the system's openssl.cnf
        # (such as CA:TRUE on every -x509 certificate) creeps in.
        f.write('[req]\ndistinguished_name = dn\n[dn]\n'
                '[ca]\nbasicConstraints = critical, CA:TRUE\nkeyUsage = critical, keyCertSign, cRLSign\n'
                'subjectKeyIdentifier = hash\n'
                '[server]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n'
                'extendedKeyUsage = serverAuth\nsubjectAltName = IP:127.0.0.1, DNS:localhost\n'
                'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n'
                '[client]\nbasicConstraints = critical, CA:FALSE\nkeyUsage = critical, digitalSignature\n'
                'extendedKeyUsage = clientAuth\n'
                'subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n')

    def make(name, subject, ca=None):
        key, cert = os.path.join(directory, f'{name}.key'), os.path.join(directory, f'{name}.pem')
        cmd = ['openssl', 'req', '-x509', '-config', cnf, '-extensions', name, '-days', '2',
               '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-noenc',
               '-keyout', key, '-out', cert, '-subj', subject]
        if ca:
            cmd += ['-CA', ca[0], '-CAkey', ca[1]]
        subprocess.run(cmd, check=True, capture_output=True)
        return cert, key

    ca = make('ca', '/CN=bokvar test CA')
    server = make('server', '/CN=localhost', ca)
    client = make('client', '/CN=bokvar test client', ca) if client else (None, None)
    return {'ca': ca[0], 'ca_key': ca[1], 'server': server[0], 'server_key': server[1],
            'client': client[0], 'client_key': client[1]}


class ThreadingServer(http.server.ThreadingHTTPServer):
    """A thread per connection; TLS when context (an ssl.SSLContext) is
    given, with the handshake in the connection's thread. stopping (an
    Event) turns away connections still being set up, and
    close_connections() cuts the open ones."""
    daemon_threads = True
    nodelay = False

    def __init__(self, address, handler, context=None):
        self.context = context
        self.stopping = threading.Event()
        self._open = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def get_request(self):
        sock, addr = super().get_request()
        if self.nodelay:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.context:
            # The handshake happens later in the connection's own thread, so
            # a client that stalls in it cannot hold up accept().
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, addr

    def finish_request(self, request, client_address):
        with self._open_lock:
            self._open.add(request)
        try:
            # close_connections() may have run just before this one was added.
            if self.stopping.is_set():
                return
            if self.context:
                request.do_handshake()
            super().finish_request(request, client_address)
        except OSError:
            # Failed handshakes and connections cut on purpose are what some
            # tests are about; not worth a traceback.
            pass
        finally:
            with self._open_lock:
                self._open.discard(request)

    def close_connections(self):
        with self._open_lock:
            for sock in self._open:
                try:
                    # The plain socket's shutdown: SSLSocket.shutdown() would
                    # also drop the TLS state under the thread still using it.
                    # Its reads and writes then fail or see EOF, and it ends.
                    socket.socket.shutdown(sock, socket.SHUT_RDWR)
                except OSError:
                    pass
