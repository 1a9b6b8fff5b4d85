import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What this package is, read from its package.json: the one place its npm name is written. */
export interface PackageInfo {
  /** The npm name (`npm install <name>`), which may be scoped. */
  readonly name: string;
  readonly version: string;
  /** The folder holding package.json: the repository, or `node_modules/<name>` once installed. */
  readonly root: string;
}

let cached: PackageInfo | undefined;

/** This package's name, version and folder (src/core/ and dist/core/ are both two levels down). */
export function packageInfo(): PackageInfo {
  if (cached) return cached;
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const json = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
  };
  cached = Object.freeze({ name: json.name, version: json.version, root });
  return cached;
}
