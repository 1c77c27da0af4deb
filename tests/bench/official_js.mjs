// Latency driver for the official JS client (run by the bench with NODE_PATH at its install).
// Runs N sequential one-image projects and M sequential chats through one client and prints one
// JSON line: the app id and the wall-clock time (seconds) at which each call returned.
// With BENCH_STREAM_CHARS > 0 it then streams one chat of that many answer characters.
import { createRequire } from 'node:module';
import path from 'node:path';
import crypto from 'node:crypto';

const env = process.env;
const require = createRequire(path.join(env.SOGNI_JS_DIR, 'package.json'));
const { SogniClient } = require('@sogni-ai/sogni-client');
const now = () => (performance.timeOrigin + performance.now()) / 1000;

const appId = `bench-official-js-${crypto.randomUUID()}`;
const sogni = await SogniClient.createInstance({
  appId, network: 'fast', apiKey: env.SOGNI_API_KEY, logLevel: 'error',
  restEndpoint: env.SOGNI_REST_ENDPOINT, socketEndpoint: env.SOGNI_SOCKET_ENDPOINT,
});
const nProjects = Number(env.BENCH_PROJECTS || 50);
const nChats = Number(env.BENCH_CHATS || 50);
await sogni.projects.waitForModels(30000);
const projects = [];
for (let i = 0; i < nProjects; i++) {
  const p = await sogni.projects.create({
    type: 'image', modelId: env.BENCH_IMAGE_MODEL, numberOfMedia: 1, positivePrompt: `latency ${i}`,
    steps: 1, network: 'fast', tokenType: 'spark', outputFormat: 'png',
  });
  await p.waitForCompletion();
  projects.push(now());
}
const chats = [];
if (nChats) await sogni.chat.waitForModels(30000);
for (let i = 0; i < nChats; i++) {
  await sogni.chat.completions.create({
    model: env.BENCH_LLM_MODEL, max_tokens: 16, think: false,
    messages: [{ role: 'user', content: `latency ${i}` }],
  });
  chats.push(now());
}
const out = { app_id: appId, projects, chats };
const nChars = Number(env.BENCH_STREAM_CHARS || 0);
if (nChars > 0) {
  // One streamed chat whose answer is nChars long (the emulator echoes the prompt).
  await sogni.chat.waitForModels(30000);
  await sogni.chat.completions.create({
    model: env.BENCH_LLM_MODEL, max_tokens: 8, think: false,
    messages: [{ role: 'user', content: 'warm up' }],
  });
  const text = 'abcdefghij'.repeat(Math.ceil(nChars / 10)).slice(0, nChars);
  const t0 = performance.now();
  const st = await sogni.chat.completions.create({
    model: env.BENCH_LLM_MODEL, stream: true, max_tokens: nChars, think: false,
    messages: [{ role: 'user', content: text }],
  });
  let chunks = 0;
  let chars = 0;
  for await (const chunk of st) {
    chunks += 1;
    chars += (chunk?.content || '').length;
  }
  out.stream = { chunks, chars, seconds: (performance.now() - t0) / 1000 };
}
process.stdout.write(JSON.stringify(out) + '\n');
try { await sogni.apiClient.disconnect?.(); } catch {}
process.exit(0);
