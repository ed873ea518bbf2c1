import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import { hasCrc32Suffix, withCrc32 } from "../checksum.ts";
import { assigned, place, UUID } from "./shared.ts";

/* Package and artifact registries: npm, PyPI, RubyGems, NuGet, Docker Hub, JFrog, crates.io, Clojars. */

const NPM_DOCS = "https://docs.npmjs.com/revoking-access-tokens";

/** GET /-/whoami on the registry: 200 `{"username": ...}` for a working token, 401 otherwise. */
const NPM_VERIFY: VerifySpec = {
  provider: "npm",
  baseUrl: "https://registry.npmjs.org",
  method: "GET",
  path: "/-/whoami",
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://github.com/npm/registry/blob/main/docs/user/authentication.md",
};
const DOCKER_DOCS = "https://docs.docker.com/security/for-developers/access-tokens/";
const JFROG_DOCS = "https://jfrog.com/help/r/jfrog-platform-administration-documentation/access-tokens";

/**
 * Rules for package and artifact registries.
 *
 * @example
 *   devtoolsRegistryRules.find((r) => r.id === "npm-access-token")
 */
export const devtoolsRegistryRules: readonly Rule[] = [
  {
    id: "npm-access-token",
    provider: "npm",
    description: "npm access token (npm_) with a valid CRC32 checksum.",
    keywords: ["npm_"],
    pattern: /\b(npm_[0-9A-Za-z]{36})\b/,
    secretGroup: 1,
    entropy: 3,
    validate: hasCrc32Suffix,
    checksummed: true,
    severity: "critical",
    remediation:
      "Delete the token at npmjs.com > Access Tokens (or `npm token revoke <id>`), check the packages it could publish for unexpected versions, then create a granular token with the least scope and store it in a vault.",
    docs: NPM_DOCS,
    verify: NPM_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => withCrc32("npm_", gen.alnum(30)),
          [
            (s) => `//registry.npmjs.org/:_authToken=${s}`,
            (s) => `NPM_TOKEN=${s}`,
            (s) => `          NODE_AUTH_TOKEN: ${s}`,
          ],
        ),
      negatives: [
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
        "NPM_TOKEN=npm_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        // Right shape and plenty of entropy, but the CRC32 does not match.
        "example npm_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 from a blog post",
      ],
    },
  },
  {
    id: "npm-legacy-auth-token",
    provider: "npm",
    description: "npm legacy UUID auth token for registry.npmjs.org in an .npmrc.",
    keywords: ["registry.npmjs.org"],
    pattern: new RegExp(String.raw`registry\.npmjs\.org/:_authToken=["']?(${UUID})(?![\w-])`, "i"),
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Revoke it with `npm token revoke <id>` or at npmjs.com > Access Tokens (legacy tokens are being retired), then create a granular token and store it in a vault.",
    docs: NPM_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `//registry.npmjs.org/:_authToken=${s}`,
            (s) => `RUN echo "//registry.npmjs.org/:_authToken=${s}" > ~/.npmrc`,
          ],
        ),
      negatives: [
        "//registry.npmjs.org/:_authToken=00000000-0000-0000-0000-000000000000",
        "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
      ],
    },
  },
  {
    id: "pypi-api-token",
    provider: "PyPI",
    description: "PyPI or TestPyPI API token (pypi-AgEIcHlwaS5vcmc / pypi-AgENdGVzdC5weXBpLm9yZw macaroon).",
    keywords: ["pypi-ageichlwas5vcmc", "pypi-agendgvzdc5wexbplm9yzw"],
    pattern: /\b(pypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[\w-]{50,1000})(?![\w-])/,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Remove the token under PyPI Account settings > API tokens (PyPI also revokes tokens it is told about), review recent releases, then prefer Trusted Publishing or create a project-scoped token stored in a vault.",
    docs: "https://pypi.org/help/#apitoken",
    examples: {
      positives: (gen) => [
        ...place(
          () => `pypi-AgEIcHlwaS5vcmc${gen.base64url(160)}`,
          [(s) => `TWINE_PASSWORD=${s}`, (s) => `[pypi]\n  username = __token__\n  password = ${s}\n`],
        ),
        ...place(
          () => `pypi-AgENdGVzdC5weXBpLm9yZw${gen.base64url(160)}`,
          [(s) => `uv publish --publish-url https://test.pypi.org/legacy/ --token ${s}`],
        ),
      ],
      negatives: ["TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc...", "password = pypi-<your-token>"],
    },
  },
  {
    id: "rubygems-api-key",
    provider: "RubyGems",
    description: "RubyGems.org API key (rubygems_ + 48 hex).",
    keywords: ["rubygems_"],
    pattern: /\b(rubygems_[a-f0-9]{48})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "critical",
    remediation:
      "Delete the key at rubygems.org > Settings > API keys, check the gems it could push for unexpected versions, then create a scoped key (or use trusted publishing) and store it in a vault.",
    docs: "https://guides.rubygems.org/api-key-scopes/",
    examples: {
      positives: (gen) =>
        place(
          () => `rubygems_${gen.hex(48)}`,
          [(s) => `---\n:rubygems_api_key: ${s}\n`, (s) => `GEM_HOST_API_KEY=${s}`],
        ),
      negatives: [
        ":rubygems_api_key: rubygems_<key>",
        "GEM_HOST_API_KEY=rubygems_000000000000000000000000000000000000000000000000",
      ],
    },
  },
  {
    id: "nuget-api-key",
    provider: "NuGet",
    description: "nuget.org API key (oy2 + 43 lowercase alphanumerics).",
    keywords: ["oy2"],
    pattern: /\b(oy2[a-z0-9]{43})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Delete or regenerate the key at nuget.org > API Keys, check the packages it could push, then create a key scoped to specific packages with an expiry and store it in a vault.",
    docs: "https://learn.microsoft.com/en-us/nuget/nuget-org/scoped-api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `oy2${gen.lowerAlnum(43)}`,
          [
            (s) =>
              `dotnet nuget push bin/Release/*.nupkg --api-key ${s} --source https://api.nuget.org/v3/index.json`,
            (s) => `NUGET_API_KEY=${s}`,
          ],
        ),
      negatives: ["NUGET_API_KEY=oy2xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "--api-key oy2<key>"],
    },
  },
  {
    id: "dockerhub-personal-access-token",
    provider: "Docker Hub",
    description: "Docker Hub personal access token (dckr_pat_).",
    keywords: ["dckr_pat_"],
    pattern: /\b(dckr_pat_[\w-]{24,48})(?![\w-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token at Docker Hub > Account settings > Personal access tokens, check the repositories it could push, then create a new read-only or scoped token and store it in a vault.",
    docs: DOCKER_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `dckr_pat_${gen.base64url(27)}`,
          [
            (s) => `echo ${s} | docker login -u acmebot --password-stdin`,
            (s) => `DOCKERHUB_TOKEN=${s}`,
            (s) => `{"auths":{"https://index.docker.io/v1/":{"username":"acmebot","password":"${s}"}}}`,
          ],
        ),
      negatives: ["DOCKERHUB_TOKEN=dckr_pat_<token>", "DOCKERHUB_TOKEN=dckr_pat_xxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "dockerhub-organization-access-token",
    provider: "Docker Hub",
    description: "Docker Hub organization access token (dckr_oat_).",
    keywords: ["dckr_oat_"],
    pattern: /\b(dckr_oat_[\w-]{24,48})(?![\w-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Deactivate or delete the token in Docker Hub's Admin Console > Access tokens for the organization, then create a new token with only the repositories it needs and store it in a vault.",
    docs: "https://docs.docker.com/security/for-admins/access-tokens/",
    examples: {
      positives: (gen) =>
        place(
          () => `dckr_oat_${gen.base64url(32)}`,
          [(s) => `DOCKER_ORG_TOKEN=${s}`, (s) => `          password: ${s}`],
        ),
      negatives: ["DOCKER_ORG_TOKEN=dckr_oat_<token>", "organization tokens look like dckr_oat_..."],
    },
  },
  {
    id: "jfrog-api-key",
    provider: "JFrog",
    description: "JFrog Artifactory API key (AKCp + 69 alphanumerics).",
    keywords: ["akcp"],
    pattern: /\b(AKCp[A-Za-z0-9]{69})\b/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke the API key in the JFrog Platform under Edit Profile > API Key (API keys are deprecated), then switch to a scoped access token and store it in a vault.",
    docs: JFROG_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `AKCp${gen.pick(["5", "8"])}${gen.alnum(68)}`,
          [
            (s) => `curl -H "X-JFrog-Art-Api: ${s}" https://acme.jfrog.io/artifactory/api/repositories`,
            (s) => `ARTIFACTORY_API_KEY=${s}`,
          ],
        ),
      negatives: ["X-JFrog-Art-Api: AKCp<api-key>", "ARTIFACTORY_API_KEY=AKCpxxxxxxxx"],
    },
  },
  {
    id: "jfrog-reference-token",
    provider: "JFrog",
    description: "JFrog Platform reference (access) token (cmVmdGtu, base64 of reftkn).",
    keywords: ["cmvmdgtu"],
    pattern: /\b(cmVmdGtu[A-Za-z0-9]{56})\b/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Revoke the token in the JFrog Platform under Administration > User Management > Access Tokens (or `jf atc --revoke`/DELETE /access/api/v1/tokens/{id}), then create a new scoped token with an expiry and store it in a vault.",
    docs: JFROG_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `cmVmdGtuOjAxOj${gen.alnum(50)}`,
          [
            (s) => `JFROG_ACCESS_TOKEN=${s}`,
            (s) => `jf config add acme --url https://acme.jfrog.io --access-token ${s}`,
          ],
        ),
      negatives: ["JFROG_ACCESS_TOKEN=cmVmdGtu<token>", "reference tokens start with cmVmdGtu"],
    },
  },
  {
    id: "crates-io-api-token",
    provider: "crates.io",
    description: "crates.io API token (cio + 32 alphanumerics).",
    keywords: ["cio"],
    pattern: /\b(cio[A-Za-z0-9]{32})\b/,
    secretGroup: 1,
    entropy: 4,
    severity: "critical",
    remediation:
      "Revoke the token at crates.io > Account Settings > API Tokens, check the crates it could publish, then create a new token scoped to specific crates with an expiry (or use trusted publishing) and store it in a vault.",
    docs: "https://doc.rust-lang.org/cargo/reference/publishing.html",
    examples: {
      positives: (gen) =>
        place(
          () => `cio${gen.alnum(32)}`,
          [(s) => `[registry]\ntoken = "${s}"\n`, (s) => `CARGO_REGISTRY_TOKEN=${s}`],
        ),
      negatives: [
        "CARGO_REGISTRY_TOKEN=cio<token>",
        "CARGO_REGISTRY_TOKEN=cioxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "clojars-deploy-token",
    provider: "Clojars",
    description: "Clojars deploy token (CLOJARS_ + 60 alphanumerics).",
    keywords: ["clojars_"],
    pattern: /\b(CLOJARS_[a-z0-9]{60})\b/i,
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation:
      "Disable the token at clojars.org > Deploy Tokens, check the artifacts it could deploy, then create a new token scoped to one group or artifact and store it in a vault.",
    docs: "https://github.com/clojars/clojars-web/wiki/Deploy-Tokens",
    examples: {
      positives: (gen) =>
        place(
          () => `CLOJARS_${gen.lowerAlnum(60)}`,
          [
            (s) => `CLOJARS_PASSWORD=${s}`,
            (s) => `{:repository-auth {#"clojars" {:username "acme" :password "${s}"}}}`,
          ],
        ),
      negatives: ["CLOJARS_PASSWORD=CLOJARS_<token>", "CLOJARS_USERNAME=acme"],
    },
  },
  {
    id: "cloudsmith-api-key",
    provider: "Cloudsmith",
    description: "Cloudsmith API key (40 hex) assigned to a cloudsmith key name.",
    keywords: ["cloudsmith"],
    pattern: assigned({ context: "cloudsmith", name: "key|token", value: "[a-f0-9]{40}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Refresh the API key in Cloudsmith under User settings > API Settings (or the service account's page), check the repositories it could push to, and store the new key in a vault.",
    docs: "https://help.cloudsmith.io/docs/api-key",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(40),
          [(s) => `CLOUDSMITH_API_KEY=${s}`, (s) => `cloudsmith push raw acme/tools app.tgz --api-key ${s}`],
        ),
      negatives: ["CLOUDSMITH_API_KEY=<api-key>", "CLOUDSMITH_API_KEY=${{ secrets.CLOUDSMITH_API_KEY }}"],
    },
  },
];
