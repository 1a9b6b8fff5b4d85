import fs from 'node:fs';
import path from 'node:path';
import { SCHEMA_FILE } from '../../config/json-schema.js';
import type { PackageInfo } from '../../core/package.js';

/**
 * What `tributary init` writes after `$schema=` in the config's first line, so that editors
 * (yaml-language-server: VS Code's YAML extension, Neovim, Helix…; JetBrains IDEs) complete
 * and check its keys. yaml-language-server resolves a relative path from the YAML file's
 * folder, so the reference works for everyone who checks out the project:
 * - the project holding the config has the package installed (`npm i -D …`): the path from
 *   the config to `node_modules/<name>/schema/tributary.schema.json` of the nearest
 *   `node_modules` above it — the schema of the version the project runs, offline;
 * - the config is inside this package's own folder (a checkout of the repository): the
 *   path to the schema file there;
 * - else (a global install, `npx` from its cache): an absolute path would hold only on this
 *   machine, so the package's published copy at that version, on the jsDelivr CDN.
 */
export function schemaReference(configFile: string, pkg: PackageInfo): string {
  const configDir = path.dirname(path.resolve(configFile));
  for (let dir = configDir; ; dir = path.dirname(dir)) {
    const installed = path.join(dir, 'node_modules', pkg.name, SCHEMA_FILE);
    if (fs.existsSync(installed)) return relative(configDir, installed);
    if (path.dirname(dir) === dir) break;
  }
  const own = path.join(pkg.root, SCHEMA_FILE);
  const fromRoot = path.relative(pkg.root, configDir);
  const inside = !fromRoot.startsWith('..') && !path.isAbsolute(fromRoot);
  if (inside && !fromRoot.split(path.sep).includes('node_modules')) return relative(configDir, own);
  return `https://cdn.jsdelivr.net/npm/${pkg.name}@${pkg.version}/${SCHEMA_FILE}`;
}

/** `to` from `fromDir` with `/` separators, starting with `./` or `../`. */
function relative(fromDir: string, to: string): string {
  const rel = path.relative(fromDir, to).split(path.sep).join('/');
  return rel.startsWith('../') ? rel : `./${rel}`;
}
