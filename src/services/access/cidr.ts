/**
 * IP allow-lists of tokens: IPv4 and IPv6 CIDRs, checked with node:net's BlockList. An
 * IPv4-mapped IPv6 address (`::ffff:10.0.0.1`, what a dual-stack socket reports) is checked
 * as the IPv4 address it carries.
 */
import { BlockList, isIP } from "node:net";
import { KeywardenError } from "../../core/errors.ts";

/**
 * Normalises a CIDR (`10.0.0.0/8`, `2001:db8::/32`, or a bare address meaning /32 or
 * /128); throws KW_ERR_ACCESS_INVALID when it is not one.
 *
 * @example
 *   parseCidr("10.1.2.3") // "10.1.2.3/32"
 */
export function parseCidr(text: string): string {
  const invalid = (reason: string): KeywardenError =>
    new KeywardenError("KW_ERR_ACCESS_INVALID", { what: "IP allow-list entry", reason });
  const trimmed = text.trim();
  const [addr = "", bits, ...rest] = trimmed.split("/");
  if (rest.length > 0) throw invalid(`${JSON.stringify(trimmed)} has more than one '/'`);
  const family = isIP(addr);
  if (family === 0) throw invalid(`${JSON.stringify(trimmed)} is not an IP address or CIDR`);
  const max = family === 4 ? 32 : 128;
  if (bits === undefined) return `${addr.toLowerCase()}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max)
    throw invalid(`${JSON.stringify(trimmed)} has a prefix length outside 0-${max}`);
  return `${addr.toLowerCase()}/${Number(bits)}`;
}

function unmapped(ip: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  return m === null ? ip : m[1]!;
}

/**
 * True when `ip` is in one of `cidrs` (already normalised by parseCidr); an empty list
 * allows every address. An unparsable address is never allowed.
 *
 * @example
 *   ipAllowed("10.1.2.3", ["10.0.0.0/8"]) // true
 */
export function ipAllowed(ip: string, cidrs: readonly string[]): boolean {
  if (cidrs.length === 0) return true;
  const addr = unmapped(ip.trim());
  const family = isIP(addr);
  if (family === 0) return false;
  const list = new BlockList();
  for (const c of cidrs) {
    const [net = "", bits = "0"] = c.split("/");
    const netFamily = isIP(net);
    if (netFamily === 0) continue;
    list.addSubnet(unmapped(net), Number(bits), netFamily === 4 ? "ipv4" : "ipv6");
  }
  return list.check(addr, family === 4 ? "ipv4" : "ipv6");
}
