export type Dialect = 'sqlite' | 'mariadb' | 'postgres';
/**
 * Every end-to-end suite runs once per dialect (ARCHITECTURE.md: one shared suite);
 * `TRIBUTARY_TEST_DIALECTS=sqlite,postgres` selects. (Its own module: the destination suites
 * read it without loading the CLI, as workspace.ts does.)
 */
export const DIALECTS: Dialect[] = process.env.TRIBUTARY_TEST_DIALECTS
  ? (process.env.TRIBUTARY_TEST_DIALECTS.split(',') as Dialect[])
  : ['sqlite', 'mariadb', 'postgres'];
