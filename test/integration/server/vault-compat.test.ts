/**
 * HashiCorp Vault KV v2 compatibility, proved with the real `node-vault` client over HTTPS:
 * a secret written with Keywarden's CLI reads with node-vault, and one written with
 * node-vault reads with the CLI; check-and-set, versions, list and delete behave as Vault's.
 */
import assert from "node:assert/strict";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import nodeVault from "node-vault";
import { run } from "../../../src/cli/main.ts";
import { formatToken } from "../../../src/core/token-format.ts";
import { createTestServer, type TestServer } from "../../helpers/server.ts";
import { DIALECTS } from "../../helpers/storage.ts";
import { makeKey } from "./fixtures.ts";

/** Runs Keywarden's CLI in process on the server's home and database. */
async function cli(
  s: TestServer,
  args: string[],
  stdin = "",
): Promise<{ code: number; stdout: string; stderr: string }> {
  const input = new PassThrough();
  input.end(stdin);
  let stdout = "";
  let stderr = "";
  const out = new PassThrough();
  out.on("data", (d: Buffer) => (stdout += d.toString()));
  const err = new PassThrough();
  err.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await run(["--home", s.home, ...args], {
    stdout: out,
    stderr: err,
    stdin: input,
    cwd: s.home,
    env: {
      HOME: s.home,
      USER: "tester",
      KEYWARDEN_PASSPHRASE: s.passphrase,
      ...(s.url === "" ? {} : { KEYWARDEN_STORAGE_URL: s.url }),
    },
  });
  return { code, stdout, stderr };
}

for (const dialect of DIALECTS) {
  describe(`Vault KV v2 compatibility with node-vault (${dialect.name})`, () => {
    test("CLI writes, node-vault reads; node-vault writes, CLI reads; cas, versions, list, delete", async (t) => {
      const s = await createTestServer(t, dialect, { https: true });
      const { url, ca } = await s.listen();
      const token = await s.token([
        { path: "payments/**", capabilities: ["read", "write", "list", "delete", "destroy"] },
      ]);
      const vault = nodeVault({ endpoint: url, token, noCustomHTTPVerbs: true, requestOptions: { ca } });

      // node-vault's health(): Vault's /v1/sys/health, no token needed; 503 once sealed.
      const health = (await vault.health()) as { initialized: boolean; sealed: boolean; standby: boolean };
      assert.deepEqual([health.initialized, health.sealed, health.standby], [true, false, false]);
      // tokenLookupSelf(): who the token is, never the token itself.
      const self = (await vault.tokenLookupSelf()) as {
        data: { id: string; display_name: string; policies: string[]; ttl: number; expire_time: string };
      };
      assert.match(self.data.id, /^tok_/);
      assert.equal(self.data.policies.length, 1);
      assert.ok(self.data.ttl > 0 && self.data.ttl <= 30 * 86400, String(self.data.ttl));
      assert.ok(!JSON.stringify(self).includes(token));

      // What the Vault CLI asks before each `vault kv` command: the mount and its KV version.
      const mount = (await vault.request({
        path: "/sys/internal/ui/mounts/secret/payments/prod/X",
        method: "GET",
      })) as {
        data: { path: string; type: string; options: { version: string } };
      };
      assert.deepEqual(
        [mount.data.path, mount.data.type, mount.data.options.version],
        ["secret/", "kv", "2"],
      );

      const fromCli = makeKey();
      const set = await cli(s, ["secrets", "set", "payments/prod/STRIPE_KEY"], fromCli);
      assert.equal(set.code, 0, set.stderr);
      const read = (await vault.read("secret/data/payments/prod/STRIPE_KEY")) as {
        data: { data: Record<string, string>; metadata: { version: number } };
      };
      assert.deepEqual(read.data.data, { value: fromCli });
      assert.equal(read.data.metadata.version, 1);

      const fromVault = makeKey();
      const w = (await vault.write("secret/data/payments/prod/DB_PASSWORD", {
        data: { value: fromVault },
        options: { cas: 0 },
      })) as { data: { version: number } };
      assert.equal(w.data.version, 1);
      const get = await cli(s, ["secrets", "get", "payments/prod/DB_PASSWORD"]);
      assert.equal(get.code, 0, get.stderr);
      assert.equal(get.stdout.trim(), fromVault);

      // Check-and-set: a stale cas is refused the way Vault clients expect (a rejected promise with the message).
      await assert.rejects(
        vault.write("secret/data/payments/prod/DB_PASSWORD", {
          data: { value: makeKey() },
          options: { cas: 0 },
        }),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 409);
          assert.match(e.message, /someone else wrote it/);
          assert.ok(!e.message.includes(fromVault));
          return true;
        },
      );
      // A map of several keys round-trips as the same map; version 1 still reads.
      const map = { username: "app", password: makeKey() };
      await vault.write("secret/data/payments/prod/DB_PASSWORD", { data: map, options: { cas: 1 } });
      const v2 = (await vault.read("secret/data/payments/prod/DB_PASSWORD")) as {
        data: { data: unknown; metadata: { version: number } };
      };
      assert.deepEqual(v2.data.data, map);
      assert.equal(v2.data.metadata.version, 2);
      const v1 = (await vault.read("secret/data/payments/prod/DB_PASSWORD?version=1")) as {
        data: { data: unknown };
      };
      assert.deepEqual(v1.data.data, { value: fromVault });

      const read0 = async (path: string) =>
        ((await vault.read(`secret/data/${path}`)) as { data: { data: unknown } }).data.data;
      const meta = (await vault.read("secret/metadata/payments/prod/DB_PASSWORD")) as {
        data: { current_version: number; versions: Record<string, unknown> };
      };
      assert.equal(meta.data.current_version, 2);
      assert.deepEqual(Object.keys(meta.data.versions), ["1", "2"]);
      const list = (await vault.list("secret/metadata/payments/prod")) as { data: { keys: string[] } };
      assert.deepEqual(list.data.keys, ["DB_PASSWORD", "STRIPE_KEY"]);
      const top = (await vault.list("secret/metadata/payments")) as { data: { keys: string[] } };
      assert.deepEqual(top.data.keys, ["prod/"]);
      // node-vault's default list() sends Vault's LIST verb, which Node's HTTP parser does not
      // know: the server answers it as the GET ?list=true it means (and closes the connection).
      const lister = nodeVault({ endpoint: url, token, requestOptions: { ca } });
      const listed = (await lister.list("secret/metadata/payments/prod")) as { data: { keys: string[] } };
      assert.deepEqual(listed.data.keys, ["DB_PASSWORD", "STRIPE_KEY"]);
      await assert.rejects(
        nodeVault({ endpoint: url, token: "kw_svc_wrong", requestOptions: { ca } }).list(
          "secret/metadata/payments/prod",
        ),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 401);
          return true;
        },
      );
      // The mount's root (`vault kv list secret/`): the projects in which the token may
      // list something, as folders; a token scoped elsewhere finds it empty (Vault's 404).
      const root = (await vault.list("secret/metadata/")) as { data: { keys: string[] } };
      assert.deepEqual(root.data.keys, ["payments/"]);
      const elsewhere = nodeVault({
        endpoint: url,
        token: await s.token([{ path: "shipping/**", capabilities: ["list"] }]),
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      await assert.rejects(
        elsewhere.list("secret/metadata/"),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 404);
          assert.ok(!e.message.includes("payments"), e.message);
          return true;
        },
      );

      // `vault kv destroy -versions=1`, `delete` and `undelete`: a secret is deleted as a
      // whole, so only its current version may be named; destroying is per version.
      const post = (what: string, versions: number[]) =>
        vault.request({
          path: `/secret/${what}/payments/prod/DB_PASSWORD`,
          method: "POST",
          json: { versions },
        });
      await assert.rejects(post("delete", [1]), (e: Error & { response?: { statusCode: number } }) => {
        assert.equal(e.response?.statusCode, 400);
        assert.match(e.message, /as a whole, at its current version 2; not version 1/);
        return true;
      });
      assert.deepEqual(await read0("payments/prod/DB_PASSWORD"), map, "nothing deleted");
      await post("destroy", [1]);
      const destroyed = (await vault.read("secret/metadata/payments/prod/DB_PASSWORD")) as {
        data: { versions: Record<string, { destroyed: boolean }> };
      };
      assert.deepEqual(
        Object.values(destroyed.data.versions).map((v) => v.destroyed),
        [true, false],
      );
      await post("delete", [2]);
      await assert.rejects(read0("payments/prod/DB_PASSWORD"), /./);
      // The metadata shows the deletion on the current version, as Vault's soft delete does.
      const deleted = (await vault.read("secret/metadata/payments/prod/DB_PASSWORD")) as {
        data: { versions: Record<string, { deletion_time: string; destroyed: boolean }> };
      };
      assert.ok(deleted.data.versions["2"]!.deletion_time !== "", JSON.stringify(deleted.data.versions));
      assert.equal(deleted.data.versions["2"]!.destroyed, false);
      await post("undelete", [2]);
      assert.deepEqual(await read0("payments/prod/DB_PASSWORD"), map);

      // Deleted and destroyed read as Vault answers them: 404, "not there" to its clients.
      const gone = (e: Error & { response?: { statusCode: number } }) => {
        assert.equal(e.response?.statusCode, 404);
        return true;
      };
      await vault.delete("secret/data/payments/prod/DB_PASSWORD");
      await assert.rejects(vault.read("secret/data/payments/prod/DB_PASSWORD"), gone);
      await vault.write("secret/data/payments/prod/DB_PASSWORD", { data: map });
      await vault.delete("secret/metadata/payments/prod/DB_PASSWORD");
      await assert.rejects(vault.read("secret/data/payments/prod/DB_PASSWORD"), gone);
      await assert.rejects(vault.read("secret/data/payments/prod/DB_PASSWORD?version=1"), gone);
      await assert.rejects(vault.read("secret/metadata/payments/prod/DB_PASSWORD"), gone);
      // A token of another scope is refused with Vault's error list.
      const other = nodeVault({
        endpoint: url,
        token: await s.token([{ path: "shipping/**", capabilities: ["read"] }]),
        requestOptions: { ca },
      });
      await assert.rejects(
        other.read("secret/data/payments/prod/STRIPE_KEY"),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 403);
          assert.ok(!e.message.includes(fromCli));
          return true;
        },
      );
    });

    test("each version reads back as written: maps of any JSON values, and a string that looks like a map", async (t) => {
      const s = await createTestServer(t, dialect, { https: true });
      const { url, ca } = await s.listen();
      const token = await s.token([
        { path: "payments/**", capabilities: ["read", "write", "list", "delete", "destroy"] },
      ]);
      const vault = nodeVault({ endpoint: url, token, noCustomHTTPVerbs: true, requestOptions: { ca } });
      const read = async (path: string) =>
        ((await vault.read(`secret/data/${path}`)) as { data: { data: unknown } }).data.data;
      const at = "payments/prod/DB";
      // A map with numbers, booleans, null and nesting, as Vault keeps them.
      const map = {
        host: "db.internal",
        port: 5432,
        tls: true,
        replicas: ["a", "b"],
        extra: null,
        opts: { x: 1 },
      };
      await vault.write(`secret/data/${at}`, { data: map });
      assert.deepEqual(await read(at), map);
      // Then a plain string that spells a map (a service account's JSON kept as one value):
      // it stays a string, and version 1 stays the map.
      const json = JSON.stringify({ type: "service_account", private_key_id: makeKey() });
      s.clock.advance(60_000);
      await vault.write(`secret/data/${at}`, { data: { value: json } });
      assert.deepEqual(await read(at), { value: json });
      assert.deepEqual(await read(`${at}?version=1`), map);
      // Each version's created_time is its own, as the metadata lists it, and as the write said.
      const written = (await vault.write(`secret/data/${at}`, { data: map })) as {
        data: { created_time: string; version: number };
      };
      const meta = (await vault.read(`secret/metadata/${at}`)) as {
        data: { versions: Record<string, { created_time: string }> };
      };
      assert.equal(written.data.created_time, meta.data.versions[String(written.data.version)]!.created_time);
      for (const v of ["1", "2"]) {
        const r = (await vault.read(`secret/data/${at}?version=${v}`)) as {
          data: { metadata: { created_time: string } };
        };
        assert.equal(r.data.metadata.created_time, meta.data.versions[v]!.created_time);
      }
      // The CLI writes the string itself, which reads as { value } whatever came before.
      const fromCli = JSON.stringify({ user: "app" });
      assert.equal((await cli(s, ["secrets", "set", at], fromCli)).code, 0);
      assert.deepEqual(await read(at), { value: fromCli });
      // A restored map is the map again; a single non-string value is a map too.
      const restore = await cli(s, ["secrets", "restore", at, "1"]);
      assert.equal(restore.code, 0, restore.stderr);
      assert.deepEqual(await read(at), map);
      await vault.write(`secret/data/${at}`, { data: { value: 7 } });
      assert.deepEqual(await read(at), { value: 7 });
      // `vault kv patch`: a JSON merge patch of the latest map, with check-and-set.
      const patch = (data: Record<string, unknown>, cas?: number) =>
        vault.request({
          path: `/secret/data/${at}`,
          method: "PATCH",
          headers: { "content-type": "application/merge-patch+json" },
          json: { data, ...(cas === undefined ? {} : { options: { cas } }) },
        }) as Promise<{ data: { version: number } }>;
      const patched = await patch({ value: null, host: "db2", opts: { y: 2 } });
      assert.deepEqual(await read(at), { host: "db2", opts: { y: 2 } });
      await assert.rejects(
        patch({ host: "stale" }, patched.data.version - 1),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 409);
          return true;
        },
      );
      await patch({ opts: { x: 1 } }, patched.data.version);
      assert.deepEqual(await read(at), { host: "db2", opts: { y: 2, x: 1 } });
    });

    test("custom metadata: External Secrets' PushSecret, metadata put and patch, limits, delete", async (t) => {
      const s = await createTestServer(t, dialect, { https: true });
      const { url, ca } = await s.listen();
      const token = await s.token([
        { path: "payments/**", capabilities: ["read", "write", "list", "delete", "destroy"] },
      ]);
      const vault = nodeVault({ endpoint: url, token, noCustomHTTPVerbs: true, requestOptions: { ca } });
      type Meta = {
        data: {
          custom_metadata: Record<string, string> | null;
          current_version: number;
          created_time: string;
          updated_time: string;
        };
      };
      const meta = async (path: string) => (await vault.read(`secret/metadata/${path}`)) as Meta;
      const status =
        (code: number, pattern?: RegExp) => (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, code, e.message);
          if (pattern !== undefined) assert.match(e.message, pattern);
          return true;
        };

      // PushSecret on a new path: its `managed-by` metadata first, then the secret.
      const label = { custom_metadata: { "managed-by": "external-secrets" } };
      await vault.write("secret/metadata/payments/prod/PUSHED", label);
      const first = await meta("payments/prod/PUSHED");
      assert.deepEqual(first.data.custom_metadata, { "managed-by": "external-secrets" });
      assert.equal(first.data.current_version, 0);
      // Its times are set (Go's api parses them as RFC 3339): when the metadata was written.
      assert.equal(first.data.created_time, s.clock.now().toISOString());
      assert.equal(first.data.updated_time, first.data.created_time);
      await assert.rejects(vault.read("secret/data/payments/prod/PUSHED"), status(404));
      const value = makeKey();
      // The write answers the label it now carries, as Vault's does.
      const written = (await vault.write("secret/data/payments/prod/PUSHED", { data: { value } })) as {
        data: { custom_metadata: unknown; version: number };
      };
      assert.deepEqual([written.data.custom_metadata, written.data.version], [label.custom_metadata, 1]);
      // Its next push checks the label on the existing secret, writes it again, then the value.
      const second = await meta("payments/prod/PUSHED");
      assert.equal(second.data.custom_metadata?.["managed-by"], "external-secrets");
      assert.equal(second.data.current_version, 1);
      await vault.write("secret/metadata/payments/prod/PUSHED", label);
      await vault.write("secret/data/payments/prod/PUSHED", { data: { value: makeKey() } });
      assert.equal((await meta("payments/prod/PUSHED")).data.current_version, 2);
      // A read answers it with the value, as Vault's does (Go's KVSecret.CustomMetadata).
      const read = (await vault.read("secret/data/payments/prod/PUSHED")) as {
        data: { metadata: { custom_metadata: unknown; version: number } };
      };
      assert.deepEqual(read.data.metadata, {
        ...read.data.metadata,
        custom_metadata: label.custom_metadata,
        version: 2,
      });

      // Keywarden's own metadata route shows it too.
      const described = await s.app.inject({
        url: "/api/v1/secrets/payments/prod/PUSHED/metadata",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.deepEqual(described.json<{ customMetadata: unknown }>().customMetadata, label.custom_metadata);
      // A secret written otherwise has none, which is how PushSecret knows not to touch it.
      const other = await cli(s, ["secrets", "set", "payments/prod/OTHER"], makeKey());
      assert.equal(other.code, 0, other.stderr);
      assert.equal((await meta("payments/prod/OTHER")).data.custom_metadata, null);
      const plain = (await vault.read("secret/data/payments/prod/OTHER")) as {
        data: { metadata: { custom_metadata: unknown } };
      };
      assert.equal(plain.data.metadata.custom_metadata, null);

      // `vault kv metadata put` replaces the map; `patch` merges into it (a null removes a key).
      await vault.write("secret/metadata/payments/prod/OTHER", { custom_metadata: { team: "a", tier: "1" } });
      await vault.request({
        path: "/secret/metadata/payments/prod/OTHER",
        method: "PATCH",
        json: { custom_metadata: { tier: null, owner: "billing" } },
        headers: { "content-type": "application/merge-patch+json" },
      });
      assert.deepEqual((await meta("payments/prod/OTHER")).data.custom_metadata, {
        team: "a",
        owner: "billing",
      });
      // What Go's api sends for PutMetadata with no custom metadata (every field, its nil map
      // as null): the whole is replaced, as Vault does, so none is left.
      await vault.write("secret/metadata/payments/prod/PUSHED", {
        cas_required: false,
        custom_metadata: null,
        delete_version_after: "0s",
        max_versions: 0,
      });
      assert.equal((await meta("payments/prod/PUSHED")).data.custom_metadata, null);
      await vault.write("secret/metadata/payments/prod/PUSHED", label);
      // A write with no custom_metadata, or Vault's defaults for the rest, changes nothing.
      await vault.write("secret/metadata/payments/prod/OTHER", { max_versions: 0, cas_required: false });
      assert.deepEqual((await meta("payments/prod/OTHER")).data.custom_metadata, {
        team: "a",
        owner: "billing",
      });
      // Keywarden's own CLI (`secrets meta`) and REST API merge into the same pairs.
      const metaCmd = ["secrets", "meta", "payments/prod/OTHER"];
      const added = await cli(s, [...metaCmd, "--custom-metadata", "tier=2", "region=eu"]);
      assert.equal(added.code, 0, added.stderr);
      assert.deepEqual((JSON.parse(added.stdout) as { customMetadata: unknown }).customMetadata, {
        team: "a",
        owner: "billing",
        tier: "2",
        region: "eu",
      });
      const removed = await cli(s, [...metaCmd, "--remove-custom-metadata", "tier", "region"]);
      assert.deepEqual((JSON.parse(removed.stdout) as { customMetadata: unknown }).customMetadata, {
        team: "a",
        owner: "billing",
      });
      const malformed = await cli(s, [...metaCmd, "--custom-metadata", "novalue"]);
      assert.equal(malformed.code, 2);
      assert.match(malformed.stderr, /key=value pairs/);
      // `secrets set` takes them with the value, in one write; a refused map writes no version.
      const labelled = ["secrets", "set", "payments/prod/LABELLED", "--custom-metadata"];
      const withLabel = await cli(s, [...labelled, "managed-by=keywarden", "team=a"], makeKey());
      assert.equal(withLabel.code, 0, withLabel.stderr);
      assert.deepEqual((await meta("payments/prod/LABELLED")).data.custom_metadata, {
        "managed-by": "keywarden",
        team: "a",
      });
      const tooLong = await cli(s, [...labelled, `note=${"x".repeat(513)}`], makeKey());
      assert.equal(tooLong.code, 2, tooLong.stderr);
      assert.match(tooLong.stderr, /at most 512 characters/);
      const after2 = await meta("payments/prod/LABELLED");
      assert.deepEqual([after2.data.current_version, after2.data.custom_metadata?.team], [1, "a"]);
      await vault.delete("secret/metadata/payments/prod/LABELLED");
      const rest = (customMetadata: Record<string, string | null>) =>
        s.app.inject({
          method: "PATCH",
          url: "/api/v1/secrets/payments/prod/OTHER/metadata",
          headers: { authorization: `Bearer ${token}` },
          payload: { customMetadata },
        });
      const zoned = await rest({ zone: "b" });
      assert.equal(zoned.statusCode, 200, zoned.body);
      assert.deepEqual(zoned.json<{ customMetadata: unknown }>().customMetadata, {
        team: "a",
        owner: "billing",
        zone: "b",
      });
      assert.equal((await meta("payments/prod/OTHER")).data.custom_metadata?.zone, "b");
      assert.deepEqual((await rest({ zone: null })).json<{ customMetadata: unknown }>().customMetadata, {
        team: "a",
        owner: "billing",
      });

      // What Keywarden does not do is refused, not silently ignored; Vault's bounds hold; and a
      // key pasted into metadata, kept in the clear, is refused without being echoed.
      await assert.rejects(
        vault.write("secret/metadata/payments/prod/OTHER", { max_versions: 3 }),
        status(400, /max_versions/),
      );
      await assert.rejects(
        vault.write("secret/metadata/payments/prod/OTHER", { cas_required: true }),
        status(400, /cas_required/),
      );
      const many = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, "v"]));
      await assert.rejects(
        vault.write("secret/metadata/payments/prod/OTHER", { custom_metadata: many }),
        status(400, /at most 64 keys/),
      );
      await assert.rejects(
        vault.write("secret/metadata/payments/prod/OTHER", { custom_metadata: { note: "x".repeat(513) } }),
        status(400, /at most 512 characters/),
      );
      // A Keywarden token: the scanner tells it by its checksum.
      const pasted = formatToken("svc");
      await assert.rejects(
        vault.write("secret/metadata/payments/prod/OTHER", { custom_metadata: { note: pasted } }),
        (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, 400);
          assert.match(e.message, /kept in the clear/);
          assert.ok(!e.message.includes(pasted));
          return true;
        },
      );
      assert.deepEqual((await meta("payments/prod/OTHER")).data.custom_metadata, {
        team: "a",
        owner: "billing",
      });

      // Writing metadata needs write: a read-only token is refused and nothing changes.
      const reader = nodeVault({
        endpoint: url,
        token: await s.token([{ path: "payments/**", capabilities: ["read", "list"] }]),
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      await assert.rejects(
        reader.write("secret/metadata/payments/prod/OTHER", { custom_metadata: { team: "b" } }),
        status(403),
      );
      assert.equal((await meta("payments/prod/OTHER")).data.custom_metadata?.team, "a");

      // Deleting the metadata deletes everything, custom metadata included, also where only
      // custom metadata was ever written.
      await vault.delete("secret/metadata/payments/prod/PUSHED");
      await assert.rejects(meta("payments/prod/PUSHED"), status(404));
      await vault.write("secret/metadata/payments/prod/ONLY_LABEL", label);
      // Listed as a key, as Vault lists a path with metadata and no secret.
      const listed = (await vault.list("secret/metadata/payments/prod")) as { data: { keys: string[] } };
      assert.deepEqual(listed.data.keys, ["ONLY_LABEL", "OTHER"]);
      // At the mount's root, a project that holds only custom metadata is listed too, to a
      // token that may list it (and to no other).
      const refunder = nodeVault({
        endpoint: url,
        token: await s.token([{ path: "refunds/**", capabilities: ["write", "list", "destroy"] }]),
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      await refunder.write("secret/metadata/refunds/prod/LABEL", label);
      const rootKeys = async (client: typeof vault) =>
        ((await client.list("secret/metadata/")) as { data: { keys: string[] } }).data.keys;
      assert.deepEqual(await rootKeys(refunder), ["refunds/"]);
      assert.deepEqual(await rootKeys(vault), ["payments/"]);
      await refunder.delete("secret/metadata/refunds/prod/LABEL");
      // Nothing left to list: Vault's 404.
      await assert.rejects(rootKeys(refunder), status(404));
      await vault.delete("secret/metadata/payments/prod/ONLY_LABEL");
      const after = (await vault.list("secret/metadata/payments/prod")) as { data: { keys: string[] } };
      assert.deepEqual(after.data.keys, ["OTHER"]);
      await assert.rejects(meta("payments/prod/ONLY_LABEL"), status(404));

      // A stored row that is not a JSON object of strings is damage: a 500 that says only
      // "internal error", and the path's other routes keep answering.
      await s.kw.storage.db
        .insertInto("secret_custom_metadata")
        .values({ path: "payments/prod/DAMAGED", data: '{"a":1', updated_at: s.clock.now().toISOString() })
        .execute();
      await assert.rejects(meta("payments/prod/DAMAGED"), status(500, /internal error/));
      assert.equal((await meta("payments/prod/OTHER")).data.custom_metadata?.team, "a");
      // Each change is in the audit log, with no value in it.
      const entries = await s.kw.audit.query({ action: "secret.metadata", limit: 100 });
      assert.ok(entries.filter((e) => e.result === "ok").length >= 6, JSON.stringify(entries));
      const denied = await s.kw.audit.query({ action: "access.write", limit: 100 });
      assert.ok(denied.some((e) => e.result === "denied" && e.path === "payments/prod/OTHER"));
      assert.equal(entries.filter((e) => e.detail === "KW_ERR_USAGE").length, 3, "the three refused maps");
      assert.ok(!JSON.stringify(entries).includes(pasted));
    });

    test("token create and revoke-self: a short-lived child of the calling token, as Vault clients ask", async (t) => {
      const s = await createTestServer(t, dialect, { https: true });
      const { url, ca } = await s.listen();
      const parent = await s.token([{ path: "payments/**", capabilities: ["read", "list"] }]);
      const vault = nodeVault({
        endpoint: url,
        token: parent,
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      const value = makeKey();
      const set = await cli(s, ["secrets", "set", "payments/prod/STRIPE_KEY"], value);
      assert.equal(set.code, 0, set.stderr);
      const status =
        (code: number, pattern?: RegExp) => (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, code, e.message);
          if (pattern !== undefined) assert.match(e.message, pattern);
          return true;
        };
      type Created = {
        auth: {
          client_token: string;
          accessor: string;
          policies: string[];
          lease_duration: number;
          renewable: boolean;
        };
      };

      // node-vault takes the token it creates for its own from then on (a "token source"), so
      // each create here goes through a client of its own with the parent token.
      const asParent = () =>
        nodeVault({ endpoint: url, token: parent, noCustomHTTPVerbs: true, requestOptions: { ca } });
      // What Terraform's provider sends for its run's child token: ttl in seconds, not renewable.
      const created = (await asParent().tokenCreate({
        ttl: "1200s",
        explicit_max_ttl: "1200s",
        renewable: false,
        display_name: "terraform",
      })) as Created;
      assert.match(created.auth.client_token, /^kw_cld_/);
      assert.match(created.auth.accessor, /^tok_/);
      assert.equal(created.auth.lease_duration, 1200);
      assert.equal(created.auth.renewable, false);
      const child = nodeVault({
        endpoint: url,
        token: created.auth.client_token,
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      const read = (await child.read("secret/data/payments/prod/STRIPE_KEY")) as { data: { data: unknown } };
      assert.deepEqual(read.data.data, { value });
      // The child has the parent's policies and no more: no write, nothing elsewhere.
      await assert.rejects(
        child.write("secret/data/payments/prod/STRIPE_KEY", { data: { value: makeKey() } }),
        status(403),
      );
      // What `vault token create -ttl=20m` sends (renewable asked, answered false), and Go durations.
      const cliLike = (await asParent().tokenCreate({
        ttl: "1h",
        renewable: true,
        type: "service",
        num_uses: 0,
      })) as Created;
      assert.equal(cliLike.auth.lease_duration, 3600);
      assert.equal(cliLike.auth.renewable, false);
      // No ttl: the longest a child may live (access.childTokenMaxMinutes, 60 by default).
      const plain = (await asParent().tokenCreate({})) as Created;
      assert.equal(plain.auth.lease_duration, 3600);

      // Refused, naming why, and nothing made: beyond the child maximum, beyond the parent's
      // policies, what Keywarden's tokens cannot be, and a child making a grandchild.
      await assert.rejects(vault.tokenCreate({ ttl: "2h" }), status(400, /child token TTL/));
      await assert.rejects(vault.tokenCreate({ ttl: "90s" }), status(400, /whole minutes/));
      await assert.rejects(vault.tokenCreate({ ttl: "soon" }), status(400, /not a duration/));
      await assert.rejects(vault.tokenCreate({ policies: ["root"] }), status(403));
      await assert.rejects(vault.tokenCreate({ no_parent: true }), status(400, /no_parent/));
      // (node-vault sends only the fields its schema knows: these two go as Vault's CLI sends them.)
      const raw = (json: object) => asParent().request({ path: "/auth/token/create", method: "POST", json });
      await assert.rejects(raw({ period: "24h" }), status(400, /period/));
      await assert.rejects(raw({ type: "batch" }), status(400, /type \(service tokens only\)/));
      await assert.rejects(vault.tokenCreate({ id: "my-own-token" }), status(400, /id/));
      await assert.rejects(child.tokenCreate({ ttl: "10m" }), status(403));
      const tokens = await s.kw.access.listTokens(s.ctx, "operator", { active: true });
      assert.equal(tokens.filter((x) => x.kind === "cld").length, 3, "the three made above, no more");

      // Renewal: tokens keep the life they were made with, so a good one gets Vault's answer for
      // a token that is not renewable, and a bad one what any use of it gets.
      const before = (await child.tokenLookupSelf()) as { data: { expire_time: string } };
      await assert.rejects(child.tokenRenewSelf(), status(400, /lease is not renewable/));
      await assert.rejects(
        child.request({ path: "/auth/token/renew-self", method: "PUT" }),
        status(400, /lease is not renewable/),
      );
      await assert.rejects(
        vault.tokenRenew({ token: created.auth.client_token, increment: "1h" }),
        status(400, /lease is not renewable/),
      );
      await assert.rejects(vault.tokenRenew({ token: makeKey() }), status(401));
      const renewAccessor = (accessor: string) =>
        vault.request({ path: "/auth/token/renew-accessor", method: "PUT", json: { accessor } });
      await assert.rejects(renewAccessor(created.auth.accessor), status(400, /lease is not renewable/));
      await assert.rejects(renewAccessor("tok_06H2HHVCRXX6JY19WVX9W990WW"), status(404));
      const after = (await child.tokenLookupSelf()) as { data: { expire_time: string } };
      assert.equal(after.data.expire_time, before.data.expire_time);

      // revoke-self, as Go's api sends it (PUT, no body): the child is refused from then on;
      // its parent still works.
      await child.request({ path: "/auth/token/revoke-self", method: "PUT" });
      await assert.rejects(child.read("secret/data/payments/prod/STRIPE_KEY"), status(401));
      assert.ok(await vault.read("secret/data/payments/prod/STRIPE_KEY"));
      // The parent revoking itself revokes its remaining children with it.
      const other = nodeVault({
        endpoint: url,
        token: cliLike.auth.client_token,
        noCustomHTTPVerbs: true,
        requestOptions: { ca },
      });
      assert.ok(await other.read("secret/data/payments/prod/STRIPE_KEY"));
      await vault.tokenRevokeSelf();
      await assert.rejects(other.read("secret/data/payments/prod/STRIPE_KEY"), status(401));
      await assert.rejects(vault.read("secret/data/payments/prod/STRIPE_KEY"), status(401));
      // Audited: the children made and the revocations.
      const made = await s.kw.audit.query({ action: "access.token.child", limit: 100 });
      assert.equal(made.filter((e) => e.result === "ok").length, 3);
      const revoked = await s.kw.audit.query({ action: "access.token.revoke", limit: 100 });
      assert.equal(revoked.filter((e) => e.result === "ok").length, 2);
    });

    test("capabilities: what a token may do on a path, in Vault's words (vault token capabilities) and Keywarden's", async (t) => {
      const s = await createTestServer(t, dialect, { https: true });
      const { url, ca } = await s.listen();
      const token = await s.token([
        { path: "payments/prod/*", capabilities: ["read", "list"] },
        { path: "payments/prod/", capabilities: ["list"] },
        { path: "payments/dev/*", capabilities: ["read", "write", "delete"] },
      ]);
      const vault = nodeVault({ endpoint: url, token, requestOptions: { ca } });
      // What Go's api sends for `vault token capabilities PATH`.
      const paths = [
        "secret/data/payments/prod/KEY",
        "secret/metadata/payments/prod",
        "secret/data/payments/dev/KEY",
        "secret/data/shipping/prod/KEY",
        "sys/seal",
      ];
      const r = (await vault.request({
        path: "/sys/capabilities-self",
        method: "POST",
        json: { paths },
      })) as {
        capabilities: string[];
        data: Record<string, string[]>;
      };
      assert.deepEqual(r.data, {
        "secret/data/payments/prod/KEY": ["read"],
        "secret/metadata/payments/prod": ["list"],
        "secret/data/payments/dev/KEY": ["create", "delete", "patch", "read", "update"],
        "secret/data/shipping/prod/KEY": ["deny"],
        "sys/seal": ["deny"],
      });
      assert.deepEqual(r.capabilities, ["read"], "the first path's, for older clients");
      // And it is what the routes do: the read works, the write is refused.
      await cli(s, ["secrets", "set", "payments/prod/KEY"], makeKey());
      assert.ok(await vault.read("secret/data/payments/prod/KEY"));
      await assert.rejects(
        vault.write("secret/data/payments/prod/KEY", { data: { value: "x" } }),
        /may not write/,
      );
      // Keywarden's own words.
      const own = await s.app.inject({
        url: "/api/v1/tokens/self/capabilities?path=payments/dev/KEY",
        headers: { authorization: `Bearer ${token}` },
      });
      assert.deepEqual(own.json(), { path: "payments/dev/KEY", capabilities: ["read", "write", "delete"] });
    });

    test("AppRole login: role_id the identity's name, secret_id its token, answered with a short-lived child", async (t) => {
      const s = await createTestServer(t, dialect, { https: true, flags: { "server.authFailureLimit": 8 } });
      const { url, ca } = await s.listen();
      const value = makeKey();
      assert.equal((await cli(s, ["secrets", "set", "payments/prod/STRIPE_KEY"], value)).code, 0);
      const secretId = await s.token([{ path: "payments/**", capabilities: ["read", "list"] }], {
        ttlSeconds: 1800,
      });
      const self = (await nodeVault({
        endpoint: url,
        token: secretId,
        requestOptions: { ca },
      }).tokenLookupSelf()) as {
        data: { display_name: string; policies: string[] };
      };
      const role = self.data.display_name;
      // An app configured for AppRole starts with no token, logs in, and reads with what it got.
      const app = nodeVault({ endpoint: url, noCustomHTTPVerbs: true, requestOptions: { ca } });
      type Login = {
        auth: {
          client_token: string;
          accessor: string;
          policies: string[];
          metadata: Record<string, string>;
          lease_duration: number;
          renewable: boolean;
        };
      };
      const login = (await app.approleLogin({ role_id: role, secret_id: secretId })) as Login;
      assert.match(login.auth.client_token, /^kw_cld_/);
      assert.deepEqual(login.auth.policies, self.data.policies);
      assert.deepEqual(login.auth.metadata, { role_name: role });
      assert.equal(login.auth.renewable, false);
      // Never past the token it came from (1800 s), though the child maximum is an hour.
      assert.equal(login.auth.lease_duration, 1800);
      assert.ok(!JSON.stringify(login).includes(secretId), "the secret_id is not echoed");
      assert.equal(app.token, login.auth.client_token, "node-vault took the token it was given");
      const read = (await app.read("secret/data/payments/prod/STRIPE_KEY")) as {
        data: { data: { value: string } };
      };
      assert.equal(read.data.data.value, value);
      const status =
        (code: number, pattern?: RegExp) => (e: Error & { response?: { statusCode: number } }) => {
          assert.equal(e.response?.statusCode, code, e.message);
          if (pattern !== undefined) assert.match(e.message, pattern);
          return true;
        };
      await assert.rejects(
        app.write("secret/data/payments/prod/STRIPE_KEY", { data: { value: "x" } }),
        status(403),
      );
      // As Go's api sends it (Vault Agent, External Secrets, Terraform): a PUT.
      const goLogin = (await nodeVault({ endpoint: url, requestOptions: { ca } }).request({
        path: "/auth/approle/login",
        method: "PUT",
        json: { role_id: role, secret_id: secretId },
      })) as Login;
      assert.match(goLogin.auth.client_token, /^kw_cld_/);
      assert.notEqual(goLogin.auth.client_token, login.auth.client_token);

      // Every wrong part gets the same answer, and none is echoed: another identity's name, a
      // token no one issued, a revoked one, a mistyped one, the child token itself.
      const other = await s.token([{ path: "refunds/**", capabilities: ["read"] }]);
      const revoked = await s.token([{ path: "payments/**", capabilities: ["read"] }], { revoked: true });
      const fresh = nodeVault({ endpoint: url, requestOptions: { ca } });
      const wrong: [string, string][] = [
        ["another identity's role", other],
        ["unknown token", formatToken("svc")],
        ["revoked", revoked],
        ["mistyped", `${secretId.slice(0, -1)}${secretId.endsWith("x") ? "y" : "x"}`],
        ["a child token", login.auth.client_token],
      ];
      for (const [why, secret] of wrong)
        await assert.rejects(
          fresh.approleLogin({ role_id: role, secret_id: secret }),
          (e: Error & { response?: { statusCode: number; body: unknown } }) => {
            assert.equal(e.response?.statusCode, 400, why);
            assert.match(e.message, /invalid role or secret ID/, why);
            assert.ok(!JSON.stringify(e.response).includes(secret.slice(7, 30)), why);
            return true;
          },
        );
      await assert.rejects(fresh.approleLogin({ role_id: role }), status(400));
      // The denials are audited, each as what it was.
      const approle = await s.kw.audit.query({ action: "auth.approle", limit: 100 });
      assert.deepEqual(approle.map((e) => [e.result, e.detail]).sort(), [
        ["denied", "KW_ERR_AUTH_APPROLE role_id is not the token's identity"],
        ["denied", "KW_ERR_AUTH_APPROLE secret_id is a child token"],
      ]);
      const tokenFailures = await s.kw.audit.query({ action: "auth.token", limit: 100 });
      assert.deepEqual(tokenFailures.map((e) => e.detail?.split(" ")[0]).sort(), [
        "KW_ERR_AUTH_CHECKSUM",
        "KW_ERR_AUTH_REVOKED",
        "KW_ERR_AUTH_UNKNOWN",
      ]);
      // Failures count against server.authFailureLimit (8 here) per address: then even the
      // right pair waits, as for every other way in.
      for (let i = 0; i < 3; i++)
        await assert.rejects(fresh.approleLogin({ role_id: role, secret_id: other }), status(400));
      await assert.rejects(fresh.approleLogin({ role_id: role, secret_id: secretId }), status(429));
      const children = await s.kw.audit.query({ action: "access.token.child", limit: 100 });
      assert.equal(children.filter((e) => e.result === "ok").length, 2, "two logins, two children");
    });
  });
}
