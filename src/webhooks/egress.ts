import { promises as dns, type LookupAddress } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { Agent } from 'undici';
import { resolvedAddressProblem, type WebhookUrlPolicy } from './url.js';

/** Every address a host name resolves to, as `dns.lookup` with `all` answers. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>;

const systemResolver: ResolveHost = (hostname) => dns.lookup(hostname, { all: true, verbatim: true });

/**
 * A delivery not sent because its host name leads somewhere the deployment does not deliver to.
 * Its message, which the team reads in its delivery log, says no more than that: the address and
 * its kind (`detail`, for the service's log) would let a team resolve the deployment's internal
 * names through the service. A name that does not resolve at all is refused alike, so that the
 * two read the same.
 */
export class RefusedAddressError extends Error {
  constructor(
    hostname: string,
    /** Why, for the service's log only: `resolves to 10.1.2.3, ...`, or that it does not resolve. */
    readonly detail: string,
  ) {
    super(`not sent: ${hostname} has no address this service delivers to`);
    this.name = 'RefusedAddressError';
  }
}

/**
 * The connection pool of webhook deliveries. It resolves each host name itself and connects to
 * the addresses it checked, never resolving twice: a check before the request and a second lookup
 * by the socket could be answered differently (DNS rebinding). A name is refused when any of its
 * addresses is: the socket may try each of them. Address literals in the URL never reach the
 * lookup; `webhookUrlProblem` has checked them.
 */
export function createDeliveryAgent(policy: WebhookUrlPolicy, resolve: ResolveHost = systemResolver): Agent {
  return new Agent({ connect: { lookup: checkedLookup(policy, resolve) } });
}

function checkedLookup(policy: WebhookUrlPolicy, resolve: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        for (const { address } of addresses) {
          const problem = resolvedAddressProblem(address, policy);
          if (problem) {
            return callback(new RefusedAddressError(hostname, `${hostname} resolves to ${problem}`), '', 0);
          }
        }
        const family = options.family === 'IPv4' ? 4 : options.family === 'IPv6' ? 6 : options.family;
        const usable = family ? addresses.filter((a) => a.family === family) : addresses;
        const [first] = usable;
        if (!first) return callback(new RefusedAddressError(hostname, `${hostname} has no address`), '', 0);
        // `all` when the socket tries each address in turn (autoSelectFamily), else one address.
        if (options.all)
          return (callback as unknown as (e: null, all: LookupAddress[]) => void)(null, usable);
        callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) =>
        callback(
          error.code === 'ENOTFOUND'
            ? new RefusedAddressError(hostname, `${hostname} does not resolve (ENOTFOUND)`)
            : error,
          '',
          0,
        ),
    );
  };
}
