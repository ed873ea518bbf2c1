import { KeywardenError } from "../core/errors.ts";
import { decodeText, sniffEncoding, utf8Text } from "../sources/text-decode.ts";
import type { CliIO } from "./io.ts";

type TtyIn = CliIO["stdin"] & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** True when a person can be asked: stdin is a terminal. */
export function canPrompt(io: CliIO): boolean {
  return (io.stdin as TtyIn).isTTY === true && typeof (io.stdin as TtyIn).setRawMode === "function";
}

/**
 * Asks for a line on the terminal without echoing it (passphrases, secret values).
 * Ctrl-C rejects; the typed text is never written anywhere.
 *
 * @example
 *   const passphrase = await promptHidden(io, "Passphrase: ");
 */
export function promptHidden(io: CliIO, question: string): Promise<string> {
  const stdin = io.stdin as TtyIn;
  io.stderr.write(question);
  return new Promise((resolve, reject) => {
    let answer = "";
    const finish = (error?: Error): void => {
      stdin.removeListener("data", onData);
      stdin.setRawMode?.(false);
      stdin.pause();
      io.stderr.write("\n");
      if (error === undefined) resolve(answer);
      else reject(error);
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of String(chunk)) {
        if (ch === "\r" || ch === "\n") {
          finish();
          return;
        }
        if (ch === "\u0003") {
          finish(new Error("cancelled"));
          return;
        }
        if (ch === "\u007f" || ch === "\b") answer = Array.from(answer).slice(0, -1).join("");
        else if (ch >= " ") answer += ch;
      }
    };
    stdin.setRawMode?.(true);
    stdin.resume();
    stdin.on("data", onData);
  });
}

/**
 * Reads all of stdin as text (see decodeInput).
 *
 * @example
 *   const value = await readAll(io.stdin);
 */
export async function readAll(stream: CliIO["stdin"]): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return decodeInput(Buffer.concat(chunks), "stdin");
}

/**
 * A value or file given to store, as text: UTF-8, or UTF-16 as Windows tools write it.
 * Anything else is refused rather than stored changed: bytes that are not UTF-8 would
 * become U+FFFD, and binary data has no place in an environment variable.
 *
 * @example
 *   decodeInput(readFileSync(file), file)
 */
export function decodeInput(bytes: Buffer, what: string): string {
  const encoding = sniffEncoding(bytes);
  if (encoding === "binary")
    throw new KeywardenError("KW_ERR_VAULT_INPUT", {
      what,
      reason:
        "it holds NUL bytes (binary data, which an environment variable cannot carry); store it as base64, for example `base64 -w0 FILE | keywarden secrets set PATH`",
    });
  if (encoding !== "utf8") return decodeText(bytes, encoding).text;
  const text = utf8Text(bytes);
  if (text !== undefined) return text;
  throw new KeywardenError("KW_ERR_VAULT_INPUT", {
    what,
    reason:
      "it is not UTF-8 text; convert it first (for example `iconv -f latin1 -t utf-8`), or store binary data as base64",
  });
}
