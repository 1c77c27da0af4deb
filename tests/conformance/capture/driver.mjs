// Capture driver: runs each case's params through the official JS client's own
// projects.create() against a loopback server and reports, one JSON line per case on
// stdout, either the project id the client made (its jobRequest is recorded by the
// server) or the message of the error create() threw. Everything else goes to stderr.
//
// Input (env): SOGNI_CAPTURE_JS_DIR (folder with node_modules/@sogni-ai/sogni-client),
// SOGNI_CAPTURE_CASES (JSON file: [{name, params}]), SOGNI_CAPTURE_ASSETS (folder for
// {"$asset": NAME} values), SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY.
// With SOGNI_CAPTURE_WAIT (seconds) set, every project made is then awaited through its own
// waitForCompletion() and its line also carries the resultUrls it resolved with (or the
// failure as "error").
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);
const out = (rec) => process.stdout.write(JSON.stringify(rec) + '\n');

const require = createRequire(path.join(env.SOGNI_CAPTURE_JS_DIR, 'package.json'));
const { SogniClient } = require('@sogni-ai/sogni-client');
const cases = JSON.parse(fs.readFileSync(env.SOGNI_CAPTURE_CASES, 'utf8'));
const assetDirs = (env.SOGNI_CAPTURE_ASSETS || '').split(path.delimiter).filter(Boolean);

function assetBytes(name) {
  for (const dir of assetDirs) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return fs.readFileSync(file);
  }
  throw new Error(`capture: asset ${name} not found`);
}

/** JSON params -> JS params: {"$asset": NAME} becomes a Buffer of that file. */
function toJs(value) {
  if (Array.isArray(value)) return value.map(toJs);
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === '$asset') return assetBytes(value.$asset);
    return Object.fromEntries(keys.map((k) => [k, toJs(value[k])]));
  }
  return value;
}

function withTimeout(promise, ms, what) {
  let timer;
  const limit = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`capture: ${what} timed out`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

async function main() {
  const sogni = await SogniClient.createInstance({
    appId: 'sogni-sync-capture',
    network: 'fast',
    apiKey: env.SOGNI_API_KEY,
    restEndpoint: env.SOGNI_REST_ENDPOINT,
    socketEndpoint: env.SOGNI_SOCKET_ENDPOINT,
    logLevel: 'error'
  });
  await withTimeout(sogni.projects.waitForModels(15000), 20000, 'waiting for models');
  const waitMs = Number(env.SOGNI_CAPTURE_WAIT || 0) * 1000;
  const rows = [];
  for (const c of cases) {
    try {
      const project = await withTimeout(sogni.projects.create(toJs(c.params)), 30000, c.name);
      // waited on at once, as an app would: a project already completed when asked later
      // may resolve before its last job's result URL is in
      const done = waitMs ? withTimeout(project.waitForCompletion(), waitMs, c.name) : null;
      if (done) done.catch(() => {}); // settled below
      rows.push({ row: { name: c.name, projectId: project.id }, done });
    } catch (e) {
      const message = errorText(e);
      if (message.startsWith('capture:')) throw e;
      rows.push({ row: { name: c.name, error: message } });
    }
    if (!waitMs) out(rows.pop().row);
  }
  // the projects render concurrently; each is awaited through the client's own API
  await Promise.all(rows.map(async (r) => {
    if (!r.done) return;
    try {
      r.row.resultUrls = await r.done;
    } catch (e) {
      r.row.error = errorText(e);
    }
  }));
  for (const r of rows) out(r.row);
}

function errorText(e) {
  return e && typeof e.message === 'string' ? e.message : String(e);
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error('capture failed:', e && e.stack ? e.stack : e);
    process.exit(2);
  }
);
