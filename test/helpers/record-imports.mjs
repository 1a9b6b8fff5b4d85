// `node --import ./test/helpers/record-imports.mjs …`: at exit, prints to stderr one line
// `IMPORTED <json>` with every module URL the process resolved (test/cli/startup.test.ts).
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
const seen = new Set();
port1.on('message', (url) => seen.add(url));
port1.unref();
const hooks = `
let port;
export function initialize(data) { port = data.port; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  port.postMessage(r.url);
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, {
  data: { port: port2 },
  transferList: [port2],
});
process.on('exit', () => process.stderr.write(`IMPORTED ${JSON.stringify([...seen])}\n`));
