function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

/** The page the dashboard handler serves: the element, nothing else, no inline script. */
export function renderDashboardPage(options: { title: string; bundle: string; events: string }): string {
  const title = escapeHtml(options.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<link rel="icon" href="data:,">
<title>${title}</title>
<script type="module" src="${escapeHtml(options.bundle)}"></script>
<style>
html, body { margin: 0; }
body { background: #f5f7fa; }
@media (prefers-color-scheme: dark) { body { background: #0e1219; } }
taskbuffer-dashboard { min-height: 100vh; border-radius: 0; }
</style>
</head>
<body>
<taskbuffer-dashboard src="${escapeHtml(options.events)}" heading="${title}"></taskbuffer-dashboard>
</body>
</html>
`;
}
