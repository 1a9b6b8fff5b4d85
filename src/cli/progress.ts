import type { RunEvent } from '../runner/events.js';
import { errStyle, type Io } from './io.js';
import { eventLine } from './render.js';

/**
 * Live one-line progress on a terminal (stderr): files done/total, rows and rows/s, MB/s,
 * the time left (from the bytes still to read at the rate so far), the files each worker
 * process loaded when a queue's workers load the run (`run --queue`), and the file(s) being
 * loaded — several at once where the destination loads tables concurrently.
 */
export class Progress {
  #total = 0;
  #totalBytes = 0;
  #done = 0;
  #rows = 0;
  #bytes = 0;
  /** Files in progress: their size, bytes and rows read so far. */
  #current = new Map<string, { size: number; bytes: number; rows: number }>();
  /** Files loaded per worker process (`run --queue`). */
  #workers = new Map<string, number>();
  #last = 0;
  #active = false;

  constructor(
    private readonly io: Io,
    private readonly write: (text: string) => void = (text) => process.stderr.write(text),
    private readonly columns: () => number = () => process.stderr.columns || 100,
    private readonly start = Date.now(),
  ) {}

  update(e: RunEvent): void {
    switch (e.type) {
      case 'files_discovered':
        this.#total = e.toLoad;
        this.#totalBytes = e.bytes;
        break;
      case 'file_started':
        this.#current.set(e.file, { size: e.size, bytes: 0, rows: 0 });
        break;
      case 'file_progress': {
        const f = this.#current.get(e.file);
        this.#current.set(e.file, { size: f?.size ?? 0, bytes: e.bytes, rows: e.rows });
        break;
      }
      case 'file_loaded':
      case 'file_unchanged':
      case 'file_failed': {
        const f = this.#current.get(e.file);
        this.#done++;
        // A finished file was read whole (a worker elsewhere may not have said how far it got).
        this.#bytes += Math.max(f?.bytes ?? 0, f?.size ?? 0);
        this.#rows += e.type === 'file_loaded' ? Math.max(e.rows, f?.rows ?? 0) : (f?.rows ?? 0);
        if (e.type === 'file_loaded' && e.worker)
          this.#workers.set(e.worker, (this.#workers.get(e.worker) ?? 0) + 1);
        this.#current.delete(e.file);
        if (e.type === 'file_failed') this.#print(eventLine(e, errStyle(this.io)) ?? '');
        break;
      }
      default:
        break;
    }
    this.#render(e.type === 'file_progress');
  }

  /** The status line (without the terminal's control characters). */
  line(now = Date.now()): string {
    const secs = Math.max((now - this.start) / 1000, 0.001);
    let bytes = this.#bytes;
    let rows = this.#rows;
    for (const f of this.#current.values()) {
      bytes += f.bytes;
      rows += f.rows;
    }
    const rate = bytes / secs;
    const left = this.#totalBytes - bytes;
    const eta = rate > 0 && left > 0 && secs >= 1 ? `  ETA ${clock(left / rate)}` : '';
    const files = [...this.#current.keys()];
    const what = files.length > 1 ? `${files[0]} (+${files.length - 1} more)` : (files[0] ?? '');
    const workers =
      this.#workers.size > 0 ? `  workers ${[...this.#workers].map(([w, n]) => `${w} ${n}`).join(', ')}` : '';
    return `files ${this.#done}/${this.#total}  rows ${rows} (${Math.round(rows / secs)}/s)  ${(rate / 1e6).toFixed(1)} MB/s${eta}${workers}  ${what}`;
  }

  #print(line: string): void {
    this.#clear();
    this.io.err(line);
  }

  #render(throttle: boolean): void {
    const now = Date.now();
    if (throttle && now - this.#last < 100) return;
    this.#last = now;
    this.write(`\r\x1b[2K${this.line(now).slice(0, this.columns() - 1)}`);
    this.#active = true;
  }

  #clear(): void {
    if (this.#active) this.write('\r\x1b[2K');
    this.#active = false;
  }

  stop(): void {
    this.#clear();
  }
}

/** Seconds as `1h02m`, `3m05s` or `42s`. */
export function clock(seconds: number): string {
  const s = Math.ceil(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}
