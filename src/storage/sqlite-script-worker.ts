/**
 * Entry of the SQLite writer thread (see sqlite-script.ts): one connection, scripts run in
 * the order they arrive, each answered with its result or its error's message.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  executeScript,
  openWriter,
  type ScriptReply,
  type ScriptThreadData,
  type SqliteScript,
} from "./sqlite-script.ts";

const data = workerData as ScriptThreadData;
const db = openWriter(data.file, data.timeoutMs, data.walAutocheckpointPages);

parentPort?.on("message", (m: { id: number; script: SqliteScript }) => {
  let reply: ScriptReply;
  try {
    reply = { id: m.id, ok: executeScript(db, m.script) };
  } catch (e) {
    reply = { id: m.id, error: e instanceof Error ? e.message : String(e) };
  }
  parentPort?.postMessage(reply);
});
