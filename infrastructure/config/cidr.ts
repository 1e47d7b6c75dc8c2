/**
 * IPv4 CIDR checks the settings need before Terraform runs: is a block well formed (four
 * decimal parts and a prefix), aligned, and does it overlap another. The address arithmetic
 * is ipaddr.js's; the rules (decimal only, no short or hexadecimal forms, which EC2 would
 * refuse) are ours.
 */
import ipaddr from 'ipaddr.js';

export interface Ipv4Block {
  address: ipaddr.IPv4;
  prefix: number;
  text: string;
}

/** `a.b.c.d/n`, or undefined when it is not one (four decimal octets 0-255, prefix 0-32). */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(text)) return undefined;
  const [address, prefix] = ipaddr.IPv4.parseCIDR(text);
  return { address, prefix, text };
}

/** The block's network address written out (`10.50.0.0/16` for `10.50.3.4/16`). */
export function canonical(block: Ipv4Block): string {
  return `${ipaddr.IPv4.networkAddressFromCIDR(block.text).toString()}/${block.prefix}`;
}

/** True when the address has no bits set past the prefix (EC2 and Terraform expect that). */
export function isAligned(block: Ipv4Block): boolean {
  return ipaddr.IPv4.networkAddressFromCIDR(block.text).toString() === block.address.toString();
}

/** Two blocks overlap exactly when the larger one holds the smaller one's addresses. */
export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  return a.address.match(b.address, Math.min(a.prefix, b.prefix));
}
