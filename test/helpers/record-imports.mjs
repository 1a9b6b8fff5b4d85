// `TRIBUTARY_RECORD_IMPORTS=FILE node --import ./test/helpers/record-imports.mjs …`: appends
// to FILE, one per line, every module the process loads — ES modules as resolved by the
// loader hook (which runs on its own thread: written there, synchronously, nothing lost at
// exit) and CommonJS ones as `require` resolves them (test/cli/startup.test.ts).
import fs from 'node:fs';
import Module, { register } from 'node:module';
import { pathToFileURL } from 'node:url';

const file = process.env.TRIBUTARY_RECORD_IMPORTS;
if (!file) throw new Error('record-imports.mjs: set TRIBUTARY_RECORD_IMPORTS to the file to write');

const hooks = `
import fs from 'node:fs';
let file;
export function initialize(data) { file = data.file; }
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  fs.appendFileSync(file, r.url + '\\n');
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`, { data: { file } });

const load = Module._load;
Module._load = function recorded(request, parent, isMain) {
  try {
    const resolved = Module._resolveFilename(request, parent, isMain);
    fs.appendFileSync(file, `${resolved.startsWith('/') ? pathToFileURL(resolved).href : resolved}\n`);
  } catch {
    // what fails to resolve is the caller's error to see, from the real load below
  }
  return load.apply(this, [request, parent, isMain]);
};
