// deploy/scope-auth@.service as systemd reads it: `systemd-analyze verify` (unknown keys,
// bad values, a missing ExecStart binary) and `systemd-analyze security` (what the
// hardening leaves exposed), on an instance of the template. Skipped without systemd-analyze.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNIT_FILE } from '../helpers/deploy-files.js';
import { installed } from '../helpers/proxies.js';

const available = installed('systemd-analyze');

describe.skipIf(!available)(`the systemd unit${available ? '' : ' (skipped: systemd-analyze is not installed; apt-get install systemd)'}`, () => {
  let dir: string;
  let instance: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'scope-auth-unit-'));
    // The unit names /usr/bin/node, where Debian's and NodeSource's packages put it; verify
    // checks that it exists, so elsewhere it is this test's node.
    const unit = readFileSync(UNIT_FILE, 'utf8');
    writeFileSync(join(dir, 'scope-auth@.service'), existsSync('/usr/bin/node') ? unit : unit.replace('/usr/bin/node', process.execPath));
    instance = join(dir, 'scope-auth@8081.service');
    symlinkSync('scope-auth@.service', instance);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes systemd-analyze verify without a warning', () => {
    const run = spawnSync('systemd-analyze', ['verify', instance], { encoding: 'utf8', timeout: 30_000 });
    const ours = (run.stderr + run.stdout).split('\n').filter((line) => line.includes('scope-auth@'));
    expect({ status: run.status, messages: ours }).toEqual({ status: 0, messages: [] });
  });

  it('is rated OK (exposure below 2 of 10) by systemd-analyze security', () => {
    const run = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', instance], { encoding: 'utf8', timeout: 30_000 });
    const exposure = /Overall exposure level for scope-auth@8081\.service: ([\d.]+)/.exec(run.stdout + run.stderr);
    expect(exposure, run.stdout + run.stderr).not.toBeNull();
    expect(Number(exposure![1])).toBeLessThan(2);
  });
});
