// The migrations, by name; kysely applies them in name order. Listed statically (not read
// from the folder at run time) so they work the same from src/ under tsx and from dist/.
import type { Migration } from 'kysely';
import * as initial from './0001-initial.js';
import * as auditFilters from './0002-audit-filters.js';
import * as throttleCounters from './0003-throttle-counters.js';
import * as orgTenancy from './0004-org-tenancy.js';
import * as people from './0005-people.js';
import * as policies from './0006-policies.js';
import * as adminAppsWebhooks from './0007-admin-apps-webhooks.js';

export const migrations: Record<string, Migration> = {
  '0001-initial': initial,
  '0002-audit-filters': auditFilters,
  '0003-throttle-counters': throttleCounters,
  '0004-org-tenancy': orgTenancy,
  '0005-people': people,
  '0006-policies': policies,
  '0007-admin-apps-webhooks': adminAppsWebhooks,
};
