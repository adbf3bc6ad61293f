// Several instances on one database: how soon one learns of another's rotation, with the
// periodic re-read effectively off (an hour), so only the change feed or a re-read for an
// unknown kid can tell it.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Keyring } from '../../src/domain/keyring.js';
import { DIALECTS, dialectTitle, PG_URL } from '../helpers/db.js';
import { useKeyringFixture } from '../helpers/keyring.js';
import { within } from '../helpers/wait.js';

const NO_TIMER = { refreshSeconds: 3600 };
const NOTICE_WITHIN_MS = 2000;

describe.skipIf(!PG_URL)(`instances on one PostgreSQL schema${PG_URL ? '' : ' (skipped: set SCOPE_AUTH_TEST_DATABASE_URL)'}`, () => {
  const fixture = useKeyringFixture('postgres');
  let admin: pg.Client;
  beforeEach(async () => {
    admin = new pg.Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterEach(async () => admin?.end());

  /** The backend of the feed session named `applicationName` once it listens. */
  async function listeningPid(applicationName: string): Promise<number | undefined> {
    const { rows } = await admin.query<{ pid: number }>(
      "select pid from pg_stat_activity where application_name = $1 and query ilike 'listen %'",
      [applicationName],
    );
    return rows[0]?.pid;
  }

  /** Instance A rotates; instance B listens on a feed whose session is named `applicationName`. */
  async function twoInstances(applicationName: string): Promise<{ a: Keyring; b: Keyring }> {
    const { db, keyringOn, secondConnection, feed } = fixture();
    const a = keyringOn(db, NO_TIMER);
    await a.init();
    const b = keyringOn(await secondConnection(), { ...NO_TIMER, changes: feed(applicationName) });
    await b.init();
    b.start();
    // From here only a notification can tell B of a rotation.
    await within(NOTICE_WITHIN_MS, async () => (await listeningPid(applicationName)) !== undefined);
    return { a, b };
  }

  it('makes a rotation on one instance sign and publish on the other at once, through the change feed', async () => {
    const { a, b } = await twoInstances(`keyring test ${randomBytes(4).toString('hex')}`);
    const rotation = await a.rotate({ immediate: true });
    await within(NOTICE_WITHIN_MS, () => b.signingKey().kid === rotation.activated.kid);
    expect(b.jwks()).toEqual(a.jwks());

    const replaced = await a.rotate({ immediate: true, replaceStandby: true });
    await within(NOTICE_WITHIN_MS, () => b.signingKey().kid === replaced.activated.kid);
    expect(b.verificationKey(rotation.standby.kid)).toBeUndefined();
    expect(b.list()).toEqual(a.list());
  });

  it('hears of later rotations after the feed\'s own connection is terminated', async () => {
    const applicationName = `keyring test ${randomBytes(4).toString('hex')}`;
    const { a, b } = await twoInstances(applicationName);
    const killed = await listeningPid(applicationName);
    await admin.query('select pg_terminate_backend($1)', [killed]);
    // Rotated while the feed may be down: the reconnect re-reads.
    const first = await a.rotate({ immediate: true });
    await within(5000, () => b.signingKey().kid === first.activated.kid);
    await within(5000, async () => ![undefined, killed].includes(await listeningPid(applicationName)));

    const second = await a.rotate({ immediate: true });
    await within(NOTICE_WITHIN_MS, () => b.signingKey().kid === second.activated.kid);
  });
});

describe.each(DIALECTS)('an instance that meets a kid it does not know, on $dialect', (dialectCase) => {
  describe.skipIf(dialectCase.skip !== null)(dialectTitle(dialectCase), () => {
    const fixture = useKeyringFixture(dialectCase.dialect);

    async function twoInstances(): Promise<{ a: Keyring; b: Keyring }> {
      const { db, keyringOn, secondConnection } = fixture();
      const a = keyringOn(db, NO_TIMER);
      await a.init();
      const b = keyringOn(await secondConnection(), NO_TIMER);
      await b.init();
      return { a, b };
    }

    it('re-reads the keys before it calls the kid unknown', async () => {
      const { a, b } = await twoInstances();
      const { activated } = await a.rotate({ immediate: true, replaceStandby: true });
      expect(b.verificationKey(activated.kid)).toBeUndefined();
      expect(await b.resolveVerificationKey(activated.kid)).toBeDefined();
      expect(b.signingKey().kid).toBe(activated.kid);
      expect(await b.resolveVerificationKey('no-such-kid')).toBeUndefined();
    });

    it('shares one re-read among concurrent callers and starts re-reads at most once a second, each seeing what was committed before it was asked', async () => {
      const { a, b } = await twoInstances();
      const start = performance.now();
      expect(await b.resolveVerificationKey('junk-1')).toBeUndefined();
      expect(performance.now() - start).toBeLessThan(900);

      const { activated } = await a.rotate({ immediate: true, replaceStandby: true });
      const callers = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) => b.resolveVerificationKey(`junk-${i + 2}`)),
        b.resolveVerificationKey(activated.kid),
      ]);
      const elapsed = performance.now() - start;
      expect(callers.slice(0, 20).every((key) => key === undefined)).toBe(true);
      expect(callers[20]).toBeDefined();
      expect(elapsed).toBeGreaterThanOrEqual(990);
      // One shared read, not twenty paced a second apart.
      expect(elapsed).toBeLessThan(3000);
    });
  });
});
