// `scope-auth scopes`: the scope catalogue apps are granted from (what GET /v1/scopes shows).
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { loadCatalog } from '../../domain/scopes.js';
import { renderCatalog } from '../../http/render.js';
import { outputFor, type CliIo } from '../context.js';
import { example, jsonOption } from '../options.js';

export function registerScopes(program: Command, io: CliIo): void {
  program
    .command('scopes')
    .description('List the scope catalogue (SCOPE_AUTH_CATALOG, or the default) that apps are granted scopes from, and the audiences apps may name')
    .addOption(jsonOption('print the catalogue as GET /v1/scopes answers'))
    .addHelpText('after', example('scope-auth scopes', 'A higher level of a component implies the lower ones; "implies" is transitive.'))
    .action((options: { json?: boolean }) => {
      const out = outputFor(io);
      const config = loadConfig(io.env);
      const catalog = loadCatalog(config.catalogPath);
      if (options.json) return out.json(renderCatalog(catalog, config.audience));
      const rows = [
        ...catalog.components.flatMap((component) =>
          component.levels.map((level, i) => [
            `${component.name}:${level}`,
            i === 0 ? component.description : '',
            i === 0 ? '' : `${component.name}:${component.levels[i - 1]}`,
          ]),
        ),
        ...catalog.permissions.map((permission) => [permission.name, permission.description, permission.implies.join(' ')]),
      ];
      out.table(['SCOPE', 'DESCRIPTION', 'IMPLIES'], rows);
      out.line();
      const audiences = [
        ...catalog.audiences.map((a) => [a.audience, a.description]),
        ...(catalog.audiences.some((a) => a.audience === config.audience) ? [] : [[config.audience, '(the default, SCOPE_AUTH_AUDIENCE)']]),
      ];
      out.table(['AUDIENCE', 'DESCRIPTION'], audiences);
    });
}
