// Chat-recovery driver for the official JS client 5.54.0: streams one chat against a loopback
// server; after its first chunk prints {"first": jobID} (the test then breaks the socket), then
// one JSON report: the job id, the text streamed, the chunk count, or the stream's error.
//
// Input (env): SOGNI_CAPTURE_JS_DIR (folder with node_modules/@sogni-ai/sogni-client),
// SOGNI_REST_ENDPOINT, SOGNI_SOCKET_ENDPOINT, SOGNI_API_KEY, SOGNI_RECOVER_APP_ID,
// SOGNI_RECOVER_MODEL, SOGNI_RECOVER_PROMPT.
import { createRequire } from 'node:module';
import path from 'node:path';

const env = process.env;
for (const k of ['log', 'info', 'debug', 'warn']) console[k] = (...a) => console.error(...a);

const require = createRequire(path.join(env.SOGNI_CAPTURE_JS_DIR, 'package.json'));
const { SogniClient } = require('@sogni-ai/sogni-client');
const say = (value) => process.stdout.write(JSON.stringify(value) + '\n');

async function main() {
  const sogni = await SogniClient.createInstance({
    appId: env.SOGNI_RECOVER_APP_ID, network: 'fast', apiKey: env.SOGNI_API_KEY,
    restEndpoint: env.SOGNI_REST_ENDPOINT, socketEndpoint: env.SOGNI_SOCKET_ENDPOINT,
    logLevel: 'error'
  });
  const stream = await sogni.chat.completions.create({
    model: env.SOGNI_RECOVER_MODEL, stream: true,
    messages: [{ role: 'user', content: env.SOGNI_RECOVER_PROMPT }]
  });
  let content = '';
  let chunks = 0;
  let report;
  try {
    for await (const chunk of stream) {
      if (chunks === 0) say({ first: stream.jobID });
      chunks += 1;
      content += chunk.content || '';
    }
    report = { jobID: stream.jobID, content, chunks };
  } catch (error) {
    report = { jobID: stream.jobID, content, error: String(error?.message || error),
               errorType: error?.errorType ?? null };
  }
  say(report);
  sogni.apiClient?.removeAllListeners?.();
  process.exit(0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
