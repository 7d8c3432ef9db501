'use strict';
// Preload (node --require) that sends connections for the hosts the emulator stands in for
// (login.microsoftonline.com, graph.microsoft.com, *.ciamlogin.com, port 443) to the emulator's
// listener, EMULATOR_ADDR=127.0.0.1:PORT. Only the TCP destination changes: TLS still sends the
// real name as SNI and checks the certificate against it, with the emulator's CA trusted through
// NODE_EXTRA_CA_CERTS. Connections to any other host that is not loopback fail, so a test
// cannot leave the machine.
//
// Why tls.connect: https.Agent.createConnection calls tls.connect(options) through the module
// object, with options.host/port/servername already set, so one wrapper covers every https
// request (msal-node's HttpClient, axios, fetch-free code). dns.lookup alone could not change
// the port.
const tls = require('tls');
const net = require('net');

const addr = process.env.EMULATOR_ADDR || '';
const sep = addr.lastIndexOf(':');
if (sep < 0) {
  throw new Error('emulator-hosts.js: set EMULATOR_ADDR=127.0.0.1:PORT');
}
const emuHost = addr.slice(0, sep).replace(/^\[|\]$/g, '');
const emuPort = Number(addr.slice(sep + 1));

function emulated(host) {
  host = String(host || '').toLowerCase().replace(/\.$/, '');
  return host === 'login.microsoftonline.com' || host === 'graph.microsoft.com' || host.endsWith('.ciamlogin.com');
}

// EMULATOR_HOSTS_REFUSED, when set, is a file each refused destination is appended to, so a test
// sees an attempt to leave loopback even when the client swallows the error (telemetry does).
function refuse(host, port) {
  const msg = `emulator-hosts.js: refusing a connection to ${host}:${port} (tests stay on loopback)`;
  if (process.env.EMULATOR_HOSTS_REFUSED) {
    try {
      require('fs').appendFileSync(process.env.EMULATOR_HOSTS_REFUSED, `${host}:${port}\n`);
    } catch {
      // the error below still stops the connection
    }
  }
  throw new Error(msg);
}

// Only an address is loopback: a name that merely starts with "127." is not.
function loopback(host) {
  host = String(host || '').toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1') return true;
  if (host.startsWith('::ffff:')) host = host.slice(7);
  return net.isIPv4(host) && host.startsWith('127.');
}

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
    refuse(host, port);
  }
  return realTLSConnect.call(this, options, ...rest);
};

// Plain TCP (http://) to anything but loopback is refused too, at net.Socket.prototype.connect,
// where every TCP connection starts: http.Agent kept its own reference to net.createConnection
// when it loaded, and new net.Socket().connect() skips net.connect (which passes its normalised
// arguments as one array).
function target(args) {
  const a = Array.isArray(args[0]) ? args[0] : args;
  if (a[0] !== null && typeof a[0] === 'object') return a[0];
  if (typeof a[0] === 'string' && !/^\d+$/.test(a[0])) return { path: a[0] };
  return { port: a[0], host: typeof a[1] === 'string' ? a[1] : 'localhost' };
}
const realSocketConnect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(...args) {
  const o = target(args);
  if (!o.path && !loopback(o.host || 'localhost') && o.host !== emuHost) {
    refuse(o.host, o.port);
  }
  return realSocketConnect.apply(this, args);
};
