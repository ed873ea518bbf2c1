/**
 * Entry of the SQLite writer thread (see sqlite-script.ts): one connection, scripts run in
 * the order they arrive, each answered with its result or its error's message, once durable.
 */
import { fdatasyncSync, openSync } from "node:fs";
import { parentPort, workerData } from "node:worker_threads";
import {
  errorReply,
  executeScript,
  openWriter,
  type ScriptReply,
  type ScriptThreadData,
  type SqliteScript,
} from "./sqlite-script.ts";

const data = workerData as ScriptThreadData;
const db = openWriter(data.file, data.timeoutMs, data.walAutocheckpointPages);
/** The WAL file, opened at the first commit to sync (WAL mode keeps it while connections are open). */
let wal: number | undefined;

parentPort?.on("message", (m: { id: number; script: SqliteScript }) => {
  let reply: ScriptReply;
  try {
    const ok = executeScript(db, m.script);
    if (ok && data.syncWal) {
      // fdatasync acts on the file: it covers frames any connection wrote (see WalSync).
      wal ??= openSync(`${data.file}-wal`, "r");
      fdatasyncSync(wal);
    }
    reply = { id: m.id, ok };
  } catch (e) {
    reply = errorReply(m.id, e);
  }
  parentPort?.postMessage(reply);
});
