// examples/python-service.py against a real server, where a python3 with PyJWT and
// cryptography is importable (Debian's python3-jwt and python3-cryptography: .ci/run
// installs them); skipped with a message otherwise.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe } from 'vitest';
import { EXAMPLES, startExample } from '../helpers/examples.js';
import { downstreamServiceCases } from './downstream-cases.js';

/** The system's python3 first: the one apt installs PyJWT for. */
const PYTHON = ['/usr/bin/python3', 'python3'].find((python) => spawnSync(python, ['-c', 'import jwt, cryptography'], { stdio: 'ignore' }).status === 0);
if (PYTHON === undefined) console.warn('examples/python-service.py not run: no python3 here can import jwt and cryptography (apt-get install python3-jwt python3-cryptography)');

describe.skipIf(PYTHON === undefined)('examples/python-service.py, PyJWT checking signature, issuer, audience, expiry, typ and scope', () => {
  downstreamServiceCases((env) => startExample(PYTHON!, [join(EXAMPLES, 'python-service.py')], { ...env, PYTHONUNBUFFERED: '1' }));
});
