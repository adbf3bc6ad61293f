// Every relative link of the front README, CONTRIBUTING.md and docs/ points to a file that
// exists and, when it names an anchor in a Markdown file, to a heading of that file (anchors
// made as GitHub makes them), so moving a section cannot leave a link behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const PAGES = ['README.md', 'CONTRIBUTING.md', 'examples/README.md', ...readdirSync(join(ROOT, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`)];

/** Outside code fences: the text links are read from. */
function prose(text: string): string {
  return text.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, '');
}

function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\- _]/gu, '')
    .replace(/ /g, '-');
}

function anchors(path: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const [, heading] of prose(readFileSync(path, 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading!);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

function links(path: string): string[] {
  const text = prose(readFileSync(path, 'utf8')).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map(([, target]) => target!).filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('the links between the docs', () => {
  it('reach the front README to every page of docs/', () => {
    const front = links(join(ROOT, 'README.md')).map((target) => target.split('#')[0]);
    const pages = PAGES.filter((page) => page.startsWith('docs/'));
    expect(pages.filter((page) => !front.includes(page))).toEqual([]);
  });

  it.each(PAGES)('point from %s to files and headings that exist', (page) => {
    const path = join(ROOT, page);
    const broken: string[] = [];
    for (const target of links(path)) {
      const [file, anchor] = target.split('#') as [string, string | undefined];
      const destination = file === '' ? path : join(dirname(path), decodeURIComponent(file));
      if (!existsSync(destination)) broken.push(`${target} (no ${relative(ROOT, destination)})`);
      else if (anchor !== undefined && destination.endsWith('.md') && !anchors(destination).has(anchor)) broken.push(`${target} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });
});
