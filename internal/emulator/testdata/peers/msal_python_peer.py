"""An independent client against the emulator: MSAL Python (Debian's python3-msal), the library
under the Python samples' `identity` package, driven the way it drives it.

    python3 msal_python_peer.py client-credentials   prints {"access_token_claims": ..., ...}
    python3 msal_python_peer.py auth-code            prints {"auth_uri": ...}, reads one JSON line
                                                     with the redirect's query parameters, prints
                                                     {"id_token_claims": ..., ...}

PEER_CONFIG (JSON): authority, client_id, client_secret, redirect_uri, scopes; call_graph to
read /me with the delegated token.
EMULATOR_ADDR=127.0.0.1:PORT: the emulated host names on port 443 resolve there (below).
REQUESTS_CA_BUNDLE=<the emulator's ca.pem>: requests trusts the emulator's CA instead of certifi's.
"""
import base64
import json
import os
import socket
import sys

EMULATOR_HOST, EMULATOR_PORT = os.environ["EMULATOR_ADDR"].rsplit(":", 1)
_real_getaddrinfo = socket.getaddrinfo


def _emulated(host):
    host = (host.decode() if isinstance(host, bytes) else str(host or "")).lower().rstrip(".")
    return host in ("login.microsoftonline.com", "graph.microsoft.com") or host.endswith(".ciamlogin.com")


def _loopback(host):
    host = (host.decode() if isinstance(host, bytes) else str(host or "")).lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _getaddrinfo(host, port, *args, **kwargs):
    # urllib3 resolves with socket.getaddrinfo(host, port) and connects to the answer, while TLS
    # keeps the real name for SNI and the certificate check: only the address and port change.
    if _emulated(host) and int(port or 443) == 443:
        return _real_getaddrinfo(EMULATOR_HOST, int(EMULATOR_PORT), *args, **kwargs)
    if not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, "tests stay on loopback: %s" % host)
    return _real_getaddrinfo(host, port, *args, **kwargs)


socket.getaddrinfo = _getaddrinfo

import msal  # noqa: E402  (after the patch, so nothing resolves before it)

CFG = json.loads(os.environ.get("PEER_CONFIG", "{}"))


def out(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


def claims_of(jwt):
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def app():
    return msal.ConfidentialClientApplication(
        CFG["client_id"], client_credential=CFG["client_secret"], authority=CFG["authority"])


def fail(what, result):
    sys.stderr.write("msal-python-peer: %s: %s: %s\n" % (what, result.get("error"), result.get("error_description")))
    sys.exit(1)


def client_credentials():
    cca = app()
    scopes = ["https://graph.microsoft.com/.default"]
    first = cca.acquire_token_for_client(scopes=scopes)
    if "access_token" not in first:
        fail("acquire_token_for_client", first)
    # MSAL 1.21's acquire_token_for_client always asks the token endpoint (the cache lookup
    # came in 1.23); its documented pattern reads the cache with acquire_token_silent first.
    second = cca.acquire_token_silent(scopes, account=None)
    if not second or "access_token" not in second:
        fail("acquire_token_silent (app token from the cache)", second or {})
    out({
        "token_type": first.get("token_type"),
        "access_token_claims": claims_of(first["access_token"]),
        "second_is_same_token": second["access_token"] == first["access_token"],
    })


def auth_code():
    cca = app()
    flow = cca.initiate_auth_code_flow(CFG["scopes"], redirect_uri=CFG["redirect_uri"])
    if "auth_uri" not in flow:
        fail("initiate_auth_code_flow", flow)
    out({"auth_uri": flow["auth_uri"]})
    line = sys.stdin.readline()
    if not line:
        sys.stderr.write("msal-python-peer: stdin closed before the redirect arrived\n")
        sys.exit(1)
    result = cca.acquire_token_by_auth_code_flow(flow, json.loads(line))
    if "id_token_claims" not in result:
        fail("acquire_token_by_auth_code_flow", result)
    me = None
    if CFG.get("call_graph"):
        # What the samples do next with the delegated token (requests, like MSAL itself).
        import requests
        resp = requests.get("https://graph.microsoft.com/v1.0/me",
                            headers={"Authorization": "Bearer " + result["access_token"]}, timeout=30)
        if resp.status_code != 200:
            sys.stderr.write("msal-python-peer: GET /me: %s %s\n" % (resp.status_code, resp.text))
            sys.exit(1)
        me = resp.json()
    accounts = cca.get_accounts()
    refreshed = cca.acquire_token_silent(CFG["scopes"], account=accounts[0], force_refresh=True) if accounts else None
    out({
        "me": me,
        "id_token_claims": result["id_token_claims"],
        "scope": result.get("scope"),
        "accounts": [{k: a.get(k) for k in ("home_account_id", "environment", "realm", "username", "local_account_id")} for a in accounts],
        "access_token_claims": claims_of(result["access_token"]) if "access_token" in result else None,
        "refreshed": bool(refreshed and "access_token" in refreshed),
        "refresh_error": (refreshed or {}).get("error_description") if refreshed and "access_token" not in refreshed else None,
    })


MODES = {"client-credentials": client_credentials, "auth-code": auth_code}

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in MODES:
        sys.stderr.write("usage: msal_python_peer.py %s\n" % "|".join(MODES))
        sys.exit(2)
    MODES[sys.argv[1]]()
