// Durable chat-run driver for the official JS client 5.54.0: drives sogni.chat.runs
// (create, streamEvents with lastEventId, get, confirmCost, cancel) against a loopback server
// and prints one JSON report on stdout. Everything else goes to stderr.
//
// Input (env): SOGNI_CAPTURE_JS_DIR (folder with node_modules/@sogni-ai/sogni-client),
// SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY, SOGNI_RUNS_SCENARIO (JSON).
import { createRequire } from 'node:module';
import path from 'node:path';

const env = process.env;
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);

const require = createRequire(path.join(env.SOGNI_CAPTURE_JS_DIR, 'package.json'));
const { SogniClient } = require('@sogni-ai/sogni-client');
const scenario = JSON.parse(env.SOGNI_RUNS_SCENARIO);

/** Events of one stream connection, until it ends or `stop(event)` says so. */
async function collect(sogni, runId, lastEventId, stop) {
  const seen = [];
  const options = lastEventId === undefined ? {} : { lastEventId };
  for await (const event of sogni.chat.runs.streamEvents(runId, options)) {
    seen.push(event);
    if (stop && stop(event)) break;
  }
  return seen;
}

const paused = (e) => e.type === 'run_waiting_for_user';

async function main() {
  const sogni = await SogniClient.createInstance({
    appId: 'sogni-sync-runs', network: 'fast', apiKey: env.SOGNI_API_KEY,
    restEndpoint: env.SOGNI_REST_ENDPOINT, socketEndpoint: env.SOGNI_SOCKET_ENDPOINT,
    logLevel: 'error'
  });
  const report = {};
  const params = {
    messages: scenario.messages, tools: scenario.tools, tokenType: 'spark',
    runtimeConfig: { requireJobConfirmation: true }
  };
  // 1. pause, confirm, resume the stream from the last event seen
  const run = await sogni.chat.runs.create({ ...params, idempotencyKey: 'js-run-1' });
  report.created = run.status;
  const first = await collect(sogni, run.runId, undefined, paused);
  const waiting = (await sogni.chat.runs.get(run.runId)).waiting;
  try {
    await sogni.chat.runs.confirmCost(run.runId, {
      toolCallId: waiting.details.toolCallId, decision: 'confirm'
    });
    report.confirmWithoutPreview = 'accepted';
  } catch (e) {
    report.confirmWithoutPreview = e.status;
  }
  const confirmed = await sogni.chat.runs.confirmCost(run.runId, {
    toolCallId: waiting.details.toolCallId, decision: 'confirm',
    acceptedCostPreview: waiting.details.costApprovalPreview,
    idempotencyKey: `confirm-${waiting.details.toolCallId}`
  });
  report.afterConfirm = confirmed.status;
  const rest = await collect(sogni, run.runId, first[first.length - 1].sequence);
  const done = await sogni.chat.runs.get(run.runId);
  report.sequences = [...first, ...rest].map((e) => e.sequence);
  report.types = [...first, ...rest].map((e) => e.type);
  report.deltas = [...first, ...rest].map((e) => (e.payload && e.payload.delta) || '').join('');
  report.final = { status: done.status, content: done.finalResponse && done.finalResponse.content,
    artifacts: done.artifacts.length, eventCount: done.events.length };
  // 2. a refused cost approval
  const refused = await sogni.chat.runs.create(params);
  await collect(sogni, refused.runId, undefined, paused);
  const pending = (await sogni.chat.runs.get(refused.runId)).waiting;
  await sogni.chat.runs.confirmCost(refused.runId, {
    toolCallId: pending.details.toolCallId, decision: 'cancel', reason: 'too dear'
  });
  const tail = await collect(sogni, refused.runId);
  const gone = await sogni.chat.runs.get(refused.runId);
  report.refused = { status: gone.status, reason: gone.cancellationReason,
    last: tail[tail.length - 1].type };
  // 3. cancel a paused run
  const third = await sogni.chat.runs.create(params);
  await collect(sogni, third.runId, undefined, paused);
  report.cancelled = (await sogni.chat.runs.cancel(third.runId, 'stop')).status;
  process.stdout.write(JSON.stringify(report) + '\n');
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error('runs driver failed:', e && e.stack ? e.stack : e);
    process.exit(2);
  }
);
