'use strict';
// As the External ID sample's server.js (the workforce sample's bin/www is the same): an HTTP server on PORT (default 3000) for the Express app.
const http = require('http');
const app = require('./app');

const port = Number(process.env.PORT || 3000);
// The samples listen on every interface (server.listen(port)); this test app listens on both
// loopback addresses instead, so that it has the port to itself on this machine (any other
// server on 127.0.0.1 or ::1 at the same port makes it fail at once) without leaving loopback.
let up = 0;
for (const host of ['127.0.0.1', '::1']) {
  const server = http.createServer(app);
  server.on('error', (err) => {
    console.error(err);
    process.exit(1);
  });
  server.listen(port, host, () => {
    if (++up === 2) console.log(`listening on http://localhost:${port}`);
  });
}
