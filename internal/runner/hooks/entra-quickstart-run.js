'use strict';
// Preload (node --require) that `entra-quickstart run` gives a Node sample through NODE_OPTIONS.
//
// With ENTRA_QUICKSTART_EMULATOR_ADDR=127.0.0.1:PORT it sends connections for the hosts the
// emulator stands in for (login.microsoftonline.com, graph.microsoft.com, *.ciamlogin.com, port
// 443) to the emulator's listener. Only the TCP destination changes: TLS still sends the real name
// as SNI and checks the certificate against it, the emulator's CA being trusted through
// NODE_EXTRA_CA_CERTS. A connection to any other host that is not loopback is refused (and
// reported), so nothing the sample does leaves this machine during a rehearsal.
//
// With ENTRA_QUICKSTART_RUN_EVENTS=<file> it also reports, one JSON line each, what the sample's
// own server answered at its redirect URI's path (ENTRA_QUICKSTART_WATCH_PATH): the callback's
// method and status, whether it carried a code (never the code itself), and its error and
// error_description. Express samples parse the form_post body into req.body before they answer,
// so the form fields are read when the response finishes.
//
// Why tls.connect: https.Agent.createConnection calls tls.connect(options) through the module
// object, with options.host/port/servername already set, so one wrapper covers every https
// request (msal-node's HttpClient, axios). dns.lookup alone could not change the port.
const fs = require('fs');
const tls = require('tls');
const net = require('net');
const http = require('http');

const eventsFile = process.env.ENTRA_QUICKSTART_RUN_EVENTS || '';
const watchPath = process.env.ENTRA_QUICKSTART_WATCH_PATH || '';
const addr = process.env.ENTRA_QUICKSTART_EMULATOR_ADDR || '';

function report(ev) {
  if (!eventsFile) return;
  ev.pid = process.pid;
  try {
    fs.appendFileSync(eventsFile, JSON.stringify(ev) + '\n');
  } catch (_) {
    // the run ended; nothing to tell
  }
}

// A name that merely starts with "127." (127.example.net) is not loopback: only an address is.
function loopback(host) {
  host = String(host || '').toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return net.isIPv4(host) && host.startsWith('127.');
}

if (addr) {
  const sep = addr.lastIndexOf(':');
  const emuHost = addr.slice(0, sep).replace(/^\[|\]$/g, '');
  const emuPort = Number(addr.slice(sep + 1));
  const emulated = (host) => {
    host = String(host || '').toLowerCase().replace(/\.$/, '');
    return host === 'login.microsoftonline.com' || host === 'graph.microsoft.com' || host.endsWith('.ciamlogin.com');
  };
  const refuse = (host, port) => {
    report({ kind: 'refused', host: String(host), port: Number(port) || 0 });
    const msg = `entra-quickstart run: refused a connection to ${host}:${port}: a rehearsal against the emulator stays on this machine`;
    process.stderr.write(msg + '\n');
    const err = new Error(msg);
    err.code = 'ECONNREFUSED';
    return err;
  };

  const realTLSConnect = tls.connect;
  tls.connect = function connect(...args) {
    // Normalise the (port, host, options) and (options) forms to one options object.
    let options = {};
    let rest = [];
    if (args[0] !== null && typeof args[0] === 'object') {
      options = { ...args[0] };
      rest = args.slice(1);
    } else {
      let i = 0;
      if (typeof args[i] === 'number' || typeof args[i] === 'string') options.port = args[i++];
      if (typeof args[i] === 'string') options.host = args[i++];
      if (args[i] !== null && typeof args[i] === 'object') options = { ...args[i++], ...options };
      rest = args.slice(i);
    }
    const host = options.host || options.servername || 'localhost';
    const port = Number(options.port || 443);
    if (emulated(host) && port === 443) {
      options.servername = options.servername || host;
      options.host = emuHost;
      options.port = emuPort;
      delete options.path;
    } else if (!loopback(host) && !options.socket) {
      throw refuse(host, port);
    }
    return realTLSConnect.call(this, options, ...rest);
  };

  // Plain TCP to anything but loopback is refused too. net.Socket.prototype.connect is where every
  // TCP connection starts (http.Agent kept its own reference to net.createConnection when it
  // loaded, and new net.Socket().connect() skips net.connect), so the check sits there; net.connect
  // passes its normalised arguments as one array.
  const target = (args) => {
    const a = Array.isArray(args[0]) ? args[0] : args;
    if (a[0] !== null && typeof a[0] === 'object') return a[0];
    if (typeof a[0] === 'string' && !/^\d+$/.test(a[0])) return { path: a[0] };
    return { port: a[0], host: typeof a[1] === 'string' ? a[1] : 'localhost' };
  };
  const realSocketConnect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function connect(...args) {
    const o = target(args);
    if (!o.path && !loopback(o.host || 'localhost') && o.host !== emuHost) {
      throw refuse(o.host, o.port);
    }
    return realSocketConnect.apply(this, args);
  };
}

if (eventsFile && watchPath) {
  const realEmit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emit(event, req, res) {
    if (event === 'request' && req && res) {
      let path = '';
      let query = new URLSearchParams();
      try {
        const u = new URL(req.url, 'http://localhost');
        path = u.pathname;
        query = u.searchParams;
      } catch (_) {
        path = '';
      }
      if (path === watchPath) {
        res.on('finish', () => {
          const body = req.body && typeof req.body === 'object' ? req.body : {};
          const field = (k) => String(body[k] || query.get(k) || '');
          report({
            kind: 'callback',
            method: req.method,
            path,
            status: res.statusCode,
            code: field('code') !== '',
            id_token: field('id_token') !== '',
            error: field('error'),
            error_description: field('error_description'),
          });
        });
      }
    }
    return realEmit.apply(this, arguments);
  };
}
