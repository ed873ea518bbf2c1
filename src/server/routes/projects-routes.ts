/**
 * `/api/v1/projects` and `/api/v1/environments`: what the vault holds, by project and
 * environment, and every current value of one environment in one request.
 *
 * The project and environment lists are filtered views: they show only what the caller's
 * `list` capability covers (see project-service.ts), so any token may call them.
 *
 * The environment read needs `read` on every live secret of the environment, and no
 * `list`: it is what `keywarden run` and `export` need, and nothing more. It is all or
 * nothing: one secret the caller may not read makes the whole request a 403 (naming the
 * environment, never the secret), because a silently shorter environment would start an
 * app with a variable missing. Each value read is audited on its own, as a single read is.
 */
import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import Type from "typebox";
import type { Keywarden } from "../../app.ts";
import { PROTECTED_ERRORS } from "../schemas.ts";

const Segment = Type.String({ minLength: 1, maxLength: 128 });

const ProjectSchema = Type.Object({
  name: Type.String(),
  environments: Type.Integer({ description: "Environments with at least one secret the caller may list." }),
  secrets: Type.Integer({ description: "Secrets the caller may list." }),
});

const EnvironmentSchema = Type.Object({
  name: Type.String(),
  secrets: Type.Integer({ description: "Secrets of this environment the caller may list." }),
});

const EnvironmentValueSchema = Type.Object({
  name: Type.String({ description: "The secret's NAME, usable as an environment variable." }),
  path: Type.String(),
  version: Type.Integer(),
  value: Type.String({ description: "The plaintext value." }),
});

/**
 * @example
 *   await app.register(projectsRoutes, { prefix: "/api/v1", keywarden });
 */
export const projectsRoutes: FastifyPluginAsyncTypebox<{ keywarden: Keywarden }> = (app, { keywarden }) => {
  app.get(
    "/projects",
    {
      schema: {
        tags: ["projects"],
        summary: "Projects in which the token may list something, with secret counts",
        response: { 200: Type.Object({ projects: Type.Array(ProjectSchema) }), ...PROTECTED_ERRORS },
      },
    },
    async (request) => ({ projects: await keywarden.projects.list(request.kwCtx) }),
  );

  app.get(
    "/projects/:project/environments",
    {
      schema: {
        tags: ["projects"],
        summary: "Environments of a project in which the token may list something, with secret counts",
        params: Type.Object({ project: Segment }),
        response: {
          200: Type.Object({ project: Type.String(), environments: Type.Array(EnvironmentSchema) }),
          ...PROTECTED_ERRORS,
        },
      },
    },
    async (request) => {
      const { project } = request.params;
      const found = await keywarden.projects.environments(request.kwCtx, project);
      return { project, environments: found.map((e) => ({ name: e.name, secrets: e.secrets })) };
    },
  );

  app.get(
    "/environments/:project/:env/secrets",
    {
      schema: {
        tags: ["secrets"],
        summary:
          "Every current value of an environment (needs read on each secret, not list; all or nothing)",
        params: Type.Object({ project: Segment, env: Segment }),
        querystring: Type.Object(
          {
            purpose: Type.Optional(
              Type.String({
                pattern: "^[a-z][a-z0-9-]{0,31}$",
                description: "Recorded in each read's audit entry (run, export, ...).",
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({
            project: Type.String(),
            environment: Type.String(),
            secrets: Type.Array(EnvironmentValueSchema),
          }),
          ...PROTECTED_ERRORS,
        },
      },
    },
    async (request) => {
      const { project, env } = request.params;
      const { purpose } = request.query;
      const via = purpose === undefined ? "api" : `api ${purpose}`;
      const read = await keywarden.vault.readEnvironment(request.kwCtx, `${project}/${env}`, via);
      return {
        project,
        environment: env,
        secrets: read.map((s) => ({
          name: s.name,
          path: `${project}/${env}/${s.name}`,
          version: s.version,
          value: s.value.reveal(),
        })),
      };
    },
  );
  return Promise.resolve();
};
