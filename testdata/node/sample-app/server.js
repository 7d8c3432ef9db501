'use strict';
// As the External ID sample's server.js (the workforce sample's bin/www is the same): an HTTP server on PORT (default 3000) for the Express app.
const http = require('http');
const app = require('./app');

const port = Number(process.env.PORT || 3000);
const server = http.createServer(app);
server.listen(port, 'localhost');
server.on('listening', () => console.log(`listening on http://localhost:${port}`));
server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
