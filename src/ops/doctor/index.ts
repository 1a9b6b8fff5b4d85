import fs from 'node:fs';
import os from 'node:os';
import { describeDestination } from '../../config/destination.js';
import type { ResolvedConfig } from '../../config/resolve.js';
import { messageOf } from '../../core/errors.js';
import { createDestination } from '../../destinations/index.js';
import type { Destination, LiveTable } from '../../destinations/types.js';
import { keyConflict } from '../../schema/diff.js';
import { type DiscoveredFile, discoverFiles } from '../../sources/discover.js';
import { type LedgerEntry, readLedger } from '../../state/ledger.js';
import { listRuns } from '../../state/runs.js';
import {
  bulkLoadCheck,
  type Check,
  diskCheck,
  encodingCheck,
  fail,
  filesCheck,
  healthy,
  ok,
  privilegesCheck,
  refused,
  skip,
  unreachable,
  versionCheck,
  warn,
} from './checks.js';
import {
  dataDir,
  dbEncoding,
  folderWritable,
  freeBytes,
  localInfile,
  probePrivileges,
  readHead,
  serverVersion,
  tcpProbe,
} from './probes.js';

export type { Check } from './checks.js';

export interface DoctorReport {
  /** Absolute path of the config checked. */
  config: string;
  pipeline: string | null;
  destination: string | null;
  ok: boolean;
  checks: Check[];
}

export interface DoctorOptions {
  /** Each check as it is decided (for logs). */
  onCheck?: (check: Check) => void;
  /** Files whose head is read per source; default 500. */
  maxFilesPerSource?: number;
}

/**
 * `tributary doctor`: the config, the files, the destination (reachable, version,
 * privileges, bulk path, lock), free disk and the state of past runs — each as a check with
 * the fix when something is wrong. Later checks that need an earlier one are skipped.
 */
export async function runDoctor(
  configPath: string,
  load: () => ResolvedConfig,
  options: DoctorOptions = {},
): Promise<DoctorReport> {
  const checks: Check[] = [];
  const add = (...cs: Check[]) => {
    for (const c of cs) {
      checks.push(c);
      options.onCheck?.(c);
    }
  };
  const report = (config: ResolvedConfig | undefined): DoctorReport => ({
    config: config?.file ?? configPath,
    pipeline: config?.pipeline ?? null,
    destination: config ? describeDestination(config.destination) : null,
    ok: healthy(checks),
    checks,
  });
  let config: ResolvedConfig;
  try {
    config = load();
  } catch (err) {
    add(
      fail(
        'config',
        messageOf(err),
        'fix the keys listed (docs/configuration.md), or create one with `tributary init`',
      ),
    );
    return report(undefined);
  }
  add(ok('config', `${config.file}: pipeline ${config.pipeline}, ${config.sources.length} source(s)`));
  const files = await checkFiles(config, options.maxFilesPerSource ?? 500, add);
  await checkDestination(config, files, add);
  return report(config);
}

async function checkFiles(
  config: ResolvedConfig,
  maxPerSource: number,
  add: (...c: Check[]) => void,
): Promise<DiscoveredFile[]> {
  const claimed = new Map<string, DiscoveredFile>();
  const sources: Array<{ label: string; files: number; bytes: number }> = [];
  const unreadable: Array<{ file: string; error: string }> = [];
  for (const s of config.sources) {
    const found = await discoverFiles(config.baseDir, s.files);
    sources.push({
      label: `sources[${s.index}] (${s.table}, "${s.files}")`,
      files: found.length,
      bytes: found.reduce((n, f) => n + f.size, 0),
    });
    for (const f of found.slice(0, maxPerSource)) {
      if (claimed.has(f.path)) continue;
      claimed.set(f.path, f);
      const error = await readHead(f, s);
      if (error) unreadable.push({ file: f.path, error });
    }
  }
  add(...filesCheck(sources, unreadable));
  return [...claimed.values()];
}

async function checkDestination(
  config: ResolvedConfig,
  files: DiscoveredFile[],
  add: (...c: Check[]) => void,
): Promise<void> {
  const d = config.destination;
  const target = describeDestination(d);
  const skipRest = (why: string) =>
    add(...['version', 'privileges', 'lock', 'disk', 'state', 'keys'].map((n) => skip(n, why)));
  if (d.kind === 'mysql' || d.kind === 'postgres') {
    const code = await tcpProbe(d.host, d.port);
    if (code) {
      add(unreachable(target, d.host, d.port, code));
      return skipRest('the destination is unreachable');
    }
  } else if (!fs.existsSync(d.path)) {
    const notWritable = folderWritable(d.path);
    add(
      notWritable
        ? fail(
            'destination',
            `${target} cannot be created: ${notWritable}`,
            'make the folder writable, or change `destination:`',
          )
        : ok('destination', `${target} does not exist yet; the first run creates it`),
    );
    add(skip('version', 'no database file yet'), skip('privileges', 'no database file yet'));
    const space = await freeBytes(d.path);
    if (space) add(diskCheck(space.where, space.free, pendingBytes(files, new Map())));
    return;
  }
  let dest: Destination;
  try {
    dest = await createDestination(d);
    await dest.open();
  } catch (err) {
    add(refused(target, messageOf(err)));
    return skipRest('the destination did not open');
  }
  try {
    add(ok('destination', `${dest.description} is reachable`));
    await probeServer(config, dest, files, add);
  } finally {
    await dest.close();
  }
}

async function probeServer(
  config: ResolvedConfig,
  dest: Destination,
  files: DiscoveredFile[],
  add: (...c: Check[]) => void,
): Promise<void> {
  const d = config.destination;
  // One probe failing (a missing privilege, a server variable we may not read) must not
  // hide the others: each becomes a failed check with the server's words.
  const guard = async (name: string, probe: () => Promise<Check | undefined>) => {
    try {
      const c = await probe();
      if (c) add(c);
    } catch (err) {
      add(
        fail(
          name,
          messageOf(err),
          'see the privileges check; `tributary doctor --log-level debug` shows each step',
        ),
      );
    }
  };
  await guard('version', async () => versionCheck(dest.dialect.name, await serverVersion(dest)));
  await guard('privileges', async () =>
    privilegesCheck(
      await probePrivileges(dest),
      d.kind === 'mysql'
        ? { user: d.user, database: d.database }
        : d.kind === 'postgres'
          ? { user: d.user, database: d.database, schema: d.schema, dialect: 'postgres' }
          : undefined,
    ),
  );
  await guard('encoding', async () => {
    const encoding = await dbEncoding(dest);
    return encoding === undefined ? undefined : encodingCheck(encoding);
  });
  await guard('bulk_load', async () => {
    const infile = await localInfile(dest);
    return infile === undefined ? undefined : bulkLoadCheck(infile);
  });
  await guard('lock', () => lockCheck(dest, config.pipeline));
  const ledger = await readLedgerOrEmpty(dest, config.pipeline);
  await guard('disk', async () => {
    const where = d.kind === 'sqlite' ? d.path : isLocal(d.host) ? await dataDir(dest) : undefined;
    const space = where ? await freeBytes(where) : undefined;
    return space
      ? diskCheck(space.where, space.free, pendingBytes(files, ledger))
      : skip('disk', 'the database server is on another host: check its free disk there');
  });
  await guard('state', () => stateCheck(dest, config.pipeline, ledger));
  await guard('keys', async () => keysCheck(config, await dest.readCatalog()));
}

/** Each loaded table's key must be the one the config gives (a key changed after loading). */
function keysCheck(config: ResolvedConfig, catalog: Map<string, LiveTable>): Check {
  const problems: string[] = [];
  for (const s of config.sources) {
    const live = catalog.get(s.table);
    const conflict = live && keyConflict(s.table, live.primaryKey, s.primaryKey);
    if (conflict && !problems.includes(conflict)) problems.push(conflict);
  }
  if (problems.length === 0) return ok('keys', 'every loaded table has the key its source gives');
  return fail(
    'keys',
    problems.join('\n'),
    'its files fail with SCHEMA_CONFLICT until the table is rebuilt with the new key (`tributary run --full-refresh --table T --yes`) or the config is put back',
  );
}

async function lockCheck(dest: Destination, pipeline: string): Promise<Check> {
  const held = await dest.tryLock(pipeline, `doctor:${os.hostname()}:${process.pid}`);
  if (!held) {
    await dest.unlock(pipeline);
    return ok('lock', 'no run in progress');
  }
  return warn(
    'lock',
    `a run of ${pipeline} is in progress: ${held.holder} since ${held.since}`,
    'wait for it to finish (`tributary run --wait SECONDS` queues behind it)',
  );
}

async function readLedgerOrEmpty(dest: Destination, pipeline: string): Promise<Map<string, LedgerEntry>> {
  try {
    return await readLedger(dest, pipeline);
  } catch {
    return new Map(); // no state tables yet: nothing has run
  }
}

/** Bytes of the files a run would read: new, changed by size/mtime, or failed. */
function pendingBytes(files: readonly DiscoveredFile[], ledger: ReadonlyMap<string, LedgerEntry>): number {
  return files
    .filter((f) => {
      const e = ledger.get(f.path);
      if (!e) return true;
      return e.status !== 'loaded' || e.size !== f.size || e.mtimeMs !== f.mtimeMs;
    })
    .reduce((n, f) => n + f.size, 0);
}

async function stateCheck(
  dest: Destination,
  pipeline: string,
  ledger: Map<string, LedgerEntry>,
): Promise<Check> {
  const failed = [...ledger.values()].filter((e) => e.status === 'failed');
  if (failed.length > 0) {
    const list = failed
      .slice(0, 3)
      .map((e) => `${e.path}: ${e.error ?? 'unknown error'}`)
      .join('; ');
    return warn(
      'state',
      `${failed.length} file(s) failed to load: ${list}${failed.length > 3 ? '; …' : ''}`,
      'fix each cause (the file or the config); failed files are retried on every run — docs/operations.md, "A failed file"',
    );
  }
  let last: Awaited<ReturnType<typeof listRuns>>[number] | undefined;
  try {
    [last] = await listRuns(dest, pipeline, { limit: 1 });
  } catch {
    last = undefined;
  }
  if (!last) return ok('state', 'no runs yet');
  if (last.status === 'failed' || last.status === 'crashed') {
    return warn(
      'state',
      `the last run (#${last.id}, ${last.startedAt}) ${last.status}${last.error ? `: ${last.error}` : ''}`,
      `see \`tributary history --run ${last.id}\`; the next run picks up where it stopped`,
    );
  }
  return ok(
    'state',
    `last run #${last.id} ${last.status} (${last.startedAt}); ${ledger.size} file(s) in the ledger`,
  );
}

function isLocal(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '::1';
}
