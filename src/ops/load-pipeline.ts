/**
 * The pipeline a one-off `tributary load` records its files and runs under, unless told (its
 * own module: the CLI's help reads it at start-up, without loading ./load.ts).
 */
export const LOAD_PIPELINE = 'load';
