import type { OpenApiDocument, OpenApiOperation } from './openapi';

/** A self-contained HTML page (no script, no external asset) listing every operation of the document. */
export function renderDocsPage(document: OpenApiDocument): string {
  const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, operation]) => ({ path, method, operation })),
  );
  const index = operations
    .map(
      ({ path, method, operation }) =>
        `<li><a href="#${anchor(method, path)}"><code>${method.toUpperCase()} ${escape(path)}</code></a> ${escape(operation.summary)}</li>`,
    )
    .join('\n');
  const sections = operations.map(({ path, method, operation }) => section(method, path, operation)).join('\n');
  const title = `${escape(document.info.title)} ${escape(document.info.version)}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} — HTTP API</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
code,pre{font-family:ui-monospace,monospace;font-size:.85rem}
pre{background:#f5f5f5;padding:.6rem;overflow:auto;border-radius:4px}
section{border-top:1px solid #ddd;margin-top:1.5rem}
.method{display:inline-block;min-width:4rem;font-weight:bold;text-transform:uppercase}
table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:.2rem .5rem;text-align:left;vertical-align:top}
</style></head>
<body>
<h1>${title}</h1>
${document.info.description ? `<p>${escape(document.info.description)}</p>` : ''}
<p>The same as JSON: <a href="openapi.json">openapi.json</a> (OpenAPI ${document.openapi}).</p>
<ul>
${index}
</ul>
${sections}
</body></html>
`;
}

function section(method: string, path: string, operation: OpenApiOperation): string {
  const parameters = operation.parameters ?? [];
  const parameterTable =
    parameters.length === 0
      ? ''
      : `<h3>Parameters</h3><table><tr><th>name</th><th>in</th><th>required</th><th>schema</th></tr>
${parameters.map((p) => `<tr><td><code>${escape(p.name)}</code></td><td>${p.in}</td><td>${p.required ? 'yes' : 'no'}</td><td><pre>${json(p.schema)}</pre></td></tr>`).join('\n')}</table>`;
  const media = Object.entries(operation.requestBody?.content ?? {});
  const body = operation.requestBody
    ? `<h3>Request body</h3>${media.map(([type, { schema }]) => `<p><code>${escape(type)}</code></p><pre>${json(schema ?? {})}</pre>`).join('\n')}`
    : '';
  const responses = Object.entries(operation.responses)
    .map(([status, response]) => {
      const schema = response.content ? `<pre>${json(response.content['application/json'].schema)}</pre>` : '';
      return `<h4>${escape(status)} ${escape(response.description)}</h4>${schema}`;
    })
    .join('\n');
  return `<section id="${anchor(method, path)}">
<h2><span class="method">${method}</span> <code>${escape(path)}</code></h2>
<p>${escape(operation.summary)}</p>
${operation.description ? `<p>${escape(operation.description)}</p>` : ''}
${parameterTable}
${body}
<h3>Answers</h3>
${responses}
</section>`;
}

function anchor(method: string, path: string): string {
  return `${method}-${path.replace(/[^A-Za-z0-9]+/g, '-')}`;
}

function json(value: unknown): string {
  return escape(JSON.stringify(value, null, 2));
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}
