// Latency driver for the official JS client (run by the bench with NODE_PATH at its install).
// Runs N sequential one-image projects and M sequential chats through one client and prints one
// JSON line: the app id and the wall-clock time (seconds) at which each call returned.
// With BENCH_STREAM_CHARS > 0 it then streams one chat of that many answer characters.
// With BENCH_SOAK_SECONDS > 0 it runs only the soak: BENCH_THREADS concurrent async workers for
// that long, each repeating three one-image projects to one chat; per call the id, the return
// time and the duration, plus the process CPU seconds.
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
const soakSeconds = Number(env.BENCH_SOAK_SECONDS || 0);
if (soakSeconds > 0) {
  await sogni.chat.waitForModels(30000);
  const line = JSON.stringify({ app_id: appId, ...(await soak(soakSeconds)) }) + '\n';
  // a pipe is written asynchronously: exit only once the whole line is out
  await new Promise((resolve) => process.stdout.write(line, resolve));
  try { await sogni.apiClient.disconnect?.(); } catch {}
  process.exit(0);
}
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
  const cpu0 = process.cpuUsage();
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
  const cpu = process.cpuUsage(cpu0);
  out.stream = {
    chunks, chars, seconds: (performance.now() - t0) / 1000,
    cpu_seconds: (cpu.user + cpu.system) / 1e6,
  };
}
await new Promise((resolve) => process.stdout.write(JSON.stringify(out) + '\n', resolve));
try { await sogni.apiClient.disconnect?.(); } catch {}
process.exit(0);

async function soak(seconds) {
  const soakProjects = [];
  const soakChats = [];
  const errors = [];
  let counter = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const stop = t0 + seconds * 1000;
  const worker = async () => {
    while (performance.now() < stop) {
      const i = counter++;
      const start = performance.now();
      try {
        if (i % 4 === 3) {
          const res = await sogni.chat.completions.create({
            model: env.BENCH_LLM_MODEL, max_tokens: 16, think: false,
            messages: [{ role: 'user', content: `soak ${i}` }],
          });
          soakChats.push([res.jobID, now(), (performance.now() - start) / 1000]);
        } else {
          const p = await sogni.projects.create({
            type: 'image', modelId: env.BENCH_IMAGE_MODEL, numberOfMedia: 1,
            positivePrompt: `soak ${i}`, steps: 1, network: 'fast', tokenType: 'spark',
            outputFormat: 'png',
          });
          await p.waitForCompletion();
          soakProjects.push([p.id, now(), (performance.now() - start) / 1000]);
        }
      } catch (e) {
        const what = i % 4 === 3 ? 'chat' : 'image';
        const secs = ((performance.now() - start) / 1000).toFixed(1);
        errors.push(`${what} after ${secs} s: ${String(e?.message || e)}`.slice(0, 200));
      }
    }
  };
  const n = Number(env.BENCH_THREADS || 64);
  await Promise.all(Array.from({ length: n }, worker));
  const cpu = process.cpuUsage(cpu0);
  return {
    projects: soakProjects, chats: soakChats, seconds: (performance.now() - t0) / 1000,
    cpu_seconds: (cpu.user + cpu.system) / 1e6, errors: errors.length,
    first_errors: errors.slice(0, 3), concurrency: n,
  };
}
