import type { Rule } from "../rule.ts";
import { assigned, near, place, prefixedRule, START, type TokenFamily, UUID } from "./shared.ts";

/* CI/CD, code quality, testing and developer tooling. */

const CIRCLECI_DOCS = "https://circleci.com/docs/managing-api-tokens/";
const CIRCLECI: TokenFamily = {
  provider: "CircleCI",
  body: "[A-Za-z0-9]{22}_[a-f0-9]{40}",
  end: String.raw`\b`,
  example: (gen) => `${gen.alnum(22)}_${gen.hex(40)}`,
  entropy: 3.5,
  severity: "high",
  docs: CIRCLECI_DOCS,
};
const SONAR_DOCS = "https://docs.sonarsource.com/sonarqube-server/latest/user-guide/managing-tokens/";
const LAUNCHDARKLY_CONTEXT = `${START}(?:launchdarkly|ld[_.-])`;

/**
 * Rules for CI/CD, code quality and testing tools.
 *
 * @example
 *   devtoolsCiRules.find((r) => r.id === "circleci-personal-token")
 */
export const devtoolsCiRules: readonly Rule[] = [
  prefixedRule(CIRCLECI, {
    id: "circleci-personal-token",
    prefix: "CCIPAT_",
    description: "CircleCI personal API token (CCIPAT_).",
    remediation:
      "Delete the token at CircleCI User Settings > Personal API Tokens, then create a new one and store it in a vault.",
    lines: [
      (s) => `export CIRCLECI_TOKEN=${s}`,
      (s) => `curl -H "Circle-Token: ${s}" https://circleci.com/api/v2/me`,
    ],
    negatives: ["CIRCLECI_TOKEN=CCIPAT_<token>", "tokens now start with CCIPAT_"],
  }),
  prefixedRule(CIRCLECI, {
    id: "circleci-project-token",
    prefix: "CCIPRJ_",
    description: "CircleCI project API token (CCIPRJ_).",
    remediation:
      "Delete the token under the project's Project Settings > API Permissions in CircleCI, then create a new one and store it in a vault.",
    lines: [(s) => `CIRCLE_PROJECT_TOKEN=${s}`, (s) => `  circle_token: "${s}"`],
    negatives: ["CIRCLE_PROJECT_TOKEN=CCIPRJ_<token>", "project tokens start with CCIPRJ_"],
  }),
  {
    id: "circleci-legacy-token",
    provider: "CircleCI",
    description: "CircleCI legacy API token (40 hex) assigned to a circle/circleci key name.",
    keywords: ["circle"],
    pattern: assigned({
      context: "circleci|circle",
      name: "token",
      value: "[a-f0-9]{40}",
      style: "argument",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the token at CircleCI User Settings > Personal API Tokens (or the project's API Permissions page), then create a new one and store it in a vault.",
    docs: CIRCLECI_DOCS,
    examples: {
      positives: (gen) =>
        place(() => gen.hex(40), [(s) => `CIRCLE_TOKEN=${s}`, (s) => `circleci_token: '${s}'`]),
      negatives: ["CIRCLE_TOKEN=${CIRCLE_TOKEN}", "circleci_token: <token>"],
    },
  },
  {
    id: "travis-ci-access-token",
    provider: "Travis CI",
    description: "Travis CI API access token (22 characters) assigned to a travis key name.",
    keywords: ["travis"],
    pattern: assigned({ context: "travis", name: "token|key", value: String.raw`[\w-]{22}`, style: "line" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the token at app.travis-ci.com > Settings (or `travis token --regenerate`), which invalidates the old one, then store the new token in a vault.",
    docs: "https://developer.travis-ci.com/authentication",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(22),
          [
            (s) => `TRAVIS_API_TOKEN=${s}`,
            (s) =>
              `curl -H "Travis-API-Version: 3" -H "Authorization: token ${s}" https://api.travis-ci.com/user`,
          ],
        ),
      negatives: ["TRAVIS_API_TOKEN=<token>", "travis token: run `travis token` to see it"],
    },
  },
  {
    id: "buildkite-api-token",
    provider: "Buildkite",
    description: "Buildkite user API access token (bkua_).",
    keywords: ["bkua_"],
    pattern: /\b(bkua_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token at Buildkite Personal Settings > API Access Tokens (org admins can revoke members' tokens), then create a new one with the least scope and store it in a vault.",
    docs: "https://buildkite.com/docs/apis/managing-api-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => `bkua_${gen.hex(40)}`,
          [
            (s) => `BUILDKITE_API_TOKEN=${s}`,
            (s) => `curl -H "Authorization: Bearer ${s}" https://api.buildkite.com/v2/user`,
          ],
        ),
      negatives: ["BUILDKITE_API_TOKEN=bkua_<token>", "bkua_0000000000000000000000000000000000000000"],
    },
  },
  {
    id: "sonarqube-user-token",
    provider: "SonarQube",
    description: "SonarQube / SonarQube Cloud user token (squ_).",
    keywords: ["squ_"],
    pattern: /\b(squ_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token under My Account > Security in SonarQube (or api/user_tokens/revoke), then generate a new one and store it in a vault.",
    docs: SONAR_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `squ_${gen.hex(40)}`,
          [(s) => `SONAR_TOKEN=${s}`, (s) => `mvn sonar:sonar -Dsonar.token=${s}`],
        ),
      negatives: ["SONAR_TOKEN=squ_<token>", "SONAR_TOKEN=${{ secrets.SONAR_TOKEN }}"],
    },
  },
  {
    id: "sonarqube-analysis-token",
    provider: "SonarQube",
    description: "SonarQube project or global analysis token (sqp_, sqa_).",
    keywords: ["sqp_", "sqa_"],
    pattern: /\b(sq[pa]_[a-f0-9]{40})\b/,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token under My Account > Security (or Administration > Security for global tokens) in SonarQube, then generate a new one and store it in a vault.",
    docs: SONAR_DOCS,
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["sqp_", "sqa_"])}${gen.hex(40)}`,
          [(s) => `sonar-scanner -Dsonar.projectKey=web -Dsonar.login=${s}`, (s) => `sonar.token=${s}`],
        ),
      negatives: ["sonar.token=sqp_<token>", "global analysis tokens start with sqa_"],
    },
  },
  {
    id: "sonarqube-legacy-token",
    provider: "SonarQube",
    description: "SonarQube legacy token (40 hex) assigned to a sonar token or login key.",
    keywords: ["sonar"],
    pattern: assigned({ context: "sonar", name: "token|login", value: "[a-f0-9]{40}", style: "argument" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token under My Account > Security in SonarQube, then generate a new one and store it in a vault.",
    docs: SONAR_DOCS,
    examples: {
      positives: (gen) => place(() => gen.hex(40), [(s) => `SONAR_TOKEN=${s}`, (s) => `sonar.login=${s}`]),
      negatives: ["sonar.login=admin", "SONAR_TOKEN=<token>"],
    },
  },
  {
    id: "snyk-api-token",
    provider: "Snyk",
    description: "Snyk API token (UUID) assigned to a snyk key name or passed to `snyk auth`.",
    keywords: ["snyk"],
    pattern: assigned({ context: "snyk", name: "token|key|auth", value: UUID, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke and regenerate the token at Snyk Account settings > Auth Token (service account tokens under the org's Settings > Service accounts), then store it in a vault.",
    docs: "https://docs.snyk.io/snyk-api/authentication-for-api",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [(s) => `SNYK_TOKEN=${s}`, (s) => `snyk auth ${s}`, (s) => `  snyk_token: "${s}"`],
        ),
      negatives: ["SNYK_TOKEN=${{ secrets.SNYK_TOKEN }}", "snyk auth <token>"],
    },
  },
  {
    id: "codecov-upload-token",
    provider: "Codecov",
    description: "Codecov upload or API token (UUID) assigned to a codecov key name.",
    keywords: ["codecov"],
    pattern: assigned({ context: "codecov", name: "token|-t", value: UUID, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Regenerate the repository upload token in Codecov under the repo's Configuration > General (or the global token in org settings), then store it as a CI secret.",
    docs: "https://docs.codecov.com/docs/codecov-tokens",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [
            (s) => `CODECOV_TOKEN=${s}`,
            (s) => `codecov -t ${s}`,
            (s) => `./codecov upload-process --token ${s} -f coverage.xml`,
          ],
        ),
      negatives: ["CODECOV_TOKEN=${{ secrets.CODECOV_TOKEN }}", "codecov token: see repo settings"],
    },
  },
  {
    id: "bitrise-access-token",
    provider: "Bitrise",
    description: "Bitrise personal or workspace access token assigned to a bitrise key name.",
    keywords: ["bitrise"],
    pattern: assigned({
      context: "bitrise",
      name: "token|pat",
      value: String.raw`[\w-]{60,100}`,
      style: "line",
    }),
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Delete the token at Bitrise Account settings > Security > Personal access tokens (or the workspace's API tokens page), then create a new one with an expiry and store it in a vault.",
    docs: "https://devcenter.bitrise.io/en/accounts/personal-access-tokens.html",
    examples: {
      positives: (gen) =>
        place(() => gen.base64url(86), [(s) => `BITRISE_TOKEN=${s}`, (s) => `  bitrise_pat: "${s}"`]),
      negatives: ["BITRISE_TOKEN=<personal-access-token>", "bitrise token: create one in account settings"],
    },
  },
  {
    id: "harness-api-key",
    provider: "Harness",
    description: "Harness personal access token or service account token (pat. / sat.).",
    keywords: ["pat.", "sat."],
    pattern: /\b((?:pat|sat)\.[\w-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20})\b/,
    secretGroup: 1,
    entropy: 4,
    severity: "high",
    remediation:
      "Delete the token under My Profile > My API Keys (or the service account's API keys) in Harness, then create a new one with an expiry and store it in a vault.",
    docs: "https://developer.harness.io/docs/platform/automation/api/add-and-manage-api-keys/",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["pat", "sat"])}.${gen.alnum(22)}.${gen.hex(24)}.${gen.alnum(20)}`,
          [
            (s) => `HARNESS_API_KEY=${s}`,
            (s) => `curl -H "x-api-key: ${s}" https://app.harness.io/ng/api/user/currentUser`,
          ],
        ),
      negatives: [
        "HARNESS_API_KEY=pat.<account>.<id>.<secret>",
        "x-api-key: pat.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "octopus-deploy-api-key",
    provider: "Octopus Deploy",
    description: "Octopus Deploy API key (API- + 26 uppercase alphanumerics).",
    keywords: ["api-"],
    pattern: /\b(API-(?=[A-Z]{0,25}[0-9])[A-Z0-9]{26})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the key under your Octopus profile > My API Keys (or the service account's API keys), then create a new key with an expiry and store it in a vault.",
    docs: "https://octopus.com/docs/octopus-rest-api/how-to-create-an-api-key",
    examples: {
      positives: (gen) =>
        place(
          () => `API-${gen.upperAlnum(22)}${gen.digits(4)}`,
          [
            (s) => `OCTOPUS_API_KEY=${s}`,
            (s) => `octo push --package app.1.0.0.zip --server https://deploy.acme.io --apiKey ${s}`,
          ],
        ),
      negatives: ["OCTOPUS_API_KEY=API-XXXXXXXXXXXXXXXXXXXXXXXXXX", "API-GATEWAY-CONFIGURATION-REFERENCE"],
    },
  },
  {
    id: "coveralls-repo-token",
    provider: "Coveralls",
    description: "Coveralls repository token assigned to a coveralls key name.",
    keywords: ["coveralls"],
    pattern: assigned({ context: "coveralls", name: "token", value: "[A-Za-z0-9]{32,37}", style: "line" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Regenerate the repo token on the repository's Settings page in Coveralls, then store the new one as a CI secret.",
    docs: "https://docs.coveralls.io/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(gen.int(32, 37)),
          [(s) => `COVERALLS_REPO_TOKEN=${s}`, (s) => `coveralls --repo-token ${s} --service github`],
        ),
      negatives: ["COVERALLS_REPO_TOKEN=${{ secrets.GITHUB_TOKEN }}", "coveralls token: <repo-token>"],
    },
  },
  {
    id: "jenkins-api-token",
    provider: "Jenkins",
    description: "Jenkins user API token (11 + 32 hex) assigned to a jenkins key name.",
    keywords: ["jenkins"],
    pattern: assigned({
      context: "jenkins",
      name: "token|key|password|pass",
      value: "11[a-f0-9]{32}",
      style: "line",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the token on the Jenkins user's Security page (People > user > Security > API Token), then generate a new one and store it in a vault.",
    docs: "https://www.jenkins.io/doc/book/system-administration/authenticating-scripted-clients/",
    examples: {
      positives: (gen) =>
        place(
          () => `11${gen.hex(32)}`,
          [
            (s) => `JENKINS_API_TOKEN=${s}`,
            (s) => `server = Jenkins(url, username="deploy", password="${s}")`,
          ],
        ),
      negatives: ["JENKINS_API_TOKEN=<token>", "jenkins token 11 characters long"],
    },
  },
  {
    id: "prefect-api-key",
    provider: "Prefect",
    description: "Prefect Cloud user or service account API key (pnu_, pnb_).",
    keywords: ["pnu_", "pnb_"],
    pattern: /\b(pn[ub]_[A-Za-z0-9]{36})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key under Prefect Cloud > Profile > API keys (or the service account's keys), then create a new key with an expiry and store it in a vault.",
    docs: "https://docs.prefect.io/v3/manage/cloud/manage-users/api-keys",
    examples: {
      positives: (gen) =>
        place(
          () => `${gen.pick(["pnu_", "pnb_"])}${gen.alnum(36)}`,
          [(s) => `PREFECT_API_KEY=${s}`, (s) => `prefect cloud login --key ${s} --workspace acme/prod`],
        ),
      negatives: ["PREFECT_API_KEY=pnu_<key>", "PREFECT_API_KEY=pnu_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "launchdarkly-api-token",
    provider: "LaunchDarkly",
    description: "LaunchDarkly API access token (api- + UUID) on a line that mentions LaunchDarkly.",
    keywords: ["launchdarkly", "ld_", "ld-", "ld."],
    pattern: near({ context: LAUNCHDARKLY_CONTEXT, value: `api-${UUID}`, sameLine: true }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete or reset the token under LaunchDarkly Organization settings > Authorization > Access tokens, then create a new one with a least-privilege role and store it in a vault.",
    docs: "https://docs.launchdarkly.com/home/account/api",
    examples: {
      positives: (gen) =>
        place(
          () => `api-${gen.uuid()}`,
          [(s) => `LAUNCHDARKLY_ACCESS_TOKEN=${s}`, (s) => `LD_API_KEY="${s}"`],
        ),
      negatives: [
        "LAUNCHDARKLY_ACCESS_TOKEN=api-<token>",
        "LD_API_KEY=api-00000000-0000-0000-0000-000000000000",
      ],
    },
  },
  {
    id: "launchdarkly-sdk-key",
    provider: "LaunchDarkly",
    description: "LaunchDarkly server-side SDK key (sdk- + UUID) on a line that mentions LaunchDarkly.",
    keywords: ["launchdarkly", "ld_", "ld-", "ld."],
    pattern: near({ context: LAUNCHDARKLY_CONTEXT, value: `sdk-${UUID}`, sameLine: true }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Reset the SDK key for the environment under LaunchDarkly Project settings > Environments (optionally keeping the old key valid for a grace period), then store the new key in a vault.",
    docs: "https://docs.launchdarkly.com/sdk/concepts/client-side-server-side#keys",
    examples: {
      positives: (gen) =>
        place(
          () => `sdk-${gen.uuid()}`,
          [
            (s) => `LAUNCHDARKLY_SDK_KEY=${s}`,
            (s) => `client = ldclient.get()  # launchdarkly sdk key "${s}"`,
            (s) => `const ld = LaunchDarkly.init("${s}");`,
          ],
        ),
      negatives: ["LAUNCHDARKLY_SDK_KEY=sdk-<key>", "LD_SDK_KEY=${LD_SDK_KEY}"],
    },
  },
  {
    id: "cypress-record-key",
    provider: "Cypress",
    description:
      "Cypress Cloud record key (UUID) assigned to a cypress key name or passed to `cypress run --key`.",
    keywords: ["cypress"],
    pattern: assigned({ context: "cypress", name: "key", value: UUID, style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Delete the record key in Cypress Cloud under Project settings > Record keys, then create a new one and store it as a CI secret.",
    docs: "https://docs.cypress.io/cloud/account-management/projects",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [(s) => `CYPRESS_RECORD_KEY=${s}`, (s) => `npx cypress run --record --key ${s}`],
        ),
      negatives: [
        "CYPRESS_RECORD_KEY=${{ secrets.CYPRESS_RECORD_KEY }}",
        "npx cypress run --record --key <record-key>",
      ],
    },
  },
  {
    id: "postman-api-key",
    provider: "Postman",
    description: "Postman API key (PMAK-).",
    keywords: ["pmak-"],
    pattern: /\b(PMAK-[a-f0-9]{24}-[a-f0-9]{34})\b/i,
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete or regenerate the key in Postman under Settings > API keys (team admins can revoke members' keys), then create a new one with an expiry and store it in a vault.",
    docs: "https://learning.postman.com/docs/developer/postman-api/authentication/",
    examples: {
      positives: (gen) =>
        place(
          () => `PMAK-${gen.hex(24)}-${gen.hex(34)}`,
          [(s) => `POSTMAN_API_KEY=${s}`, (s) => `curl -H "X-Api-Key: ${s}" https://api.getpostman.com/me`],
        ),
      negatives: ["POSTMAN_API_KEY=PMAK-<key>", "X-Api-Key: {{postman_api_key}}"],
    },
  },
  {
    id: "readme-api-key",
    provider: "ReadMe",
    description: "ReadMe API key (rdme_ + 70 lowercase alphanumerics).",
    keywords: ["rdme_"],
    pattern: /\b(rdme_[a-z0-9]{70})\b/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "medium",
    remediation:
      "Delete the key in the ReadMe dashboard under Configuration > API Keys, then create a new one and store it in a vault.",
    docs: "https://docs.readme.com/main/reference/intro/authentication",
    examples: {
      positives: (gen) =>
        place(
          () => `rdme_${gen.lowerAlnum(70)}`,
          [(s) => `README_API_KEY=${s}`, (s) => `npx rdme openapi upload spec.yaml --key=${s}`],
        ),
      negatives: ["README_API_KEY=rdme_<key>", "README_API_KEY=rdme_xxxxxxxx"],
    },
  },
  {
    id: "saucelabs-access-key",
    provider: "Sauce Labs",
    description: "Sauce Labs access key (UUID) assigned to a sauce key name.",
    keywords: ["sauce"],
    pattern: assigned({ context: "sauce", name: "key", value: UUID, style: "argument" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Regenerate the access key under Sauce Labs Account > User settings > Access Key, which invalidates the old one, then store the new key in a vault.",
    docs: "https://docs.saucelabs.com/basics/acct-team-mgmt/managing-user-info/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.uuid(),
          [(s) => `SAUCE_ACCESS_KEY=${s}`, (s) => `  "sauce:options": {}, "sauceAccessKey": "${s}"`],
        ),
      negatives: ["SAUCE_ACCESS_KEY=<access-key>", "SAUCE_USERNAME=acme-ci"],
    },
  },
  {
    id: "browserstack-access-key",
    provider: "BrowserStack",
    description: "BrowserStack access key (20 alphanumerics) assigned to a browserstack key name.",
    keywords: ["browserstack"],
    pattern: assigned({ context: "browserstack", name: "key", value: "[A-Za-z0-9]{20}", style: "line" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Regenerate the access key in BrowserStack under Account > Settings > Access key, then update CI and store the new key in a vault.",
    docs: "https://www.browserstack.com/docs/automate/selenium/manage-access-keys",
    examples: {
      positives: (gen) =>
        place(
          () => gen.alnum(20),
          [(s) => `BROWSERSTACK_ACCESS_KEY=${s}`, (s) => `  browserstack.accessKey: '${s}'`],
        ),
      negatives: ["BROWSERSTACK_ACCESS_KEY=<access-key>", "BROWSERSTACK_USERNAME=acme_ci"],
    },
  },
  {
    id: "drone-ci-access-token",
    provider: "Drone",
    description: "Drone CI personal token (32 alphanumerics) assigned to a drone token name.",
    keywords: ["drone"],
    pattern: assigned({ context: "drone", name: "token", value: "[A-Za-z0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Rotate the token from the Drone user's account page (or `drone user update --token` as an admin for machine users), then store the new token in a vault.",
    docs: "https://docs.drone.io/cli/setup/",
    examples: {
      positives: (gen) =>
        place(() => gen.alnum(32), [(s) => `export DRONE_TOKEN=${s}`, (s) => `  drone_token: "${s}"`]),
      negatives: ["DRONE_TOKEN=<token>", "DRONE_SERVER=https://drone.acme.io"],
    },
  },
  {
    id: "fossa-api-key",
    provider: "FOSSA",
    description: "FOSSA API key (32 hex) assigned to a fossa key name.",
    keywords: ["fossa"],
    pattern: assigned({ context: "fossa", name: "key|token", value: "[a-f0-9]{32}", style: "line" }),
    secretGroup: 1,
    entropy: 3,
    severity: "medium",
    remediation:
      "Delete the token in FOSSA under Account Settings > Integrations > API, then create a push-only token for CI and store it in a vault.",
    docs: "https://docs.fossa.com/docs/api-reference",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [(s) => `FOSSA_API_KEY=${s}`, (s) => `fossa analyze --fossa-api-key ${s}`]),
      negatives: ["FOSSA_API_KEY=<api-key>", "FOSSA_API_KEY=${{ secrets.FOSSA_API_KEY }}"],
    },
  },
];
