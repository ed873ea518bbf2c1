/**
 * A leaked token revoked by its text, by whoever holds it (a responder with a scanner's
 * finding): Keywarden's `POST /api/v1/tokens/revoke` and Vault's `vault token revoke <token>`
 * (PUT /v1/auth/token/revoke), on both databases.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import nodeVault from "node-vault";
import { formatToken } from "../../../src/core/token-format.ts";
import { bearer, createTestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";

for (const dialect of DIALECTS) {
  describe(`revoking a token by its text (${dialect.name})`, () => {
    test("its holder revokes it and its children with no other token; bad text is a counted failure", async (t) => {
      const s = await createTestServer(t, dialect, {
        https: true,
        flags: { "server.authFailureLimit": 8 },
      });
      const leaked = await s.token([{ path: "payments/**", capabilities: ["read"] }]);
      const child = await s.app.inject({
        method: "POST",
        url: "/api/v1/tokens/child",
        headers: bearer(leaked),
        payload: { ttlMinutes: 10 },
      });
      assert.equal(child.statusCode, 201, child.body);
      const childToken = child.json<{ token: string }>().token;
      const self = async (token: string) =>
        (await s.app.inject({ url: "/api/v1/tokens/self", headers: bearer(token) })).statusCode;
      assert.equal(await self(leaked), 200);

      // `vault token lookup <token>`: what the token is, by its text, with no token of one's own.
      const { url, ca } = await s.listen();
      const lookup = (token: string) =>
        nodeVault({ endpoint: url, requestOptions: { ca } }).request({
          path: "/auth/token/lookup",
          method: "POST",
          json: { token },
        }) as Promise<{ data: { accessor: string; policies: string[]; display_name: string } }>;
      const looked = await lookup(leaked);
      assert.match(looked.data.accessor, /^tok_/);
      assert.equal(looked.data.policies.length, 1);
      assert.ok(!JSON.stringify(looked).includes(leaked));

      const revoke = (token: string) =>
        s.app.inject({ method: "POST", url: "/api/v1/tokens/revoke", payload: { token } });
      const r = await revoke(leaked);
      assert.equal(r.statusCode, 200, r.body);
      const answer = r.json<{ id: string; revoked: number }>();
      assert.match(answer.id, /^tok_/);
      assert.equal(answer.revoked, 2, "the token and its child");
      assert.ok(!r.body.includes(leaked));
      assert.equal(await self(leaked), 401);
      assert.equal(await self(childToken), 401);
      // Again: nothing left in force.
      assert.equal((await revoke(leaked)).json<{ revoked: number }>().revoked, 0);

      await assert.rejects(lookup(leaked), /the token was revoked/);
      // Vault's CLI sends `vault token revoke <token>` as a PUT with the token in the body.
      const other = await s.token([{ path: "payments/**", capabilities: ["read"] }]);
      await nodeVault({ endpoint: url, requestOptions: { ca } }).request({
        path: "/auth/token/revoke",
        method: "PUT",
        json: { token: other },
      });
      assert.equal(await self(other), 401);
      // `vault token revoke -accessor`: by its tok_ id, for a caller that may revoke it.
      const byId = await s.token([{ path: "payments/**", capabilities: ["read"] }]);
      const accessor = (await s.app.inject({ url: "/api/v1/tokens/self", headers: bearer(byId) })).json<{
        tokenId: string;
      }>().tokenId;
      const admin = nodeVault({ endpoint: url, token: await s.rootToken(), requestOptions: { ca } });
      // `vault token lookup -accessor`: what it is, for an admin of its identity.
      const byAccessor = (await admin.request({
        path: "/auth/token/lookup-accessor",
        method: "POST",
        json: { accessor },
      })) as { data: { accessor: string; display_name: string; policies: string[] } };
      assert.equal(byAccessor.data.accessor, accessor);
      assert.match(byAccessor.data.display_name, /^t\d+-/);
      assert.equal(byAccessor.data.policies.length, 1);
      await admin.request({ path: "/auth/token/revoke-accessor", method: "PUT", json: { accessor } });
      assert.equal(await self(byId), 401);

      // Text that is no token, a mistyped one, one nobody issued: 401 as authentication
      // answers it, audited, counted against the address; never echoed.
      const unknown = formatToken("svc");
      for (const [text, code] of [
        ["not a token", "KW_ERR_AUTH_MALFORMED"],
        [`${other.slice(0, -1)}${other.endsWith("A") ? "B" : "A"}`, "KW_ERR_AUTH_CHECKSUM"],
        [unknown, "KW_ERR_AUTH_UNKNOWN"],
      ] as const) {
        const bad = await revoke(text);
        assert.equal(bad.statusCode, 401, bad.body);
        assert.equal(bad.json<{ error: { code: string } }>().error.code, code);
        assert.ok(!bad.body.includes(text));
      }
      const entries = await s.kw.audit.query({ action: "access.token.revoke", limit: 100 });
      assert.deepEqual(
        entries.map((e) => [e.result, e.detail]),
        [
          ["ok", "2 revoked by value"],
          ["ok", "0 revoked by value"],
          ["ok", "1 revoked by value"],
          ["ok", "1 revoked"],
          ["denied", "KW_ERR_AUTH_MALFORMED by value"],
          ["denied", "KW_ERR_AUTH_CHECKSUM by value"],
          ["denied", "KW_ERR_AUTH_UNKNOWN by value"],
        ],
      );
      assert.ok(!JSON.stringify(entries).includes(unknown));
      // Eight failures so far (five revoked tokens tried, three bad texts): past
      // server.authFailureLimit (8) even a real token's revocation waits, as every other way
      // in does.
      const third = await s.token([{ path: "payments/**", capabilities: ["read"] }]);
      assert.equal((await revoke(third)).statusCode, 429);
      // Not revoked (checked past the address's limit, from another one).
      assert.ok(await s.kw.access.authenticateToken(s.ctx, third, "10.9.9.9"));
    });
  });
}
