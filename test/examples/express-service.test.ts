// examples/express-service.mjs, run as a reader runs it, against a real server.
import { join } from 'node:path';
import { describe } from 'vitest';
import { EXAMPLES, startExample } from '../helpers/examples.js';
import { downstreamServiceCases } from './downstream-cases.js';

describe('examples/express-service.mjs, the SDK verifier guarding a route', () => {
  downstreamServiceCases((env) => startExample(process.execPath, [join(EXAMPLES, 'express-service.mjs')], env));
});
