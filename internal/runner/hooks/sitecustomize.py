# sitecustomize that `entra-quickstart run` puts first on a Python sample's PYTHONPATH.
#
# With ENTRA_QUICKSTART_EMULATOR_ADDR=127.0.0.1:PORT, names the emulator stands in for
# (login.microsoftonline.com, graph.microsoft.com, *.ciamlogin.com, port 443) resolve to the
# emulator's listener: only the TCP destination changes, TLS still checks the certificate against
# the real name (the emulator's CA is trusted through REQUESTS_CA_BUNDLE and SSL_CERT_FILE). A
# connection to any address that is not loopback is refused and reported, so nothing the sample
# does leaves this machine during a rehearsal.
#
# With ENTRA_QUICKSTART_RUN_EVENTS=<file> it also reports, one JSON line each, every request the
# sample's development server (Flask's werkzeug, Django's runserver: both socketserver servers
# that log each request through log_request) answered at the redirect URI's path
# (ENTRA_QUICKSTART_WATCH_PATH): method, status, whether a code came (never the code itself),
# error and error_description.
import ipaddress
import json
import os
import socket
import socketserver
import sys
from urllib.parse import parse_qs, urlsplit

_events = os.environ.get("ENTRA_QUICKSTART_RUN_EVENTS", "")
_watch = os.environ.get("ENTRA_QUICKSTART_WATCH_PATH", "")
_addr = os.environ.get("ENTRA_QUICKSTART_EMULATOR_ADDR", "")


def _report(ev):
    if not _events:
        return
    ev["pid"] = os.getpid()
    try:
        with open(_events, "a", encoding="utf-8") as f:
            f.write(json.dumps(ev) + "\n")
    except OSError:
        pass  # the run ended; nothing to tell


def _is_loopback(ip):
    # Only an address (or "localhost") is loopback: a name that merely starts with "127." is not.
    ip = str(ip).lower().split("%")[0]
    if ip == "localhost":
        return True
    try:
        a = ipaddress.ip_address(ip)
    except ValueError:
        return False
    if getattr(a, "ipv4_mapped", None):
        a = a.ipv4_mapped
    return a.is_loopback


if _addr:
    _emu_host, _, _emu_port = _addr.rpartition(":")
    _emu_host = _emu_host.strip("[]")
    _emu_port = int(_emu_port)
    _real_getaddrinfo = socket.getaddrinfo

    def _emulated(host):
        h = host.lower().rstrip(".")
        return h in ("login.microsoftonline.com", "graph.microsoft.com") or h.endswith(".ciamlogin.com")

    def getaddrinfo(host, port, *args, **kwargs):
        name = host.decode() if isinstance(host, bytes) else (host or "")
        try:
            p = socket.getservbyname(port) if isinstance(port, str) and not port.isdigit() else int(port or 0)
        except (OSError, ValueError):
            p = port
        if name and _emulated(name) and p == 443:
            return _real_getaddrinfo(_emu_host, _emu_port, *args, **kwargs)
        return _real_getaddrinfo(host, port, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo

    def _guard(address):
        if isinstance(address, tuple) and len(address) >= 2 and not _is_loopback(address[0]):
            _report({"kind": "refused", "host": str(address[0]), "port": int(address[1])})
            msg = "entra-quickstart run: refused a connection to %s:%s: a rehearsal against the emulator stays on this machine" % (address[0], address[1])
            sys.stderr.write(msg + "\n")
            raise ConnectionRefusedError(msg)

    _real_connect = socket.socket.connect
    _real_connect_ex = socket.socket.connect_ex

    def connect(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _guard(address)
        return _real_connect(self, address)

    def connect_ex(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _guard(address)
        return _real_connect_ex(self, address)

    socket.socket.connect = connect
    socket.socket.connect_ex = connect_ex


if _events and _watch:
    _watched = {}

    def _watching(cls):
        sub = _watched.get(cls)
        if sub is not None:
            return sub
        if not hasattr(cls, "log_request"):
            _watched[cls] = cls
            return cls
        parent_log = cls.log_request

        def log_request(self, code="-", size="-"):
            try:
                u = urlsplit(getattr(self, "path", "") or "")
                if u.path == _watch:
                    q = parse_qs(u.query)
                    first = lambda k: (q.get(k) or [""])[0]
                    _report({
                        "kind": "callback",
                        "method": getattr(self, "command", ""),
                        "path": u.path,
                        "status": int(code) if str(code).isdigit() else 0,
                        "code": first("code") != "",
                        "id_token": first("id_token") != "",
                        "error": first("error"),
                        "error_description": first("error_description"),
                    })
            except Exception:  # noqa: BLE001 - watching must never break the sample
                pass
            return parent_log(self, code, size)

        sub = type(cls.__name__, (cls,), {"log_request": log_request})
        _watched[cls] = sub
        return sub

    def finish_request(self, request, client_address):
        _watching(self.RequestHandlerClass)(request, client_address, self)

    socketserver.BaseServer.finish_request = finish_request


def _chain_sitecustomize():
    # This file hides any sitecustomize that was already on the path (Debian's, a corporate
    # certificate setup): run the next one, as Python would have without us.
    import importlib.machinery
    import importlib.util

    here = os.path.abspath(__file__)
    for entry in sys.path:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", [entry or "."])
        if spec is None or not spec.origin or os.path.abspath(spec.origin) == here:
            continue
        try:
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)
        except Exception as e:  # noqa: BLE001 - as site.py does: say so and go on
            sys.stderr.write("Error in sitecustomize (%s); set PYTHONVERBOSE for traceback:\n%s: %s\n" % (spec.origin, type(e).__name__, e))
        return


_chain_sitecustomize()
