// Template driver: runs one fixed scenario through the official JS client's own workflow
// template and run calls (sogni.workflows.templates.*, sogni.workflows.start/resume/reseed),
// then chat.hosted.executeTool, sogni.replay.* and sogni.announcements.*, against a loopback server and prints one JSON line per step on stdout: {"step", "result"}
// or {"step", "error"}. Everything else goes to stderr.
//
// Input (env): SOGNI_CAPTURE_JS_DIR (folder with node_modules/@sogni-ai/sogni-client),
// SOGNI_SCENARIO (JSON file: {template, inputs, missingInputs, fork}), SOGNI_REST_ENDPOINT,
// SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';

const env = process.env;
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);
const out = (rec) => process.stdout.write(JSON.stringify(rec) + '\n');
const require = createRequire(path.join(env.SOGNI_CAPTURE_JS_DIR, 'package.json'));
const { SogniClient } = require('@sogni-ai/sogni-client');
const scenario = JSON.parse(fs.readFileSync(env.SOGNI_SCENARIO, 'utf8'));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function step(name, fn) {
  try {
    out({ step: name, result: await fn() });
  } catch (e) {
    out({ step: name, error: e && typeof e.message === 'string' ? e.message : String(e) });
  }
}

async function until(api, id, status) {
  for (let i = 0; i < 200; i += 1) {
    const wf = await api.get(id);
    if (wf.status === status) return wf;
    await sleep(50);
  }
  throw new Error(`driver: ${id} never reached ${status}`);
}

async function main() {
  const sogni = await SogniClient.createInstance({
    appId: 'sogni-sync-templates', network: 'fast', apiKey: env.SOGNI_API_KEY,
    restEndpoint: env.SOGNI_REST_ENDPOINT, socketEndpoint: env.SOGNI_SOCKET_ENDPOINT,
    logLevel: 'error'
  });
  const wf = sogni.workflows;
  const t = wf.templates;
  let mine, forked, run, paused;
  await step('list_public', async () => (await t.list({ visibility: 'public', limit: 1 })));
  await step('create', async () => (mine = await t.create(scenario.template)));
  await step('get', async () => await t.get(mine.id));
  await step('update', async () => await t.update(mine.id, { description: 'changed' }));
  await step('fork', async () => (forked = await t.fork(scenario.fork, { newName: 'Forked' })));
  await step('list_own', async () => await t.list({ visibility: 'own' }));
  await step('start', async () => (run = await wf.start(
    { workflowId: mine.id, inputs: scenario.inputs, idempotencyKey: 'take-1',
      billingMode: 'tokens' })));
  await step('start_again', async () => await wf.start(
    { workflowId: mine.id, inputs: scenario.inputs, idempotencyKey: 'take-1' }));
  await step('start_missing_input', async () => await wf.start(
    { workflowId: mine.id, inputs: scenario.missingInputs }));
  await step('completed', async () => await until(wf, run.workflowId, 'completed'));
  await step('reseed', async () => await wf.reseed(run.workflowId,
    { seedOverrides: scenario.seedOverrides, idempotencyKey: 'reseed-1' }));
  await step('reseed_again', async () => await wf.reseed(run.workflowId,
    { seedOverrides: scenario.seedOverrides, idempotencyKey: 'reseed-1' }));
  await step('start_paused', async () => (paused = await wf.start(
    { workflowId: scenario.fork, inputs: scenario.pausedInputs })));
  await step('waiting', async () => await until(wf, paused.workflowId, 'waiting_for_user'));
  await step('resume', async () => await wf.resume(paused.workflowId, { billingMode: 'auto' }));
  await step('delete', async () => { await t.delete(forked.id); return null; });
  await step('get_deleted', async () => await t.get(forked.id));
  await step('execute_tool', async () => await sogni.chat.hosted.executeTool(
    { tool: 'compose_workflow', arguments: scenario.composeArguments }));
  await step('replay_write', async () => await sogni.replay.write(scenario.replayRecord));
  await step('replay_list', async () => await sogni.replay.list({ limit: 5 }));
  await step('replay_get', async () => await sogni.replay.get(scenario.replayRecord.run_id));
  await step('announcements', async () => await sogni.announcements.active());
  await step('dismiss', async () => {
    await sogni.announcements.dismiss(scenario.announcementId); return null;
  });
  await step('announcements_after', async () => await sogni.announcements.active());
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error('templates driver failed:', e && e.stack ? e.stack : e);
    process.exit(2);
  }
);
