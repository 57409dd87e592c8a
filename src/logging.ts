import pino from 'pino';

/**
 * JSON logs (one line per event) without secrets: the Authorization header and any apiKey,
 * token or secret field are redacted, and errors are logged without the values bound to a
 * failed query (drizzle puts them in the message and in `params`), which can hold key hashes,
 * consent ids or customer data.
 */
export function createLogger(level: string, destination?: pino.DestinationStream) {
  return pino(
    {
      level,
      redact: {
        paths: ['req.headers.authorization', '*.apiKey', '*.token', '*.secret', '*.accessToken'],
        censor: '[redacted]',
      },
      serializers: { err: serializeError },
    },
    destination,
  );
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
