import fs from 'node:fs';
import path from 'node:path';
import { runCli, saveResult, tempDir } from './lib.js';

/**
 * A rerun over many unchanged files must cost almost nothing: no file is opened (size and
 * mtime match the ledger). Loads `files` small files once, then times a second run.
 */
export async function benchNoop(files = 10_000): Promise<Record<string, unknown>> {
  const dir = tempDir('trib-bench-noop-');
  for (let d = 0; d < files / 100; d++) {
    const sub = path.join(dir, 'in', `day-${String(d).padStart(4, '0')}`);
    fs.mkdirSync(sub, { recursive: true });
    for (let f = 0; f < 100; f++) {
      const id = d * 100 + f;
      fs.writeFileSync(path.join(sub, `e-${f}.ndjson`), `{"id":${id},"v":"x${id}"}\n`);
    }
  }
  fs.writeFileSync(
    path.join(dir, 'tributary.yaml'),
    'pipeline: noop\ndestination: sqlite:out.db\nsources:\n  - table: events\n    files: "in/*/*.ndjson"\n    primary_key: id\n',
  );
  const first = await runCli(['run', '--quiet'], dir);
  if (first.code !== 0) throw new Error(`first run failed: ${first.stderr}`);
  const again = await runCli(['run', '--json'], dir);
  if (again.code !== 0) throw new Error(`rerun failed: ${again.stderr}`);
  const done = again.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .find((e) => e.type === 'run_finished');
  if (done.summary.files.unchanged !== files || done.summary.files.loaded !== 0) {
    throw new Error(`rerun was not a no-op: ${JSON.stringify(done.summary.files)}`);
  }
  fs.rmSync(dir, { recursive: true, force: true });
  const result = {
    files,
    firstRunMs: Math.round(first.ms),
    noopRerunMs: Math.round(again.ms),
    target: 'noopRerunMs < 2000',
    maxRssMb: Math.round(again.maxRssMb),
  };
  saveResult('noop', result);
  return result;
}
