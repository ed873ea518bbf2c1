import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compileCatalogue, scanText } from "../../../src/detect/engine.ts";
import { createExampleGen } from "../../../src/detect/example-gen.ts";
import { genericRules } from "../../../src/detect/rules/generic.ts";

/*
 * Tricky lines for the catch-all assignment rules, true and false. These rules run only near
 * their keywords and within their windows, so the cases also pin what the keywords and the
 * windows must cover: a name that ends in `token` followed by a tab, a 60-character prefix, a
 * 200-character value at the end of a long minified line, an .npmrc path of 200 characters.
 * Secrets are built at run time; every value passes the value checks, so only the name and
 * the layout decide.
 */

const catalogue = compileCatalogue(genericRules);
const gen = createExampleGen("generic-rules-test");
const v = `${gen.alnum(12)}7Qz${gen.alnum(12)}`;
const v200 = `${gen.alnum(100)}9Xk${gen.alnum(97)}`;
/** A long minified line with no newline: windows cannot snap to a line boundary. */
const pad = `var a=${"[1,2,3].map(function(x){return x*2});".repeat(20)}`;

function found(text: string): string[] {
  return scanText(text, catalogue).map((m) => `${m.rule.id} ${m.secret}`);
}

const POSITIVES: readonly (readonly [rule: string, text: string, secret?: string])[] = [
  ["generic-secret-assignment", `const apiKey = "${v}";`],
  ["generic-secret-assignment", `  "client_secret": "${v}",`],
  ["generic-secret-assignment", `DB_PASSWORD = '${v}'`],
  ["generic-secret-assignment", `auth_token\t= "${v}"`],
  ["generic-secret-assignment", `settings.auth_token\n  = "${v}"`],
  ["generic-secret-assignment", `oauth2 = "${v}"`],
  ["generic-secret-assignment", `db_pass = "${v}"`],
  ["generic-secret-assignment", `smtp.pass: "${v}"`],
  ["generic-secret-assignment", `passphrase := "${v}"`],
  ["generic-secret-assignment", `var apiToken string = "${v}"`],
  ["generic-secret-assignment", `const API_KEY: &'static str = "${v}";`],
  ["generic-secret-assignment", `\tos.Setenv("WEBHOOK_SECRET", "${v}")`],
  ["generic-secret-assignment", `$config['api_key'] = '${v}';`],
  ["generic-secret-assignment", `SECRET_KEY = b"${v}"`],
  ["generic-secret-assignment", `apiKeyBase64 = "${v}"`],
  ["generic-secret-assignment", `service_key_prod = "${v}"`],
  ["generic-secret-assignment", `token_v2 = "${v}"`],
  ["generic-secret-assignment", `password ??= "${v}"`],
  ["generic-secret-assignment", `Credentials = "${v}"`],
  // A harmless-token name is refused only when `token` ends it.
  ["generic-secret-assignment", `csrf_token_value = "${v}"`],
  // The longest prefix before the credential word: 60 characters.
  ["generic-secret-assignment", `${"x".repeat(60)}token = "${v}"`],
  ["generic-secret-assignment", `${pad}var e={apiKey:"${v}"};${pad}`],
  ["generic-secret-assignment", `${pad} client_secret = "${v200}";${pad}`, v200],
  ["generic-env-assignment", `export DEPLOY_TOKEN=${v}`],
  ["generic-env-assignment", `//registry.npmjs.org/:_authToken=${v}`],
  ["generic-env-assignment", `API_TOKEN\t:= ${v}`],
  [
    "generic-env-assignment",
    `services:\n  api:\n    environment:\n      - INTERNAL_AUTH_TOKEN=${v}  # rotated monthly`,
  ],
  ["generic-env-assignment", `set PASSWORD=${v}\r\nPORT=3000\r\n`],
  [
    "generic-env-assignment",
    `${"a=1\r".repeat(80)}//${"h".repeat(120)}:${"p".repeat(79)}:_authToken=${v}\rb=2`,
  ],
  [
    "generic-env-assignment",
    `${"a=1\u2028".repeat(80)}API_TOKEN=${v200}  # ${"c".repeat(198)}\u2028b=2`,
    v200,
  ],
  ["generic-xml-secret-element", `<password>${v}</password>`],
  ["generic-xml-secret-element", `<cfg:ApiKey type="string">${v}</cfg:ApiKey>`],
  ["generic-xml-secret-attribute", `<add key="PaymentApiKey" value="${v}" />`],
  ["generic-xml-secret-attribute", `<entry key="smtp.password">${v}</entry>`],
  ["generic-cli-secret-flag", `kubectl create secret docker-registry r --docker-password=${v}`],
  ["generic-cli-secret-flag", `kubectl create secret generic app --from-literal=db_password=${v}`],
  ["generic-cli-secret-flag", `mycli login --api-key ${v} --region eu`],
  ["generic-cli-secret-flag", `tool configure --cloud-access-key-secret ${v}`],
];

const NEGATIVES: readonly string[] = [
  `csrf_token = "${v}"`,
  `_token = "${v}"`,
  `nextPageToken = "${v}"`,
  `public_key = "${v}"`,
  `publishableKey: "${v}"`,
  `example_api_key = "${v}"`,
  `mockSecret = "${v}"`,
  `tokenizer = "${v}"`,
  `token_type = "${v}"`,
  `keyboard = "${v}"`,
  `key = "${v}"`,
  `primaryKey = "${v}"`,
  `cacheKey: "${v}"`,
  `author = "${v}"`,
  `authority: "${v}"`,
  `bypass = "${v}"`,
  `dbPass = "${v}"`,
  `secret_name: "${v}"`,
  `${"x".repeat(61)}token = "${v}"`,
  `args = ["api_key", "${v}"]`,
  `apiKey = process.env.API_KEY`,
  `password: "********"\ntoken = "{{ secret }}"`,
  `export PUBLIC_TOKEN=${v}\nSECRET_NAME=${v}`,
  `<publicKey>${v}</publicKey>`,
  `<add key="TokenType" value="${v}" />`,
  `mycli --token-file ${v}`,
];

describe("generic assignment rules", () => {
  for (const [rule, text, secret = v] of POSITIVES) {
    test(`${rule} finds ${JSON.stringify(text.length > 70 ? `${text.slice(0, 70)}...` : text)}`, () => {
      assert.deepEqual(found(text), [`${rule} ${secret}`]);
    });
  }

  for (const text of NEGATIVES) {
    test(`nothing in ${JSON.stringify(text.length > 70 ? `${text.slice(0, 70)}...` : text)}`, () => {
      assert.deepEqual(found(text), []);
    });
  }

  test("every credential word is found whatever follows it (keywords cover the grammar)", () => {
    const words = [
      ...["api_key", "apiKey", "api.key", "API-KEY", "subscriptionKey", "secret_key", "authkey", "cookieKey"],
      ...[
        "token",
        "secret",
        "password",
        "passwd",
        "passphrase",
        "pwd",
        "credential",
        "credentials",
        "auth",
        "db_pass",
      ],
    ];
    const suffixes = ["", "_base64", "Value", "-prod", "2", "_v1"];
    const follows = [" ", "\t", "\n", "\u00a0", "'", '"', "]", ""];
    for (const w of words) {
      for (const s of suffixes) {
        for (const f of follows) {
          const text = `${pad}\n  my_${w}${s}${f} = "${v}"\n${pad}`;
          assert.deepEqual(
            found(text),
            [`generic-secret-assignment ${v}`],
            JSON.stringify(`my_${w}${s}${f}`),
          );
        }
      }
    }
  });
});
