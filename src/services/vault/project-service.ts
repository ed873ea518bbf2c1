/**
 * Projects and environments of the vault, with secret counts, as far as the caller may
 * list them. Unlike a list of a prefix (which needs `list` on everything under it), this
 * is a filtered view: a project or environment appears when the caller may list at least
 * one secret in it, and its counts are of those secrets only, so nothing the caller may
 * not list shows, not even as a number.
 */
import { isKeywardenError } from "../../core/errors.ts";
import type { Storage } from "../../storage/database.ts";
import {
  countByEnvironment,
  listEnvironment,
  type EnvironmentCount,
} from "../../storage/repos/secret-repo.ts";
import type { AuditService, RequestContext } from "../audit/audit-service.ts";
import { displayPath, parseProject } from "./secret-path.ts";
import type { Authorizer } from "./vault-service.ts";

export interface ProjectSummary {
  readonly name: string;
  /** Environments holding at least one secret the caller may list. */
  readonly environments: number;
  /** Secrets the caller may list, over all those environments. */
  readonly secrets: number;
}

export interface EnvironmentSummary {
  readonly project: string;
  readonly name: string;
  /** Secrets of this environment the caller may list. */
  readonly secrets: number;
}

export interface ProjectDeps {
  readonly storage: Storage;
  readonly audit: AuditService;
  /** The vault's authorizer; absent, everything is visible (the CLI's local vault). */
  readonly authorize?: Authorizer | undefined;
}

/**
 * @example
 *   const projects = createProjectService({ storage, audit, authorize });
 *   await projects.list(ctx); // [{ name: "payments", environments: 2, secrets: 7 }]
 */
export function createProjectService(deps: ProjectDeps) {
  const { storage, audit } = deps;
  const db = storage.db;

  /** How many of an environment's secrets `ctx` may list (0: the environment stays hidden). */
  async function visible(ctx: RequestContext, e: EnvironmentCount): Promise<number> {
    const check = deps.authorize;
    if (check === undefined) return e.count;
    // One check for the whole environment first: the common case needs no per-secret pass.
    if (await check(ctx, "list", `${e.project}/${e.environment}/`)) return e.count;
    let n = 0;
    for (const row of await listEnvironment(db, e.project, e.environment))
      if (await check(ctx, "list", row.path)) n++;
    return n;
  }

  async function environmentsOf(ctx: RequestContext, project?: string): Promise<EnvironmentSummary[]> {
    const out: EnvironmentSummary[] = [];
    for (const e of await countByEnvironment(db, project)) {
      const secrets = await visible(ctx, e);
      if (secrets > 0) out.push({ project: e.project, name: e.environment, secrets });
    }
    return out;
  }

  /** Audits the listing (ok, or failed with the error code), like the vault's own lists. */
  async function audited<T>(
    ctx: RequestContext,
    action: string,
    path: string | undefined,
    fn: () => Promise<{ result: T; detail: string }>,
  ): Promise<T> {
    let r: { result: T; detail: string };
    try {
      r = await fn();
    } catch (e) {
      await audit.record(ctx, {
        action,
        path,
        result: "failed",
        detail: isKeywardenError(e) ? e.code : "KW_ERR_INTERNAL",
      });
      throw e;
    }
    await audit.record(ctx, { action, path, result: "ok", detail: r.detail });
    return r.result;
  }

  /** Projects in which the caller may list at least one secret, in name order. */
  function list(ctx: RequestContext): Promise<ProjectSummary[]> {
    return audited(ctx, "project.list", undefined, async () => {
      const byProject = new Map<string, { environments: number; secrets: number }>();
      for (const e of await environmentsOf(ctx)) {
        const p = byProject.get(e.project) ?? { environments: 0, secrets: 0 };
        byProject.set(e.project, { environments: p.environments + 1, secrets: p.secrets + e.secrets });
      }
      const result = [...byProject].map(([name, p]) => ({ name, ...p }));
      return { result, detail: `${result.length} projects` };
    });
  }

  /**
   * Environments of `project` in which the caller may list at least one secret. A project
   * that does not exist and one the caller may list nothing in look the same: empty.
   */
  function environments(ctx: RequestContext, project: string): Promise<EnvironmentSummary[]> {
    return audited(ctx, "environment.list", `${displayPath(project)}/`, async () => {
      const result = await environmentsOf(ctx, parseProject(project));
      return { result, detail: `${result.length} environments` };
    });
  }

  return { list, environments };
}

export type ProjectService = ReturnType<typeof createProjectService>;
