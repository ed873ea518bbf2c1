import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Writable } from "node:stream";
import { inspect } from "node:util";
import { describe, test, type TestContext } from "node:test";
import { isKeywardenError, KeywardenError, type ErrorCode } from "../../src/core/errors.ts";
import { createLogger, type Logger } from "../../src/core/logger.ts";
import type { KeyProvider, WrappedKey } from "../../src/kms/key-provider.ts";

/** One provider under test, freshly made with KEK version 1 current and nothing else. */
export interface ProviderFixture {
  /** Ready to wrap (a local provider comes unsealed). */
  provider: KeyProvider;
  /** Strings that must never appear in status, errors or logs: passphrase, PIN, KEK, credentials. */
  readonly secrets: readonly string[];
  /**
   * Makes a new KEK version current and returns the provider to use from then on. Defaults
   * to provider.rotate(); the env provider instead redeploys with a new variable.
   */
  rotate?(provider: KeyProvider): Promise<{ provider: KeyProvider; version: number }>;
  /** Retires a version the same way (defaults to provider.retire(version)). */
  retire?(provider: KeyProvider, version: number): Promise<KeyProvider>;
}

/** Makes a fixture; `logger` must be handed to the provider so that its lines are checked. */
export type ProviderFactory = (t: TestContext, logger: Logger) => Promise<ProviderFixture>;

/** A JSON logger at trace level writing into memory. */
export function memoryLogger(): { logger: Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { logger: createLogger({ level: "trace", format: "json", stream }), text: () => lines.join("") };
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** Awaits a rejection with a catalogue error of `code`, returning it for further checks. */
export async function expectKwError(promise: Promise<unknown>, code: ErrorCode): Promise<KeywardenError> {
  try {
    await promise;
  } catch (e) {
    assert.ok(isKeywardenError(e), `expected ${code}, got ${inspect(e)}`);
    assert.equal(e.code, code, e.message);
    return e;
  }
  assert.fail(`expected ${code}, but it succeeded`);
}

function flip(blob: Uint8Array, index: number): Uint8Array {
  const copy = Uint8Array.from(blob);
  copy[index] = copy[index]! ^ 0x01;
  return copy;
}

/** Text forms of a byte string that a leak might take. */
function encodings(bytes: Uint8Array): string[] {
  const b = Buffer.from(bytes);
  return [b.toString("hex"), b.toString("base64"), b.toString("base64url").replace(/=+$/, "")];
}

/**
 * The KeyProvider contract, written once and run for every provider: round trip, binding
 * to the context, rotation, retirement, status, and no key material anywhere it can leak.
 */
export function keyProviderContract(name: string, factory: ProviderFactory): void {
  describe(`KeyProvider contract: ${name}`, () => {
    async function setup(t: TestContext): Promise<ProviderFixture & { logs: () => string }> {
      const { logger, text } = memoryLogger();
      const fixture = await factory(t, logger);
      t.after(async () => {
        await fixture.provider.close();
      });
      return Object.assign(fixture, { logs: text });
    }

    async function rotate(f: ProviderFixture): Promise<number> {
      const r =
        f.rotate !== undefined
          ? await f.rotate(f.provider)
          : { provider: f.provider, version: await f.provider.rotate() };
      f.provider = r.provider;
      return r.version;
    }

    async function retire(f: ProviderFixture, version: number): Promise<void> {
      if (f.retire !== undefined) f.provider = await f.retire(f.provider, version);
      else await f.provider.retire(version);
    }

    test("wrap then unwrap returns the data key; the blob hides it and differs each time", async (t) => {
      const f = await setup(t);
      const dataKey = randomBytes(32);
      const context = utf8("sec_01|1|payments/prod/STRIPE_SECRET_KEY");
      const a = await f.provider.wrap(dataKey, context);
      const b = await f.provider.wrap(dataKey, context);
      assert.equal(a.kekVersion, 1);
      assert.ok(!Buffer.from(a.blob).includes(dataKey));
      assert.notDeepEqual(Buffer.from(a.blob), Buffer.from(b.blob));
      assert.deepEqual(Buffer.from(await f.provider.unwrap(a, context)), dataKey);
      assert.deepEqual(Buffer.from(await f.provider.unwrap(b, context)), dataKey);
      const empty = await f.provider.wrap(dataKey, new Uint8Array(0));
      assert.deepEqual(Buffer.from(await f.provider.unwrap(empty, new Uint8Array(0))), dataKey);
    });

    test("a wrong context, a modified blob or an unknown version fails with a catalogue error", async (t) => {
      const f = await setup(t);
      const dataKey = randomBytes(32);
      const context = utf8("sec_01|1|a/b/C");
      const w = await f.provider.wrap(dataKey, context);
      await expectKwError(f.provider.unwrap(w, utf8("sec_01|2|a/b/C")), "KW_ERR_KMS_UNWRAP");
      await expectKwError(f.provider.unwrap(w, new Uint8Array(0)), "KW_ERR_KMS_UNWRAP");
      for (const index of [0, Math.floor(w.blob.length / 2), w.blob.length - 1]) {
        await expectKwError(
          f.provider.unwrap({ kekVersion: 1, blob: flip(w.blob, index) }, context),
          "KW_ERR_KMS_UNWRAP",
        );
      }
      await expectKwError(
        f.provider.unwrap({ kekVersion: 1, blob: w.blob.subarray(0, 8) }, context),
        "KW_ERR_KMS_UNWRAP",
      );
      await expectKwError(
        f.provider.unwrap({ kekVersion: 7, blob: w.blob }, context),
        "KW_ERR_KMS_UNKNOWN_VERSION",
      );
      // The provider still works after failures.
      assert.deepEqual(Buffer.from(await f.provider.unwrap(w, context)), dataKey);
    });

    test("rotate: old wrapped keys still unwrap, new wraps use the new version", async (t) => {
      const f = await setup(t);
      const context = utf8("ctx");
      const k1 = randomBytes(32);
      const w1 = await f.provider.wrap(k1, context);
      const version = await rotate(f);
      assert.equal(version, 2);
      const status = await f.provider.status();
      assert.equal(status.currentVersion, 2);
      assert.deepEqual([...status.versions], [1, 2]);
      const k2 = randomBytes(32);
      const w2 = await f.provider.wrap(k2, context);
      assert.equal(w2.kekVersion, 2);
      assert.deepEqual(Buffer.from(await f.provider.unwrap(w1, context)), k1);
      assert.deepEqual(Buffer.from(await f.provider.unwrap(w2, context)), k2);
      // A blob labelled with the other version does not open: versions are distinct keys.
      await expectKwError(f.provider.unwrap({ kekVersion: 2, blob: w1.blob }, context), "KW_ERR_KMS_UNWRAP");
    });

    test("retire refuses the current version and makes the retired version's blobs fail", async (t) => {
      const f = await setup(t);
      const context = utf8("ctx");
      const w1 = await f.provider.wrap(randomBytes(32), context);
      if (f.retire === undefined) await expectKwError(f.provider.retire(1), "KW_ERR_KMS_RETIRE_CURRENT");
      await rotate(f);
      const w2 = await f.provider.wrap(randomBytes(32), context);
      if (f.retire === undefined) await expectKwError(f.provider.retire(2), "KW_ERR_KMS_RETIRE_CURRENT");
      await retire(f, 1);
      const status = await f.provider.status();
      assert.deepEqual([...status.versions], [2]);
      assert.equal(status.currentVersion, 2);
      await expectKwError(f.provider.unwrap(w1, context), "KW_ERR_KMS_UNKNOWN_VERSION");
      await f.provider.unwrap(w2, context);
      if (f.retire === undefined) await expectKwError(f.provider.retire(1), "KW_ERR_KMS_UNKNOWN_VERSION");
    });

    test("status reports kind and versions; no key material in status, errors or logs", async (t) => {
      const f = await setup(t);
      const dataKey = randomBytes(32);
      const context = utf8("sec_01|1|p/e/N");
      const w = await f.provider.wrap(dataKey, context);
      const status = await f.provider.status();
      assert.equal(status.kind, f.provider.kind);
      assert.equal(status.unsealed, true);
      assert.equal(status.currentVersion, 1);
      assert.deepEqual([...status.versions], [1]);
      assert.ok(status.description.length > 0);

      const errors: unknown[] = [];
      const collect = async (p: Promise<unknown>): Promise<void> => {
        try {
          await p;
        } catch (e) {
          errors.push(e);
        }
      };
      await collect(f.provider.unwrap(w, utf8("other")));
      await collect(f.provider.unwrap({ kekVersion: 1, blob: flip(w.blob, 3) }, context));
      await collect(f.provider.unwrap({ kekVersion: 9, blob: w.blob }, context));
      await collect(f.provider.retire(1));
      await collect(f.provider.rotate());
      await collect(f.provider.retire((await f.provider.status()).currentVersion));
      assert.ok(errors.length >= 3);
      await f.provider.unwrap(w, context);

      const haystack = [
        JSON.stringify(status),
        JSON.stringify(await f.provider.status()),
        f.logs(),
        ...errors.map(
          (e) => `${inspect(e, { depth: 5 })} ${JSON.stringify(e)} ${e instanceof Error ? e.message : ""}`,
        ),
      ].join("\n");
      const needles = [...encodings(dataKey), ...f.secrets.filter((s) => s.length >= 4)];
      for (const needle of needles)
        assert.ok(!haystack.includes(needle), `leaked a secret (${needle.length} characters)`);
    });

    test("after close the provider refuses work with a catalogue error", async (t) => {
      const f = await setup(t);
      const w: WrappedKey = await f.provider.wrap(randomBytes(32), utf8("c"));
      await f.provider.close();
      await assert.rejects(f.provider.wrap(randomBytes(32), utf8("c")), (e) => e instanceof KeywardenError);
      await assert.rejects(f.provider.unwrap(w, utf8("c")), (e) => e instanceof KeywardenError);
      await f.provider.close();
    });
  });
}
