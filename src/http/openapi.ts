/**
 * The headers that hooks set (`x-request-id`, `RateLimit-*`, `Retry-After`...) are documented on
 * every response of every route (see `documentResponseHeaders`), which written out in full would
 * be most of the document. Each header described the same way on more than one response is
 * written once under `components.headers` and referenced from the responses instead.
 */

interface HeaderObject {
  $ref?: string;
  [field: string]: unknown;
}
interface ResponseObject {
  headers?: Record<string, HeaderObject>;
}
interface OpenApiObject {
  paths?: Record<string, Record<string, { responses?: Record<string, ResponseObject> }>>;
  components?: { headers?: Record<string, HeaderObject> };
}

export function shareRepeatedHeaders<Document extends object>(document: Document): Document {
  const openapi = document as OpenApiObject;
  const responses = Object.values(openapi.paths ?? {}).flatMap((operations) =>
    Object.values(operations).flatMap((operation) => Object.values(operation.responses ?? {})),
  );
  // A name is shared only when every response describes it alike; otherwise each keeps its own.
  const descriptions = new Map<string, { json: string; header: HeaderObject; uses: number } | null>();
  for (const response of responses) {
    for (const [name, header] of Object.entries(response.headers ?? {})) {
      const json = JSON.stringify(header);
      const seen = descriptions.get(name);
      if (seen === undefined) descriptions.set(name, { json, header, uses: 1 });
      else if (seen && seen.json === json) seen.uses += 1;
      else descriptions.set(name, null);
    }
  }
  const shared = new Map(
    [...descriptions].flatMap(([name, seen]) =>
      seen && seen.uses > 1 ? [[name, seen.header] as const] : [],
    ),
  );
  if (shared.size === 0) return document;

  openapi.components = {
    ...openapi.components,
    headers: { ...openapi.components?.headers, ...Object.fromEntries(shared) },
  };
  for (const response of responses) {
    for (const name of Object.keys(response.headers ?? {})) {
      if (shared.has(name)) (response.headers as Record<string, HeaderObject>)[name] = refTo(name);
    }
  }
  return document;
}

const refTo = (name: string): HeaderObject => ({ $ref: `#/components/headers/${name}` });
