import { Option } from 'commander';
import type { CliLog } from './log.js';

/** Output streams, injectable for tests. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  /** Set before each command runs, from `--log-level` / `--log-format`. */
  log?: CliLog;
  /** Ask a question on the terminal; absent when there is none to ask on (then `--yes` is needed). */
  prompt?: (question: string) => Promise<string>;
}

export const configOption = () =>
  new Option('-c, --config <file>', 'pipeline config file').default('tributary.yaml');
