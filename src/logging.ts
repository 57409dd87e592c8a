import pino from 'pino';

/**
 * JSON logs (one line per event) without secrets: requests are logged without headers and with
 * secret-looking query values redacted, any apiKey, token or secret field is redacted, and errors
 * are logged without the values bound to a failed query (drizzle puts them in the message and in
 * `params`), which can hold key hashes, consent ids or customer data.
 */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', '*.apiKey', '*.token', '*.secret', '*.accessToken'],
        censor: '[redacted]',
      },
      serializers: { err: serializeError, req: serializeRequest },
    },
    destination,
  );
}

/** Whether `logger` writes lines at `level`, by pino's own level numbers (`silent` writes none). */
export function writesAt(logger: { level: string } | undefined, level: 'debug' | 'info'): boolean {
  const { values } = pino.levels;
  const own = logger === undefined ? undefined : values[logger.level];
  const asked = values[level];
  return own !== undefined && asked !== undefined && own <= asked;
}

/** Query parameters whose values are not logged: a client that puts its key in the URL. */
const SECRET_PARAMETER = /key|token|secret|password|auth|signature/i;

/**
 * A request as Fastify logs it, with the values of secret-looking query parameters redacted: a
 * client that sends `?api_key=obk_...` by mistake must not leave a working key in the logs.
 */
export function serializeRequest(request: { method?: string; url?: string; host?: string; ip?: string }) {
  return {
    method: request.method,
    url: request.url === undefined ? undefined : redactQuery(request.url),
    host: request.host,
    remoteAddress: request.ip,
  };
}

export function redactQuery(url: string): string {
  const queryAt = url.indexOf('?');
  if (queryAt < 0 || !SECRET_PARAMETER.test(url.slice(queryAt))) return url;
  const kept = url
    .slice(queryAt + 1)
    .split('&')
    .map((pair) => {
      const name = pair.split('=', 1)[0] ?? '';
      return SECRET_PARAMETER.test(name) ? `${name}=[redacted]` : pair;
    });
  return `${url.slice(0, queryAt)}?${kept.join('&')}`;
}

export function serializeError(error: Error) {
  const serialized = pino.stdSerializers.err(error) as ReturnType<typeof pino.stdSerializers.err> & {
    params?: unknown;
  };
  const scrub = (text: string | undefined) => text?.replace(/\nparams: [^\n]*/g, '\nparams: [redacted]');
  delete serialized.params;
  serialized.message = scrub(serialized.message) ?? '';
  if (serialized.stack) serialized.stack = scrub(serialized.stack) ?? '';
  return serialized;
}
