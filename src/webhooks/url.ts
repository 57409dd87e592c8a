import { BlockList, isIP } from 'node:net';

export const MAX_URL_LENGTH = 2048;

/**
 * Where a team may point a webhook endpoint: `https://` anywhere, or plain `http://` only to
 * this machine (`localhost`, `127.0.0.0/8`, `[::1]`), for development and tests; no user name
 * or password in the URL, no fragment, no port 0, no white space around it (it would be stored
 * as sent), and no address literal of a private, multicast or reserved network, or of NAT64 (a
 * team must not aim deliveries at the deployment's internal services, a cloud metadata endpoint,
 * or many hosts at once).
 * Deliveries never follow redirects, so an endpoint cannot bounce them somewhere else. Returns
 * why a URL is refused, or null when it is accepted.
 */
export function webhookUrlProblem(text: string): string | null {
  if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (text.trim() !== text) return 'must not begin or end with white space';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an absolute https:// URL';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL';
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash) return 'must not have a fragment';
  if (url.port === '0') return 'must not name port 0';
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    return 'must be https:// (plain http:// is allowed only to localhost, 127.0.0.0/8 or [::1])';
  }
  if (isPrivateAddress(url.hostname)) {
    return 'must not be an address of a private or link-local network, nor a multicast, reserved or NAT64 one';
  }
  return null;
}

const PRIVATE_NETWORKS = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  // Multicast, then the reserved block that ends in the broadcast address 255.255.255.255.
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv4');
}
for (const [network, prefix] of [
  ['::', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  // NAT64 (RFC 6052, RFC 8215): the IPv4 address inside may be a private one.
  ['64:ff9b::', 96],
  ['64:ff9b:1::', 48],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv6');
}

/**
 * An IP literal of a private, shared, link-local, unspecified, multicast, reserved or NAT64
 * network (not loopback). The
 * IPv4 rules also match IPv4-mapped IPv6 literals (`[::ffff:10.0.0.1]`).
 */
export function isPrivateAddress(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  if (family === 0) return false;
  return PRIVATE_NETWORKS.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

/** `localhost`, an IPv4 address in 127.0.0.0/8, or `::1` (as URL hostnames spell them). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host === 'localhost' || host === 'localhost.') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1';
  return false;
}
