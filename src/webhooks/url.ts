import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';

export const MAX_URL_LENGTH = 2048;

/** Which endpoints this deployment may deliver to, beyond `https://` to public hosts. */
export interface WebhookUrlPolicy {
  /**
   * Whether an endpoint may be this machine (`localhost`, `127.0.0.0/8`, `[::1]`), over plain
   * `http://` too: for development and for receivers on the same host (`WEBHOOK_ALLOW_LOOPBACK`).
   * Off by default, as at Stripe: a team could otherwise make the service POST to its own host's
   * ports and read from the delivery log what answered there.
   */
  allowLoopback: boolean;
}

/**
 * Where a team may point a webhook endpoint: `https://` anywhere, and this machine only where
 * `policy` allows it (plain `http://` is then allowed to it alone); no user name or password in
 * the URL, no fragment, no port 0, no white space around it (it would be stored as sent), and no
 * address literal of a private, multicast or reserved network, or of NAT64, 6to4 or IPv4
 * translation (a team must not aim deliveries at the deployment's internal services, a cloud
 * metadata endpoint, or many hosts at once).
 * Deliveries never follow redirects, so an endpoint cannot bounce them somewhere else. Returns
 * why a URL is refused, or null when it is accepted. Checked again before every delivery, so an
 * endpoint registered under a looser policy is not delivered to under a stricter one.
 */
export function webhookUrlProblem(text: string, policy: WebhookUrlPolicy): string | null {
  if (text.length > MAX_URL_LENGTH) return `must be at most ${MAX_URL_LENGTH} characters`;
  if (text.trim() !== text) return 'must not begin or end with white space';
  const url = URL.parse(text);
  if (url === null) return 'must be an absolute https:// URL';
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return 'must be an https:// URL';
  if (!url.hostname) return 'must name a host';
  if (url.username || url.password) return 'must not carry a user name or password';
  if (url.hash) return 'must not have a fragment';
  if (url.port === '0') return 'must not name port 0';
  const loopback = isLoopbackHost(url.hostname);
  if ((loopback || isOwnAddress(url.hostname)) && !policy.allowLoopback) {
    return 'must not be this machine (localhost, 127.0.0.0/8, [::1] or an address of its own); a deployment for development allows it with WEBHOOK_ALLOW_LOOPBACK=true';
  }
  if (url.protocol === 'http:' && !loopback) {
    return policy.allowLoopback
      ? 'must be https:// (plain http:// is allowed only to localhost, 127.0.0.0/8 or [::1])'
      : 'must be an https:// URL';
  }
  if (!loopback && isPrivateAddress(url.hostname)) {
    return 'must not be an address of a private or link-local network, nor a multicast, reserved or NAT64 one';
  }
  return null;
}

/**
 * Why a delivery may not connect to `address`, one its host name resolved to, or null. The URL's
 * rules above see only the name; this sees where the name leads when the delivery connects, so a
 * name in a team's own DNS cannot aim deliveries at an internal service, a cloud metadata
 * endpoint or this machine (SSRF through DNS, DNS rebinding). The same networks are refused as
 * for an address written in the URL.
 */
export function resolvedAddressProblem(address: string, policy: WebhookUrlPolicy): string | null {
  if (isLoopbackHost(address) || isOwnAddress(address)) {
    return policy.allowLoopback ? null : `${address}, this machine`;
  }
  if (isPrivateAddress(address)) return `${address}, a private, link-local, multicast or reserved address`;
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
  // IETF protocol assignments, then documentation (TEST-NET-1 to 3) and benchmarking networks:
  // never a public host, and some private networks are numbered from them.
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
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
  // IPv4-translated addresses (RFC 2765) and 6to4 (RFC 3056): an IPv4 address inside again.
  ['::ffff:0:0:0', 96],
  ['2002::', 16],
  // IPv4-compatible addresses (RFC 4291, deprecated) and Teredo (RFC 4380): an IPv4 address inside
  // too, which some stacks and tunnels still route; then discard-only (RFC 6666) and ORCHID.
  ['::', 96],
  ['2001::', 32],
  ['100::', 64],
  ['2001:10::', 28],
  // Documentation.
  ['2001:db8::', 32],
] as const) {
  PRIVATE_NETWORKS.addSubnet(network, prefix, 'ipv6');
}

/**
 * An IP literal of a private, shared, link-local, unspecified, multicast, reserved or NAT64
 * network (not loopback). The
 * IPv4 rules also match IPv4-mapped IPv6 literals (`[::ffff:10.0.0.1]`).
 */
export function isPrivateAddress(hostname: string): boolean {
  return isAddressIn(PRIVATE_NETWORKS, hostname);
}

/** Whether `hostname` (as a URL spells it, IPv6 in brackets) is an IP literal that `networks` holds. */
function isAddressIn(networks: BlockList, hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  const family = isIP(host);
  return family !== 0 && networks.check(host, family === 4 ? 'ipv4' : 'ipv6');
}

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * `localhost` or a name under it (RFC 6761: resolvers answer them with loopback), or a loopback
 * address: in 127.0.0.0/8 however it is written (the URL parser turns `127.1` and `0x7f000001`
 * into `127.0.0.1`, and the IPv4 rule matches `[::ffff:127.0.0.1]` too), or `::1`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  return name === 'localhost' || name.endsWith('.localhost') || isAddressIn(LOOPBACK, hostname);
}

/**
 * An address literal of one of this machine's own network interfaces: the service listens on
 * them (HOST=0.0.0.0), so a webhook aimed there probes its own ports as loopback would.
 */
export function isOwnAddress(hostname: string): boolean {
  const own = new BlockList();
  for (const address of Object.values(networkInterfaces()).flat()) {
    if (!address) continue;
    // A link-local IPv6 address names its interface (`fe80::1%eth0`), which a URL cannot carry.
    const plain = address.address.replace(/%.*$/, '');
    own.addAddress(plain, address.family === 'IPv4' ? 'ipv4' : 'ipv6');
  }
  return isAddressIn(own, hostname);
}
