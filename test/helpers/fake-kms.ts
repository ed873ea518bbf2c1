import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local server speaking the AWS KMS JSON protocol (POST /, X-Amz-Target:
 * TrentService.<Operation>, application/x-amz-json-1.1, base64 blobs) for Encrypt, Decrypt,
 * GenerateDataKey and CreateKey. Ciphertexts are real AES-256-GCM under per-key material,
 * bound to the encryption context, so tampering and wrong contexts fail as on AWS.
 * Requests must be signed with the expected access key id (the signature is not checked).
 */
export interface FakeKms {
  readonly endpoint: string;
  readonly region: string;
  /** The KeyId of a key created at start, also reachable as `alias/keywarden`. */
  readonly keyId: string;
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** Every request: operation and parsed JSON body. */
  readonly calls: { operation: string; body: Record<string, unknown> }[];
  /** Makes the next `count` requests fail with this AWS error. */
  failNext(error: { type: string; message: string; status?: number }, count?: number): void;
  createKey(): string;
  close(): Promise<void>;
}

interface Key {
  readonly id: string;
  readonly arn: string;
  readonly material: Buffer;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

function canonicalContext(ctx: unknown): Buffer {
  const entries = Object.entries((ctx ?? {}) as Record<string, string>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Buffer.from(JSON.stringify(entries));
}

export async function startFakeKms(region = "us-east-1"): Promise<FakeKms> {
  const account = "111122223333";
  const keys = new Map<string, Key>();
  const aliases = new Map<string, string>();
  const calls: FakeKms["calls"] = [];
  let failures: { type: string; message: string; status?: number; count: number } | undefined;
  // Fake credentials made at run time; nothing here is a real key.
  const credentials = {
    accessKeyId: "AKIA" + randomBytes(8).toString("hex").toUpperCase(),
    secretAccessKey: randomBytes(20).toString("base64"),
  };

  const createKey = (): string => {
    const id = randomUUID();
    keys.set(id, { id, arn: `arn:aws:kms:${region}:${account}:key/${id}`, material: randomBytes(32) });
    return id;
  };

  const resolveKey = (keyId: unknown): Key => {
    if (typeof keyId !== "string" || keyId === "")
      throw new KmsError("ValidationException", "KeyId is required");
    let id = keyId;
    if (id.startsWith("alias/")) id = aliases.get(id) ?? "";
    else if (id.startsWith("arn:")) id = id.split("/").pop() ?? "";
    const key = keys.get(id);
    if (key === undefined) throw new KmsError("NotFoundException", `Key '${keyId}' does not exist`);
    return key;
  };

  const encrypt = (key: Key, plaintext: Buffer, ctx: unknown): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv("aes-256-gcm", key.material, iv);
    c.setAAD(canonicalContext(ctx));
    const ct = Buffer.concat([c.update(plaintext), c.final()]);
    const id = Buffer.from(key.id);
    return Buffer.concat([Buffer.of(id.length), id, iv, ct, c.getAuthTag()]);
  };

  const decrypt = (blob: Buffer, ctx: unknown, keyId: unknown): { key: Key; plaintext: Buffer } => {
    const invalid = new KmsError("InvalidCiphertextException", "");
    if (blob.length < 1) throw invalid;
    const idLen = blob[0]!;
    const key = keys.get(blob.subarray(1, 1 + idLen).toString());
    if (key === undefined || blob.length < 1 + idLen + 12 + 16) throw invalid;
    if (keyId !== undefined && resolveKey(keyId).id !== key.id) {
      throw new KmsError(
        "IncorrectKeyException",
        "The key ID in the request does not identify a KMS key that can perform this operation.",
      );
    }
    const iv = blob.subarray(1 + idLen, 13 + idLen);
    const d = createDecipheriv("aes-256-gcm", key.material, iv);
    d.setAAD(canonicalContext(ctx));
    d.setAuthTag(blob.subarray(blob.length - 16));
    try {
      return {
        key,
        plaintext: Buffer.concat([d.update(blob.subarray(13 + idLen, blob.length - 16)), d.final()]),
      };
    } catch {
      throw invalid;
    }
  };

  const b64 = (v: unknown): Buffer => Buffer.from(typeof v === "string" ? v : "", "base64");

  const handle = (operation: string, body: Record<string, unknown>): Record<string, unknown> => {
    switch (operation) {
      case "Encrypt": {
        const key = resolveKey(body.KeyId);
        const plaintext = b64(body.Plaintext);
        if (plaintext.length === 0 || plaintext.length > 4096)
          throw new KmsError("ValidationException", "bad Plaintext length");
        return {
          KeyId: key.arn,
          CiphertextBlob: encrypt(key, plaintext, body.EncryptionContext).toString("base64"),
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
      }
      case "Decrypt": {
        const { key, plaintext } = decrypt(b64(body.CiphertextBlob), body.EncryptionContext, body.KeyId);
        return {
          KeyId: key.arn,
          Plaintext: plaintext.toString("base64"),
          EncryptionAlgorithm: "SYMMETRIC_DEFAULT",
        };
      }
      case "GenerateDataKey": {
        const key = resolveKey(body.KeyId);
        const bytes =
          body.KeySpec === "AES_128" ? 16 : typeof body.NumberOfBytes === "number" ? body.NumberOfBytes : 32;
        const plaintext = randomBytes(bytes);
        return {
          KeyId: key.arn,
          Plaintext: plaintext.toString("base64"),
          CiphertextBlob: encrypt(key, plaintext, body.EncryptionContext).toString("base64"),
        };
      }
      case "CreateKey": {
        const key = keys.get(createKey())!;
        return {
          KeyMetadata: {
            KeyId: key.id,
            Arn: key.arn,
            AWSAccountId: account,
            Enabled: true,
            KeyState: "Enabled",
            KeySpec: "SYMMETRIC_DEFAULT",
            KeyUsage: "ENCRYPT_DECRYPT",
            Description: body.Description ?? "",
            CreationDate: Date.now() / 1000,
          },
        };
      }
      default:
        throw new KmsError("UnknownOperationException", `unsupported operation ${operation}`);
    }
  };

  const reply = (res: ServerResponse, status: number, payload: unknown): void => {
    res.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": randomUUID() });
    res.end(JSON.stringify(payload));
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      try {
        const target = String(req.headers["x-amz-target"] ?? "");
        if (req.method !== "POST" || !target.startsWith("TrentService."))
          throw new KmsError("UnknownOperationException", "bad target");
        if (!String(req.headers["content-type"]).startsWith("application/x-amz-json-1.1")) {
          throw new KmsError("SerializationException", "bad content type");
        }
        if (!(req.headers.authorization ?? "").includes(`Credential=${credentials.accessKeyId}/`)) {
          throw new KmsError(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
          );
        }
        const operation = target.slice("TrentService.".length);
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
        calls.push({ operation, body });
        if (failures !== undefined && failures.count > 0) {
          failures.count--;
          throw new KmsError(failures.type, failures.message, failures.status);
        }
        reply(res, 200, handle(operation, body));
      } catch (e) {
        if (e instanceof KmsError) reply(res, e.status, { __type: e.type, message: e.message });
        else reply(res, 500, { __type: "KMSInternalException", message: String(e) });
      }
    });
  });
  await new Promise<void>((resolve) => {
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  const keyId = createKey();
  aliases.set("alias/keywarden", keyId);

  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    keyId,
    credentials,
    calls,
    failNext(error, count = 1) {
      failures = { ...error, count };
    },
    createKey,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((e) => {
          if (e === undefined) resolve();
          else reject(e);
        });
      }),
  };
}

/** A loopback URL on which nothing listens. */
export async function unreachableEndpoint(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => {
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => {
    server.close(() => {
      resolve();
    });
  });
  return `http://127.0.0.1:${port}`;
}
