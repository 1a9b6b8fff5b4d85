import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, saveResult, tempDir } from './lib.js';

const exec = promisify(execFile);
const BIN = path.join(ROOT, 'bin', 'tributary.js');

/** Wall time of one process, in ms. */
async function timed(args: string[], cwd: string): Promise<number> {
  const t0 = performance.now();
  await exec(process.execPath, args, { cwd });
  return performance.now() - t0;
}

async function median(args: string[], cwd: string, n: number): Promise<number> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) ms.push(await timed(args, cwd));
  ms.sort((a, b) => a - b);
  return Math.round(ms[Math.floor(n / 2)] ?? Number.NaN);
}

/**
 * CLI start-up (issue 18's target: `status` on a loaded pipeline in < 200 ms). Medians of
 * `runs` processes each: a bare `node -e 0` (the floor: Node's own start, measured in the
 * same run), `tributary --version` (the CLI with no stage), and `status` and a no-op `run`
 * on a loaded SQLite pipeline (the demo's files, loaded once before).
 */
export async function benchStartup(runs = 15): Promise<Record<string, unknown>> {
  const dir = tempDir('trib-bench-startup-');
  fs.cpSync(path.join(ROOT, 'examples', 'markets'), dir, { recursive: true });
  await exec(process.execPath, [BIN, 'run', '--quiet'], { cwd: dir });
  const bareNodeMs = await median(['-e', '0'], dir, runs);
  const versionMs = await median([BIN, '--version'], dir, runs);
  const statusMs = await median([BIN, 'status'], dir, runs);
  const noopRunMs = await median([BIN, 'run', '--quiet'], dir, runs);
  fs.rmSync(dir, { recursive: true, force: true });
  const result = {
    runs,
    bareNodeMs,
    versionMs,
    statusMs,
    noopRunMs,
    statusOverBareNode: Number((statusMs / bareNodeMs).toFixed(2)),
    target: 'statusMs < 200 (and a no-op run)',
    met: statusMs < 200 && noopRunMs < 200,
  };
  saveResult('startup', result);
  return result;
}
