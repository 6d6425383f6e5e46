import { esc, type Page } from './page.js';

/**
 * The HTML document around a page: the stylesheet and script from /static/ (nothing inline, so
 * the Content-Security-Policy can forbid inline code), a header, and the page's body.
 */
export function renderDocument(page: Page, options: { live: boolean }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<link rel="icon" href="data:,">
<title>${esc(page.title)} · loop-station</title>
<link rel="stylesheet" href="/static/dashboard.css">
<script src="/static/dashboard.js" defer></script>
</head>
<body${options.live ? ' data-events="on"' : ''}>
<header class="top"><a class="brand" href="/">loop-station</a><span class="conn" id="conn" role="status" aria-live="polite"></span></header>
<main class="page">
${page.body}
</main>
</body>
</html>
`;
}
