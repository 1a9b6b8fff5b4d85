/**
 * The order a run loads its files in, as a small scheduler with no I/O of its own. Files of
 * one table load one after the other in path order (a later file wins, and a file sees the
 * schema its predecessors left); files of different tables load at the same time, up to
 * `width` lanes. Each free lane takes the first file in path order whose table is not being
 * loaded, so with one lane the order is the path order.
 */

export interface LaneFile {
  path: string;
  table: string;
}

export interface LaneOptions {
  /** Lanes at most (the destination's concurrent loads); at least one, at most one per table. */
  width: number;
  signal?: AbortSignal;
  /** Thrown to stop the lanes when `signal` aborts. */
  interrupted: () => Error;
  /** A file left for the next run because an earlier file of its table is held (see `hold`). */
  onDeferred: (file: LaneFile, heldBy: string) => void;
}

/**
 * Loads `files` (in path order) with `load`, which gets the file's index and may `hold` its
 * table: the table's later files are then not loaded this run (`onDeferred` says so). The
 * first error `load` throws stops every lane after its current file and is thrown at the
 * end, once all lanes are idle.
 */
export async function runLanes(
  files: readonly LaneFile[],
  load: (i: number, hold: () => void) => Promise<void>,
  options: LaneOptions,
): Promise<void> {
  const pending = files.map((_, i) => i);
  const busy = new Set<string>();
  const held = new Map<string, string>(); // table → the file that holds it
  const waiting: Array<() => void> = [];
  const wakeAll = () => {
    for (const w of waiting.splice(0)) w();
  };
  let fatal: { error: unknown } | undefined;

  function take(): number | undefined {
    for (let k = held.size === 0 ? -1 : pending.length - 1; k >= 0; k--) {
      const f = files[pending[k] as number] as LaneFile;
      const first = held.get(f.table);
      if (first === undefined) continue;
      pending.splice(k, 1);
      options.onDeferred(f, first);
    }
    const k = pending.findIndex((i) => !busy.has((files[i] as LaneFile).table));
    if (k === -1) return undefined;
    const [i] = pending.splice(k, 1) as [number];
    busy.add((files[i] as LaneFile).table);
    return i;
  }

  async function lane(): Promise<void> {
    while (pending.length > 0) {
      if (fatal) return;
      if (options.signal?.aborted) {
        fatal = { error: options.interrupted() };
        return;
      }
      const i = take();
      if (i === undefined) {
        if (pending.length === 0) return;
        await new Promise<void>((resolve) => waiting.push(resolve)); // until a table is free
        continue;
      }
      const file = files[i] as LaneFile;
      try {
        await load(i, () => held.set(file.table, file.path));
      } catch (error) {
        fatal ??= { error }; // the other lanes stop after their current file
      } finally {
        busy.delete(file.table);
        wakeAll();
      }
    }
  }

  const tables = new Set(files.map((f) => f.table)).size;
  const width = Math.max(1, Math.min(options.width, tables));
  await Promise.all(Array.from({ length: width }, lane));
  if (fatal) throw fatal.error;
}
