/**
 * The CI job's own OIDC token, for `KEYWARDEN_OIDC_IDENTITY`: the CLI trades it for a
 * short-lived Keywarden token at the server (POST /api/v1/auth/oidc), so a CI job needs no
 * stored token at all. Where the JWT comes from:
 *
 * - `KEYWARDEN_OIDC_TOKEN`, the JWT itself (GitLab CI's `id_tokens:`, any platform that puts
 *   one in the environment);
 * - GitHub Actions (a job with `permissions: id-token: write`): its runner's token service,
 *   `ACTIONS_ID_TOKEN_REQUEST_URL` with `&audience=...` and
 *   `Authorization: bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN`, answering `{ "value": "<jwt>" }`.
 *
 * The audience asked for is `KEYWARDEN_OIDC_AUDIENCE`, "keywarden" by default: it must be the
 * audience of the server's trust (access.oidc).
 */
import { KeywardenError } from "../core/errors.ts";
import { Secret } from "../core/secret.ts";
import type { CliIO } from "./io.ts";

export const OIDC_IDENTITY_ENV = "KEYWARDEN_OIDC_IDENTITY";
export const OIDC_TOKEN_ENV = "KEYWARDEN_OIDC_TOKEN";
export const OIDC_AUDIENCE_ENV = "KEYWARDEN_OIDC_AUDIENCE";
const GITHUB_URL_ENV = "ACTIONS_ID_TOKEN_REQUEST_URL";
const GITHUB_TOKEN_ENV = "ACTIONS_ID_TOKEN_REQUEST_TOKEN";
const TIMEOUT_MS = 10_000;

function failure(reason: string): KeywardenError {
  return new KeywardenError("KW_ERR_REMOTE_OIDC", { reason });
}

/**
 * The job's OIDC JWT, from KEYWARDEN_OIDC_TOKEN or GitHub Actions' token service. Throws
 * KW_ERR_REMOTE_OIDC saying what is missing or what the service answered (never a token).
 *
 * @example
 *   const jwt = await ciIdToken(io.env); // a Secret
 */
export async function ciIdToken(env: CliIO["env"]): Promise<Secret> {
  const given = env[OIDC_TOKEN_ENV] ?? "";
  if (given !== "") return new Secret(given.trim());
  const url = env[GITHUB_URL_ENV] ?? "";
  const token = env[GITHUB_TOKEN_ENV] ?? "";
  if (url === "" || token === "")
    throw failure(
      `${OIDC_IDENTITY_ENV} is set but there is no JWT: set ${OIDC_TOKEN_ENV}, or run in a GitHub Actions job with \`permissions: id-token: write\``,
    );
  const audience = env[OIDC_AUDIENCE_ENV] ?? "keywarden";
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw failure(`${GITHUB_URL_ENV} is not a URL`);
  }
  target.searchParams.set("audience", audience);
  let r: Response;
  try {
    r = await fetch(target, {
      headers: { authorization: `bearer ${token}`, accept: "application/json" },
      signal: AbortSignal.timeout(TIMEOUT_MS),
      // Not followed: the request token goes to the service named, nowhere else.
      redirect: "manual",
    });
  } catch (e) {
    throw failure(`GitHub's token service did not answer (${e instanceof Error ? e.name : "error"})`);
  }
  if (!r.ok) throw failure(`GitHub's token service answered ${r.status}`);
  let body: unknown;
  try {
    body = await r.json();
  } catch {
    throw failure("GitHub's token service answered something other than JSON");
  }
  const value = (body as { value?: unknown } | null)?.value;
  if (typeof value !== "string" || value === "")
    throw failure("GitHub's token service answered no token (`value`)");
  return new Secret(value);
}
