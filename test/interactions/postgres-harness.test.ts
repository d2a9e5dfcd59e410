import { findPostgresBinDir } from '../harness/postgres';

describe('the PostgreSQL test harness', () => {
  it('fails with how to install PostgreSQL when its binaries are missing, instead of skipping', () => {
    expect(() => findPostgresBinDir({ PATH: '/nonexistent-bin' }, '/nonexistent-postgresql')).toThrow(/apt-get install postgresql.*SB_PG_BIN/s);
  });

  it('finds the binaries this machine has (Debian layout, SB_PG_BIN or PATH)', () => {
    expect(findPostgresBinDir()).toMatch(/\S/);
  });
});
