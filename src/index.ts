/**
 * The keywarden library. `keywarden/detect` exposes the detection engine alone.
 *
 * @example
 *   import { createScanService, fileSource } from "keywarden";
 */
export { KeywardenError, ERRORS, type ErrorCode } from "./core/errors.ts";
export { Secret } from "./core/secret.ts";
export { loadConfig, type LoadedConfig } from "./config/load.ts";
export { fileSource } from "./sources/file-source.ts";
export { streamSource } from "./sources/stream-source.ts";
export { createScanService, catalogueFor, type ScanResult } from "./services/scan/scan-service.ts";
export { renderReport } from "./services/scan/report.ts";
export type { Finding } from "./services/scan/finding.ts";
