import type { RunEvent } from '../runner/events.js';
import type { Io } from './main.js';
import { eventLine } from './render.js';

/** Live one-line progress on a terminal (stderr): files done/total, rows, MB/s. */
export class Progress {
  #total = 0;
  #done = 0;
  #rows = 0;
  #bytes = 0;
  #fileBytes = 0;
  #fileRows = 0;
  #file = '';
  #start = Date.now();
  #last = 0;
  #active = false;

  constructor(private readonly io: Io) {}

  update(e: RunEvent): void {
    switch (e.type) {
      case 'files_discovered':
        this.#total = e.toLoad;
        break;
      case 'file_started':
        this.#file = e.file;
        this.#fileBytes = 0;
        this.#fileRows = 0;
        break;
      case 'file_progress':
        this.#fileBytes = e.bytes;
        this.#fileRows = e.rows;
        break;
      case 'file_loaded':
      case 'file_unchanged':
      case 'file_failed':
        this.#done++;
        this.#bytes += this.#fileBytes;
        this.#rows += this.#fileRows;
        this.#fileBytes = 0;
        this.#fileRows = 0;
        if (e.type === 'file_failed') this.#print(eventLine(e) ?? '');
        break;
      default:
        break;
    }
    this.#render(e.type === 'file_progress');
  }

  #print(line: string): void {
    this.#clear();
    this.io.err(line);
  }

  #render(throttle: boolean): void {
    const now = Date.now();
    if (throttle && now - this.#last < 100) return;
    this.#last = now;
    const secs = Math.max((now - this.#start) / 1000, 0.001);
    const bytes = this.#bytes + this.#fileBytes;
    const mbs = bytes / 1e6 / secs;
    const line = `files ${this.#done}/${this.#total}  rows ${this.#rows + this.#fileRows}  ${mbs.toFixed(1)} MB/s  ${this.#file}`;
    process.stderr.write(`\r\x1b[2K${line.slice(0, (process.stderr.columns || 100) - 1)}`);
    this.#active = true;
  }

  #clear(): void {
    if (this.#active) process.stderr.write('\r\x1b[2K');
    this.#active = false;
  }

  stop(): void {
    this.#clear();
  }
}
