import { type ChildProcess, fork } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import { startFlags } from './project.js';

/** What a child sends back over IPC: its result, or why it failed. */
export type ChildMessage<T> = { result: T } | { error: string };

/**
 * A JavaScript module (see `compile.ts`) in a child Node process with no loader and the flags
 * `npm start` runs the service with, with `input` as its one argument (JSON) and an IPC channel. Its
 * stdout and stderr go to our stderr, so the report on stdout stays clean.
 */
export function forkChild(modulePath: string, input: unknown): ChildProcess {
  return fork(modulePath, [JSON.stringify(input)], {
    execArgv: startFlags(),
    stdio: ['ignore', 2, 2, 'ipc'],
  });
}

/** Runs `modulePath` in a child (`forkChild`) and returns what it sends with `reportToParent`. */
export function runChild<I, O>(modulePath: string, input: I): Promise<O> {
  return new Promise((resolve, reject) => {
    const child = forkChild(modulePath, input);
    let message: ChildMessage<O> | undefined;
    child.on('message', (received) => {
      message = received as ChildMessage<O>;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (message && 'result' in message) resolve(message.result);
      else if (message) reject(new Error(message.error));
      else reject(new Error(`child ${modulePath} exited with ${signal ?? `code ${code}`} and no result`));
    });
  });
}

/** The child's side: its input, and a way to answer once (then it exits). */
export function childInput<I>(): I {
  const raw = process.argv[2];
  if (!raw || !process.send)
    throw new Error('run this module as a child of the bench (runChild, forkServer)');
  return JSON.parse(raw) as I;
}

export function reportToParent<T>(message: ChildMessage<T>): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) return reject(new Error('no parent'));
    process.send(message, undefined, {}, (error) => (error ? reject(error) : resolve()));
  });
}

/**
 * A server child's side: tells the parent (`forkServer` in `http-load.ts`) the port it listens on,
 * given the address its server (or, for a cluster, a worker's) listens at.
 */
export function reportPort(address: Pick<AddressInfo, 'port'> | string | null): void {
  process.send?.({ port: typeof address === 'object' && address ? address.port : 0 });
}

/** What a child reports of an error: its stack when it has one. */
export function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
