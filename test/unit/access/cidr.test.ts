import assert from "node:assert/strict";
import { test } from "node:test";
import { isKeywardenError } from "../../../src/core/errors.ts";
import { ipAllowed, parseCidr } from "../../../src/services/access/cidr.ts";

test("CIDRs are normalised; bare addresses are single hosts", () => {
  assert.equal(parseCidr("10.1.2.3"), "10.1.2.3/32");
  assert.equal(parseCidr(" 10.0.0.0/8 "), "10.0.0.0/8");
  assert.equal(parseCidr("2001:DB8::/32"), "2001:db8::/32");
  assert.equal(parseCidr("::1"), "::1/128");
  for (const bad of ["10.0.0.0/33", "10.0.0/8", "nope", "10.0.0.0/8/1", "::/129", "1.2.3.4/x"])
    assert.throws(
      () => parseCidr(bad),
      (e) => isKeywardenError(e, "KW_ERR_ACCESS_INVALID"),
      bad,
    );
});

test("addresses are checked against the allow-list, IPv4 and IPv6", () => {
  const list = ["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32"];
  assert.equal(ipAllowed("10.200.3.4", list), true);
  assert.equal(ipAllowed("11.0.0.1", list), false);
  assert.equal(ipAllowed("192.168.1.7", list), true);
  assert.equal(ipAllowed("192.168.1.8", list), false);
  assert.equal(ipAllowed("2001:db8:1::5", list), true);
  assert.equal(ipAllowed("2001:db9::5", list), false);
  assert.equal(ipAllowed("::ffff:10.1.1.1", list), true, "IPv4-mapped IPv6 is checked as IPv4");
  assert.equal(ipAllowed("::ffff:11.1.1.1", list), false);
  assert.equal(ipAllowed("garbage", list), false);
  assert.equal(ipAllowed("anything", []), true, "an empty list allows every address");
  assert.equal(ipAllowed("127.0.0.1", ["0.0.0.0/0"]), true);
});
