/**
 * IPv4 CIDR arithmetic the settings need before Terraform runs: is a block well formed,
 * aligned, inside the sizes EC2 accepts, and does it overlap another block.
 */

export interface Ipv4Block {
  /** The first address, as an unsigned 32-bit number. */
  start: number;
  prefix: number;
  text: string;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

/** `a.b.c.d/n`, or undefined when it is not one (octets 0-255, prefix 0-32). */
export function parseIpv4Cidr(text: string): Ipv4Block | undefined {
  const [address, prefixText, ...rest] = text.split('/');
  if (!address || prefixText === undefined || rest.length > 0 || !/^\d{1,2}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  const octets = address.split('.');
  if (prefix > 32 || octets.length !== 4 || !octets.every((octet) => OCTET.test(octet) && Number(octet) <= 255)) return undefined;
  const start = octets.reduce((value, octet) => value * 256 + Number(octet), 0);
  return { start, prefix, text };
}

function size(block: Ipv4Block): number {
  return 2 ** (32 - block.prefix);
}

/** The block's network address written out (`10.50.0.0/16` for `10.50.3.4/16`). */
export function canonical(block: Ipv4Block): string {
  const start = block.start - (block.start % size(block));
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(start / 2 ** shift) % 256);
  return `${octets.join('.')}/${block.prefix}`;
}

/** True when the address has no bits set past the prefix (EC2 and Terraform expect that). */
export function isAligned(block: Ipv4Block): boolean {
  return block.start % size(block) === 0;
}

export function overlaps(a: Ipv4Block, b: Ipv4Block): boolean {
  const aStart = a.start - (a.start % size(a));
  const bStart = b.start - (b.start % size(b));
  return aStart < bStart + size(b) && bStart < aStart + size(a);
}
