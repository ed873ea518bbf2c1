/**
 * Context templates for the classifier's synthetic examples (scripts/ml-data.ts): the places
 * a key really turns up (code in several languages, config formats, chat exports, tickets,
 * logs, notebooks, docs), each with a path and a wrapper around a snippet of one or more
 * lines. Wrappers escape the snippet as their format requires (JSON strings), so a multi-line
 * key inside a notebook or a chat export looks as it would on disk.
 */
import type { ExampleGen } from "../src/detect/rule.ts";

/** A file the snippet is placed in. `wrap` returns the text before and after the snippet and how it is encoded. */
export interface Placement {
  readonly kind: string;
  readonly path: string;
  readonly before: string;
  readonly after: string;
  readonly encode: (snippet: string) => string;
}

const asIs = (s: string): string => s;
const jsonInner = (s: string): string => JSON.stringify(s).slice(1, -1);

const APPS = ["billing", "payments", "orders", "auth", "search", "notifier", "ingest", "reports", "gateway"];
const DIRS = ["src", "app", "lib", "services", "internal", "pkg", "server", "backend"];
const USERS = ["alice", "bob", "priya", "chen", "maria", "ops-bot", "dmitri", "fatima"];
const CHAT_LEADS = [
  "here is the key you asked for:",
  "try this one",
  "prod creds below, delete after use",
  "can you check why this fails?",
  "new token for the integration",
  "pasting the config:",
  "this worked for me locally",
];
const TICKET_LEADS = [
  "Steps to reproduce",
  "The deploy fails with the following configuration",
  "Customer sent their settings",
  "Logs from the failing job",
  "Config used in staging",
];
const LOG_PREFIXES = [
  "INFO  [http] outgoing request headers:",
  "DEBUG config loaded:",
  "WARN  retrying with credentials",
  "ERROR upstream rejected request;",
  'level=debug msg="env"',
];

/** A documentation block of placeholders, the kind that sits near a real key in a runbook. */
const PLACEHOLDER_BLOCK = (): string =>
  [
    "Example configuration (placeholders only):",
    "",
    "```",
    "AWS_ACCESS_KEY_ID=<your-access-key-id>",
    "STRIPE_SECRET_KEY=sk_" + "live_" + "x".repeat(24),
    "API_TOKEN=your_api_token_here",
    "password: changeme",
    "```",
    "",
    "",
  ].join("\n");

/** Realistic filler lines for the code and config templates. */
const FILLER = {
  py: [
    "import os",
    "import logging",
    "import requests",
    "",
    "logger = logging.getLogger(__name__)",
    "TIMEOUT = 30",
  ],
  js: [
    'import axios from "axios";',
    'import { readFileSync } from "node:fs";',
    "",
    "const TIMEOUT_MS = 30_000;",
    'export const region = "eu-west-1";',
  ],
  go: [
    "package config",
    "",
    "import (",
    '\t"net/http"',
    '\t"time"',
    ")",
    "",
    "var timeout = 30 * time.Second",
  ],
  java: [
    "package com.acme.config;",
    "",
    "import java.util.Map;",
    "",
    "public final class Settings {",
    "  static final int TIMEOUT = 30;",
  ],
  rb: ["require 'net/http'", "", "module Settings", "  TIMEOUT = 30"],
  php: ["<?php", "", "return ["],
  cs: ["using System;", "", "namespace Acme.Config", "{", "    public static class Settings", "    {"],
  env: [
    "APP_ENV=production",
    "LOG_LEVEL=info",
    "PORT=8080",
    "REDIS_URL=redis://localhost:6379/0",
    "FEATURE_FLAGS=search,export",
  ],
  yaml: [
    "apiVersion: v1",
    "kind: ConfigMap",
    "metadata:",
    "  name: app-config",
    "data:",
    "  LOG_LEVEL: info",
  ],
  toml: ["[server]", "port = 8080", 'host = "0.0.0.0"', "", "[integrations]"],
  sh: ["#!/usr/bin/env bash", "set -euo pipefail", "", 'cd "$(dirname "$0")/.."'],
  docker: ["FROM node:24-slim", "WORKDIR /app", "COPY package*.json ./", "RUN npm ci --omit=dev"],
  md: ["# Setup", "", "Install the dependencies and configure the service.", ""],
};

function lines(gen: ExampleGen, pool: readonly string[], min: number, max: number): string {
  const n = gen.int(min, max);
  return pool.slice(0, Math.min(pool.length, n)).join("\n");
}

/**
 * A random placement for a positive (or hard-negative) snippet. `test` asks for a test or
 * fixture file (path and surrounding code), the way keys sit in test suites.
 *
 * @example
 *   const p = placement(gen, false); const text = p.before + p.encode(snippet) + p.after;
 */
export function placement(gen: ExampleGen, test: boolean): Placement {
  const app = gen.pick(APPS);
  const dir = gen.pick(DIRS);
  if (test) return testPlacement(gen, app);
  const kind = gen.pick([
    "py",
    "js",
    "ts",
    "go",
    "java",
    "rb",
    "php",
    "cs",
    "env",
    "yaml",
    "k8s",
    "json",
    "toml",
    "sh",
    "docker",
    "chat-json",
    "chat-text",
    "ticket",
    "log",
    "notebook",
    "docs",
    "docs-prose",
    "ci",
  ]);
  const nl = "\n";
  switch (kind) {
    case "py":
      return {
        kind,
        path: `${dir}/${app}/settings.py`,
        before: lines(gen, FILLER.py, 2, 6) + nl + nl,
        after: nl + nl + "def client():\n    return None\n",
        encode: asIs,
      };
    case "js":
      return {
        kind,
        path: `${dir}/${app}/config.js`,
        before: lines(gen, FILLER.js, 1, 5) + nl,
        after: nl + "\nexport default { TIMEOUT_MS };\n",
        encode: asIs,
      };
    case "ts":
      return {
        kind,
        path: `${dir}/${app}/${gen.pick(["client", "env", "constants"])}.ts`,
        before: lines(gen, FILLER.js, 0, 4) + nl,
        after: nl,
        encode: asIs,
      };
    case "go":
      return {
        kind,
        path: `${dir}/${app}/config.go`,
        before: lines(gen, FILLER.go, 1, 8) + nl + nl,
        after: nl,
        encode: asIs,
      };
    case "java":
      return {
        kind,
        path: `src/main/java/com/acme/${app}/Settings.java`,
        before: lines(gen, FILLER.java, 4, 6) + nl,
        after: "\n}\n",
        encode: asIs,
      };
    case "rb":
      return {
        kind,
        path: `config/initializers/${app}.rb`,
        before: lines(gen, FILLER.rb, 2, 4) + nl,
        after: "\nend\n",
        encode: asIs,
      };
    case "php":
      return {
        kind,
        path: `config/${app}.php`,
        before: lines(gen, FILLER.php, 3, 3) + nl,
        after: "\n];\n",
        encode: asIs,
      };
    case "cs":
      return {
        kind,
        path: `src/Acme.${app}/Settings.cs`,
        before: lines(gen, FILLER.cs, 6, 6) + nl,
        after: "\n    }\n}\n",
        encode: asIs,
      };
    case "env":
      return {
        kind,
        path: gen.pick([".env", ".env.production", `deploy/${app}.env`, "config/.env.local"]),
        before: lines(gen, FILLER.env, 0, 5) + nl,
        after: nl + "SENTRY_ENVIRONMENT=prod\n",
        encode: asIs,
      };
    case "yaml":
    case "k8s":
      return {
        kind,
        path: gen.pick([
          `deploy/${app}/values.yaml`,
          "docker-compose.yml",
          `k8s/${app}-secret.yaml`,
          "config/application.yml",
        ]),
        before: lines(gen, FILLER.yaml, 2, 6) + nl,
        after: nl,
        encode: asIs,
      };
    case "json":
      return {
        kind,
        path: gen.pick(["appsettings.json", `config/${app}.json`, ".vscode/settings.json"]),
        before: '{\n  "name": "' + app + '",\n  "settings": ',
        after: "\n}\n",
        encode: asIs,
      };
    case "toml":
      return {
        kind,
        path: gen.pick(["config.toml", `${app}.ini`, "settings.cfg"]),
        before: lines(gen, FILLER.toml, 1, 5) + nl,
        after: nl,
        encode: asIs,
      };
    case "sh":
      return {
        kind,
        path: gen.pick(["scripts/deploy.sh", "bin/release", `tools/${app}-sync.sh`]),
        before: lines(gen, FILLER.sh, 1, 4) + nl,
        after: '\n./run.sh "$@"\n',
        encode: asIs,
      };
    case "docker":
      return {
        kind,
        path: gen.pick(["Dockerfile", `docker/${app}.Dockerfile`]),
        before: lines(gen, FILLER.docker, 1, 4) + nl,
        after: '\nCMD ["node", "dist/server.js"]\n',
        encode: asIs,
      };
    case "ci":
      return {
        kind,
        path: gen.pick([".github/workflows/deploy.yml", ".gitlab-ci.yml", ".circleci/config.yml"]),
        before: "jobs:\n  deploy:\n    runs-on: ubuntu-latest\n    env:\n",
        after: "\n    steps:\n      - run: make deploy\n",
        encode: asIs,
      };
    case "chat-json":
      return {
        kind,
        path: `exports/slack/${app}/2024-0${gen.int(1, 9)}-1${gen.int(0, 9)}.json`,
        before: `[\n  {"type": "message", "user": "U0${gen.upperAlnum(8)}", "text": "${gen.pick(CHAT_LEADS)}", "ts": "17${gen.digits(8)}.000100"},\n  {"type": "message", "user": "U0${gen.upperAlnum(8)}", "text": "`,
        after: `", "ts": "17${gen.digits(8)}.000200"}\n]\n`,
        encode: jsonInner,
      };
    case "chat-text":
      return {
        kind,
        path: gen.pick([`chat/${app}.txt`, "teams-export.txt", `discord/${app}.log`]),
        before: `[10:${gen.int(10, 59)}] ${gen.pick(USERS)}: ${gen.pick(CHAT_LEADS)}\n[10:${gen.int(10, 59)}] ${gen.pick(USERS)}: `,
        after: `\n[10:${gen.int(10, 59)}] ${gen.pick(USERS)}: thanks!\n`,
        encode: asIs,
      };
    case "ticket":
      return {
        kind,
        path: `tickets/${gen.pick(["OPS", "SUP", "PAY", "INC"])}-${gen.int(100, 9999)}.md`,
        before: `## ${gen.pick(TICKET_LEADS)}\n\nReported by ${gen.pick(USERS)}.\n\n`,
        after: "\n\nPriority: high\n",
        encode: asIs,
      };
    case "log":
      return {
        kind,
        path: gen.pick([`logs/${app}.log`, "var/log/app.log", `build/${app}-ci.out`]),
        before: `2024-0${gen.int(1, 9)}-1${gen.int(0, 9)}T10:${gen.int(10, 59)}:0${gen.int(0, 9)}Z ${gen.pick(LOG_PREFIXES)} `,
        after: `\n2024-05-1${gen.int(0, 9)}T10:22:01Z INFO  done in ${gen.int(5, 900)}ms\n`,
        encode: asIs,
      };
    case "notebook":
      return {
        kind,
        path: `notebooks/${app}-analysis.ipynb`,
        before:
          '{\n "cells": [\n  {\n   "cell_type": "code",\n   "metadata": {},\n   "source": [\n    "import pandas as pd\\n",\n    "',
        after: '"\n   ]\n  }\n ],\n "nbformat": 4\n}\n',
        encode: jsonInner,
      };
    case "docs-prose":
      return {
        kind,
        path: gen.pick([`docs/${app}-runbook.md`, "NOTES.md", `wiki/${app}.md`]),
        before:
          lines(gen, FILLER.md, 2, 4) +
          "\n" +
          (gen.int(0, 1) === 1 ? PLACEHOLDER_BLOCK() : "") +
          gen.pick([
            "Publishing uses ",
            "For now the nightly job reads ",
            "Staging still runs with ",
            "Temporary credential: ",
            "Until it is rotated, use ",
          ]),
        after: gen.pick([
          " until we move it.\n",
          ".\n",
          " (ask ops before changing it).\n",
          "\n\nMore in the wiki.\n",
        ]),
        encode: asIs,
      };
    default:
      return {
        kind: "docs",
        path: gen.pick([`docs/${app}-runbook.md`, "README.md", `docs/setup/${app}.md`]),
        before: lines(gen, FILLER.md, 2, 4) + "\n```sh\n",
        after: "\n```\n",
        encode: asIs,
      };
  }
}

function testPlacement(gen: ExampleGen, app: string): Placement {
  const kind = gen.pick([
    "js-test",
    "py-test",
    "go-test",
    "fixture-json",
    "fixture-env",
    "fixture-yaml",
    "spec-rb",
    "fixture-file",
  ]);
  switch (kind) {
    case "js-test":
      return {
        kind,
        path: gen.pick([
          `test/${app}.test.ts`,
          `src/${app}/__tests__/client.test.js`,
          `tests/unit/${app}.spec.ts`,
        ]),
        before: `import assert from "node:assert";\n\ndescribe("${app} client", () => {\n  it("signs requests", () => {\n`,
        after: "\n    assert.ok(client.sign(req));\n  });\n});\n",
        encode: asIs,
      };
    case "py-test":
      return {
        kind,
        path: gen.pick([`tests/test_${app}.py`, `${app}/tests/test_client.py`]),
        before: "import pytest\nfrom unittest import mock\n\n\ndef test_client_auth():\n",
        after: "\n    assert client.authenticate()\n",
        encode: asIs,
      };
    case "go-test":
      return {
        kind,
        path: `internal/${app}/client_test.go`,
        before: "package " + app + '\n\nimport "testing"\n\nfunc TestClient(t *testing.T) {\n',
        after: "\n\tif err != nil {\n\t\tt.Fatal(err)\n\t}\n}\n",
        encode: asIs,
      };
    case "fixture-json":
      return {
        kind,
        path: gen.pick([
          `test/fixtures/${app}.json`,
          `spec/fixtures/${app}-config.json`,
          `testdata/${app}.json`,
        ]),
        before: '{\n  "fixture": "' + app + '",\n  "config": ',
        after: "\n}\n",
        encode: asIs,
      };
    case "fixture-env":
      return {
        kind,
        path: gen.pick([
          `test/fixtures/${app}.env`,
          "tests/fixtures/.env.test",
          `__tests__/fixtures/${app}.env`,
        ]),
        before: "# fixture used by the integration tests\n",
        after: "\n",
        encode: asIs,
      };
    case "fixture-yaml":
      return {
        kind,
        path: gen.pick([`test/fixtures/${app}.yaml`, `tests/data/${app}.yml`]),
        before: "# test fixture\nmock: true\n",
        after: "\n",
        encode: asIs,
      };
    case "fixture-file":
      return {
        kind,
        path: gen.pick([
          `test/fixtures/${app}.pem`,
          `test/certs/${app}.key`,
          `tests/fixtures/${app}.txt`,
          `testdata/${app}-creds`,
        ]),
        before: "",
        after: "\n",
        encode: asIs,
      };
    default:
      return {
        kind,
        path: `spec/${app}_spec.rb`,
        before: `describe ${app[0]!.toUpperCase() + app.slice(1)} do\n  it "authenticates" do\n`,
        after: "\n    expect(client).to be_authenticated\n  end\nend\n",
        encode: asIs,
      };
  }
}

/** Variable names for an assignment of a provider's key, in a few naming styles. */
export function variableName(gen: ExampleGen, provider: string): string {
  const p = provider.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_|_$/g, "");
  const upper = p.toUpperCase();
  const lower = p.toLowerCase();
  const camel = lower.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
  return gen.pick([
    `${upper}_API_KEY`,
    `${upper}_TOKEN`,
    `${upper}_SECRET`,
    `${lower}_api_key`,
    `${camel}ApiKey`,
    `${camel}Token`,
    "API_KEY",
    "apiKey",
    "auth_token",
    "accessToken",
    "SECRET_KEY",
    "client_secret",
    "credentials",
    "token",
  ]);
}

/** An assignment of `value` to `name` in a placement's language or format. */
export function assignment(gen: ExampleGen, kind: string, name: string, value: string): string {
  const q = gen.pick(['"', "'"]);
  switch (kind) {
    case "py":
      return `${name} = ${q}${value}${q}`;
    case "js":
    case "ts":
    case "js-test":
      return `${gen.pick(["const", "let", "export const"])} ${name} = ${q}${value}${q};`;
    case "go":
    case "go-test":
      return `\t${name} := "${value}"`;
    case "java":
      return `  static final String ${name.toUpperCase()} = "${value}";`;
    case "cs":
      return `        public const string ${name} = "${value}";`;
    case "rb":
    case "spec-rb":
      return `  ${name.toUpperCase()} = ${q}${value}${q}`;
    case "php":
      return `    '${name}' => '${value}',`;
    case "env":
    case "fixture-env":
    case "docker":
      return kind === "docker" ? `ENV ${name.toUpperCase()}=${value}` : `${name.toUpperCase()}=${value}`;
    case "yaml":
    case "k8s":
    case "fixture-yaml":
    case "ci":
      return gen.int(0, 1) === 1 ? `  ${name}: "${value}"` : `  ${name}: ${value}`;
    case "json":
    case "fixture-json":
      return `{ "${name}": "${value}" }`;
    case "toml":
      return `${name} = "${value}"`;
    case "sh":
      return `export ${name.toUpperCase()}="${value}"`;
    case "py-test":
      return `    ${name} = ${q}${value}${q}`;
    default:
      return `${name}=${value}`;
  }
}

/**
 * A generated API reference: the snippet inside a JSDoc example of a type declaration file,
 * the way SDKs document sample requests and responses.
 *
 * @example
 *   const p = apiDocPlacement(gen);
 */
export function apiDocPlacement(gen: ExampleGen): Placement {
  const op = gen.pick(["CreateSecret", "GetCredentials", "DeriveKey", "IssueToken", "RotateKey", "Connect"]);
  return {
    kind: "api-doc",
    path: gen.pick([
      `dist-types/commands/${op}Command.d.ts`,
      `types/${op.toLowerCase()}.d.ts`,
      `dist/${op.toLowerCase()}.js`,
    ]),
    before: `/**\n * @example\n * \`\`\`javascript\n * const command = new ${op}Command(input);\n * const response = await client.send(command);\n * /* response is\n * {\n *   `,
    after: "\n * }\n * ```\n */\nexport declare class " + op + "Command {}\n",
    encode: (s) => s.split("\n").join("\n *   "),
  };
}
