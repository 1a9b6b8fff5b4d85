import { createRequire } from 'node:module';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { messageOf, TributaryError } from '../../core/errors.js';

type DatabaseClass = typeof Database;

let loaded: DatabaseClass | undefined;

/**
 * better-sqlite3, loaded and tried (an in-memory database) on first use. It is an optional
 * dependency (package.json): its native module comes prebuilt for common platforms, else npm
 * compiles it, and when neither works npm leaves it out instead of failing the whole install
 * with a compiler log. The SQLite destination then says here what is missing and how to get
 * it; the MySQL/MariaDB and PostgreSQL destinations never load it.
 */
export function sqliteDriver(): DatabaseClass {
  if (loaded) return loaded;
  const require = createRequire(import.meta.url);
  let Driver: DatabaseClass;
  try {
    Driver = require('better-sqlite3') as DatabaseClass;
  } catch (err) {
    throw driverError(
      'which is not installed: npm leaves it out when it can neither download a prebuilt binary of it nor compile one',
      '  With them, install Tributary again (`npm install -g tributary-etl --allow-scripts=better-sqlite3`, or `npm install` in your project).',
      err,
    );
  }
  try {
    new Driver(':memory:').close();
  } catch (err) {
    // bindings' "Could not locate the bindings file" (the install script did not run or
    // failed), or ERR_DLOPEN_FAILED (a module built for another Node.js version).
    const message = messageOf(err);
    const reason = message.startsWith('Could not locate the bindings file')
      ? 'no better_sqlite3.node was built (its install script did not run, or failed)'
      : (message.split('\n')[0] ?? message);
    // node_modules/better-sqlite3 → the folder to run `npm rebuild` in (the project, or the
    // package folder of a global install).
    const project = path.dirname(path.dirname(path.dirname(require.resolve('better-sqlite3/package.json'))));
    throw driverError(
      `whose native module does not load in Node.js ${process.version} (${process.platform}-${process.arch}): ${reason}`,
      `  With them, rebuild it: \`npm rebuild better-sqlite3\` in ${project}.`,
      err,
    );
  }
  loaded = Driver;
  return Driver;
}

function driverError(what: string, fix: string, cause: unknown): TributaryError {
  return new TributaryError(
    'DEST_CONNECT',
    [
      `the SQLite destination needs the better-sqlite3 driver, ${what}.`,
      '  Where no prebuilt binary fits, npm compiles it with python3, make and a C++ compiler (Debian/Ubuntu:',
      '  apt-get install python3 make g++; macOS: xcode-select --install; Windows: Visual Studio Build Tools).',
      fix,
      '  MySQL/MariaDB and PostgreSQL destinations work without it.',
    ].join('\n'),
    { cause },
  );
}
