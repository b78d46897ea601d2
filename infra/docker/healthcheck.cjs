#!/usr/bin/env node
// Container health probe for the platform images (HEALTHCHECK in ./Dockerfile, `healthcheck` in
// docker-compose.yml). node:*-slim images have no curl or wget, so this uses node's own fetch.
//
//   node infra/docker/healthcheck.cjs [live|ready]     (default: live)
//
// GETs http://127.0.0.1:<port>/health/<live|ready> and exits 0 on a 2xx answer, 1 otherwise.
// <port> is HTTP_PORT when set, else the HTTP_PORT default of the service's ConfigSpec (the same default
// the service itself falls back to); the service is named by SERVICE, which the image sets.
'use strict';
const path = require('node:path');

const probe = process.argv[2] === 'ready' ? 'ready' : 'live';

function defaultPort(service) {
  // config.js only loads @mlops/config: cheap enough to run every few seconds.
  const file = path.join(__dirname, '..', '..', 'services', service, 'dist', 'src', 'config.js');
  const exports = require(file);
  for (const [name, spec] of Object.entries(exports)) {
    if (name.endsWith('ConfigSpec') && spec && spec.HTTP_PORT && spec.HTTP_PORT.default !== undefined) {
      return String(spec.HTTP_PORT.default);
    }
  }
  throw new Error(`no HTTP_PORT default in ${file}`);
}

async function main() {
  const port = process.env.HTTP_PORT || defaultPort(process.env.SERVICE || '');
  const url = `http://127.0.0.1:${port}/health/${probe}`;
  const response = await fetch(url, { signal: AbortSignal.timeout(2500) });
  if (!response.ok) throw new Error(`${url} answered ${response.status}`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(`unhealthy: ${error && error.message ? error.message : error}`);
    process.exit(1);
  },
);
