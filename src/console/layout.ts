// The shell of every console page: the stylesheet and the one script, a skip link, the
// header with the navigation (only the sections the person's role may open), the signed-in
// person and "Sign out", and the page's own content in <main>.
import type { Assets } from './assets.js';
import { html, type Html, type HtmlValue } from './html.js';

/** The signed-in person as the header shows them. */
export interface Viewer {
  readonly name: string;
  readonly role: string;
  readonly orgName: string;
  readonly scopes: ReadonlySet<string>;
  readonly csrf: string;
}

/** A section of the navigation, shown to whoever holds `scope`. Add a page group's entry here. */
interface NavItem {
  readonly id: string;
  readonly label: string;
  readonly href: string;
  readonly scope: string;
}

export const NAV: readonly NavItem[] = [
  { id: 'apps', label: 'Apps', href: '/console/apps', scope: 'admin.apps:view' },
  { id: 'keys', label: 'API keys', href: '/console/keys', scope: 'admin.apps:view' },
  { id: 'audit', label: 'Audit log', href: '/console/audit', scope: 'admin.audit:view' },
  { id: 'webhooks', label: 'Webhooks', href: '/console/webhooks', scope: 'admin.webhooks:view' },
  { id: 'people', label: 'People', href: '/console/people', scope: 'admin.users:full' },
  { id: 'orgs', label: 'Organizations', href: '/console/orgs', scope: 'admin.orgs:full' },
  { id: 'signing-keys', label: 'Signing keys', href: '/console/signing-keys', scope: 'admin.orgs:full' },
];

export interface PageOptions {
  readonly title: string;
  /** Null on the pages of a visitor who is not signed in. */
  readonly viewer: Viewer | null;
  /** The NavItem id marked as the current section. */
  readonly section?: string;
  readonly body: HtmlValue;
}

export type Layout = (options: PageOptions) => string;

export function createLayout(assets: Assets): Layout {
  return (options) => {
    const { viewer } = options;
    const nav = viewer === null ? null : NAV.filter((item) => viewer.scopes.has(item.scope));
    return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${options.title} · scope-auth</title>
<link rel="stylesheet" href="${assets.css.url}">
<script type="module" src="${assets.js.url}"></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <a class="brand" href="/console">scope-auth</a>
  ${nav === null
    ? ''
    : html`<nav aria-label="Main"><ul>${nav.map(
        (item) => html`<li><a href="${item.href}"${item.id === options.section ? html` aria-current="page"` : ''}>${item.label}</a></li>`,
      )}</ul></nav>
  <div class="who">
    <span>${viewer!.name} <span class="muted">(${viewer!.role}, ${viewer!.orgName})</span></span>
    <a href="/console/account"${options.section === 'account' ? html` aria-current="page"` : ''}>My account</a>
    <form method="post" action="/console/sign-out">${csrfField(viewer!)}<button type="submit" class="link-button">Sign out</button></form>
  </div>`}
</header>
<main id="main" tabindex="-1">
${options.body}
</main>
<div id="live" class="visually-hidden" aria-live="polite"></div>
</body>
</html>
`.text;
  };
}

/** The hidden field every form of a signed-in page carries (the CSRF check reads it). */
export function csrfField(viewer: Pick<Viewer, 'csrf'>): Html {
  return html`<input type="hidden" name="csrf_token" value="${viewer.csrf}">`;
}
