import type { Rule } from "../rule.ts";
import type { VerifySpec } from "../verify.ts";
import {
  anyCase,
  ASSIGN,
  assigned,
  END_TOKEN,
  line,
  place,
  prefixed,
  prefixedRule,
  type TokenFamily,
} from "./shared.ts";

const LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

const OPENAI_REMEDIATION =
  "Delete the key on the OpenAI platform (platform.openai.com/api-keys, or Organization > Admin keys for admin keys), create a new one with the least permissions needed and store it in a vault.";
const OPENAI: TokenFamily = {
  provider: "OpenAI",
  body: "[A-Za-z0-9_-]{40,200}",
  example: (gen) => {
    const half = gen.pick([58, 74]);
    return `${gen.base64url(half)}T3BlbkFJ${gen.base64url(half)}`;
  },
  entropy: 3.5,
  remediation: OPENAI_REMEDIATION,
};
/**
 * GET /v1/models: 200 for a working key; 401 invalid_api_key for a deleted one. A restricted
 * key without the models scope gets 401 "insufficient permissions ... Missing scopes", and a
 * key out of credit 429 insufficient_quota: both authenticated, so live.
 */
const OPENAI_VERIFY: VerifySpec = {
  provider: "openai",
  baseUrl: "https://api.openai.com",
  method: "GET",
  path: "/v1/models",
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], body: /insufficient permissions|Missing scopes/i, result: "live" },
    { status: [429], body: /insufficient_quota/, result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://platform.openai.com/docs/api-reference/models/list",
  note: "Admin keys (sk-admin-) cannot list models and are not verified.",
};

/**
 * GET /v1/models with `x-api-key` and `anthropic-version`: 200 for a working key, 401
 * authentication_error for a disabled or deleted one, 403 permission_error for a key that
 * authenticated but may not list models (live).
 */
const ANTHROPIC_VERIFY: VerifySpec = {
  provider: "anthropic",
  baseUrl: "https://api.anthropic.com",
  method: "GET",
  path: "/v1/models",
  headers: { "anthropic-version": "2023-06-01" },
  auth: { kind: "header", name: "x-api-key" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [403], body: /permission_error/, result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://docs.anthropic.com/en/api/models-list",
};

/** GET /api/whoami-v2: 200 with the token's owner, 401 once the token is invalidated. */
const HUGGING_FACE_VERIFY: VerifySpec = {
  provider: "huggingface",
  baseUrl: "https://huggingface.co",
  method: "GET",
  path: "/api/whoami-v2",
  auth: { kind: "bearer" },
  outcomes: [
    { status: [200], result: "live" },
    { status: [401], result: "revoked" },
  ],
  docs: "https://huggingface.co/docs/hub/api#get-apiwhoami-v2",
};

const OPENAI_KEY_SAFETY_DOCS =
  "https://help.openai.com/en/articles/5112595-best-practices-for-api-key-safety";

const ANTHROPIC: TokenFamily = {
  provider: "Anthropic",
  body: "[A-Za-z0-9_-]{86,100}AA",
  example: (gen) => `${gen.base64url(93)}AA`,
  entropy: 3.5,
  remediation:
    "Disable and delete the key in the Claude Console (Settings > API keys, or Admin keys), create a new one and store it in a vault.",
};

const HUGGING_FACE: TokenFamily = {
  provider: "Hugging Face",
  body: "[A-Za-z]{34}",
  example: (gen) => gen.chars(LETTERS, 34),
  entropy: 3.5,
  severity: "high",
  remediation:
    "Invalidate the token in Hugging Face (Settings > Access Tokens > Invalidate and refresh), create a fine-grained token with the least scope needed and store it in a vault.",
  docs: "https://huggingface.co/docs/hub/security-tokens",
};

const LANGSMITH: TokenFamily = {
  provider: "LangSmith",
  body: "[a-f0-9]{32}_[a-f0-9]{10}",
  example: (gen) => `${gen.hex(32)}_${gen.hex(10)}`,
  entropy: 3,
  severity: "high",
  remediation: "Delete the key in LangSmith (Settings > API Keys), create a new one and store it in a vault.",
  docs: "https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key",
};

const openaiRules: readonly Rule[] = [
  prefixedRule(OPENAI, {
    id: "openai-project-key",
    prefix: "sk-proj-",
    description: "OpenAI project API key (sk-proj-).",
    severity: "high",
    docs: OPENAI_KEY_SAFETY_DOCS,
    verify: OPENAI_VERIFY,
    lines: [line.env("OPENAI_API_KEY"), (s) => `client = OpenAI(api_key="${s}")`],
    negatives: [
      "OPENAI_API_KEY=sk-proj-...",
      "OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    ],
  }),
  prefixedRule(OPENAI, {
    id: "openai-service-account-key",
    prefix: "sk-svcacct-",
    description: "OpenAI service account API key (sk-svcacct-).",
    severity: "high",
    docs: "https://platform.openai.com/docs/api-reference/project-service-accounts",
    verify: OPENAI_VERIFY,
    lines: [line.shell("OPENAI_API_KEY"), line.yaml("openai_key")],
    negatives: ["OPENAI_API_KEY=sk-svcacct-<redacted>"],
  }),
  prefixedRule(OPENAI, {
    id: "openai-admin-key",
    prefix: "sk-admin-",
    description: "OpenAI organization admin API key (sk-admin-).",
    severity: "critical",
    docs: "https://platform.openai.com/docs/api-reference/admin-api-keys",
    lines: [line.env("OPENAI_ADMIN_KEY"), line.json("adminKey")],
    negatives: ["OPENAI_ADMIN_KEY=sk-admin-REPLACE_ME"],
  }),
  {
    id: "openai-api-key",
    provider: "OpenAI",
    description: "OpenAI legacy user API key (sk- + 20 + T3BlbkFJ + 20).",
    keywords: ["t3blbkfj"],
    pattern: prefixed("sk-", "[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: OPENAI_REMEDIATION,
    docs: OPENAI_KEY_SAFETY_DOCS,
    verify: OPENAI_VERIFY,
    examples: {
      positives: (gen) =>
        place(
          () => `sk-${gen.alnum(20)}T3BlbkFJ${gen.alnum(20)}`,
          [line.env("OPENAI_API_KEY"), (s) => `openai.api_key = "${s}"`],
        ),
      negatives: [
        "openai.api_key = 'sk-...'",
        "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
];

const frontierRules: readonly Rule[] = [
  prefixedRule(ANTHROPIC, {
    id: "anthropic-api-key",
    prefix: "sk-ant-api03-",
    description: "Anthropic API key (sk-ant-api03-).",
    severity: "high",
    docs: "https://docs.anthropic.com/en/api/getting-started",
    verify: ANTHROPIC_VERIFY,
    lines: [line.env("ANTHROPIC_API_KEY"), (s) => `client = anthropic.Anthropic(api_key="${s}")`],
    negatives: ["ANTHROPIC_API_KEY=sk-ant-api03-...", "ANTHROPIC_API_KEY=sk-ant-api03-your-key-here"],
  }),
  prefixedRule(ANTHROPIC, {
    id: "anthropic-admin-key",
    prefix: "sk-ant-admin01-",
    description: "Anthropic Admin API key (sk-ant-admin01-).",
    severity: "critical",
    docs: "https://docs.anthropic.com/en/api/administration-api",
    lines: [line.shell("ANTHROPIC_ADMIN_KEY"), line.json("anthropic_admin_key")],
    negatives: ["ANTHROPIC_ADMIN_KEY=sk-ant-admin01-<key>"],
  }),
  prefixedRule(HUGGING_FACE, {
    id: "huggingface-access-token",
    prefix: "hf_",
    description: "Hugging Face user access token (hf_ + 34 letters).",
    verify: HUGGING_FACE_VERIFY,
    lines: [line.env("HF_TOKEN"), (s) => `huggingface-cli login --token ${s}`],
    negatives: ["HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "HF_TOKEN=hf_..."],
  }),
  prefixedRule(HUGGING_FACE, {
    id: "huggingface-org-token",
    prefix: "api_org_",
    description: "Hugging Face legacy organization API token (api_org_ + 34 letters).",
    verify: HUGGING_FACE_VERIFY,
    lines: [line.env("HUGGINGFACE_ORG_TOKEN"), line.py("org_token")],
    negatives: ["api_org_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
  }),
  {
    id: "cohere-api-key",
    provider: "Cohere",
    description: "Cohere API key (40 characters) in a Cohere or CO_API_KEY variable.",
    keywords: ["cohere", "co_api_key"],
    pattern: assigned({ context: `${anyCase("cohere")}|CO_API_KEY`, value: "[A-Za-z0-9]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the Cohere dashboard (dashboard.cohere.com/api-keys), create a new one and store it in a vault.",
    docs: "https://docs.cohere.com/docs/rate-limits",
    examples: {
      positives: (gen) => place(() => gen.alnum(40), [line.env("CO_API_KEY"), line.py("cohere_api_key")]),
      negatives: ["CO_API_KEY=<your-cohere-key>"],
    },
  },
  {
    id: "groq-api-key",
    provider: "Groq",
    description: "Groq API key (gsk_ + 52 characters).",
    keywords: ["gsk_"],
    pattern: prefixed("gsk_", "[A-Za-z0-9]{52}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the Groq console (console.groq.com/keys), create a new one and store it in a vault.",
    docs: "https://console.groq.com/docs/quickstart",
    examples: {
      positives: (gen) => place(() => `gsk_${gen.alnum(52)}`, [line.env("GROQ_API_KEY"), line.js("groqKey")]),
      negatives: ["GROQ_API_KEY=gsk_your_key_here"],
    },
  },
  {
    id: "replicate-api-token",
    provider: "Replicate",
    description: "Replicate API token (r8_ + 37 characters).",
    keywords: ["r8_"],
    pattern: prefixed("r8_", "[A-Za-z0-9]{37}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the token in Replicate (replicate.com/account/api-tokens), create a new one and store it in a vault.",
    docs: "https://replicate.com/docs/reference/http#authentication",
    examples: {
      positives: (gen) =>
        place(() => `r8_${gen.alnum(37)}`, [line.env("REPLICATE_API_TOKEN"), line.yaml("replicate_token")]),
      negatives: ["REPLICATE_API_TOKEN=r8_*********************************"],
    },
  },
  {
    id: "mistral-api-key",
    provider: "Mistral AI",
    description: "Mistral AI API key (32 characters) in a Mistral variable.",
    keywords: ["mistral"],
    pattern: assigned({ context: anyCase("mistral"), value: "[A-Za-z0-9]{32}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in La Plateforme (console.mistral.ai > API Keys), create a new one and store it in a vault.",
    docs: "https://docs.mistral.ai/getting-started/quickstart/",
    examples: {
      positives: (gen) => place(() => gen.alnum(32), [line.env("MISTRAL_API_KEY"), line.py("mistral_key")]),
      negatives: ["MISTRAL_API_KEY=your_api_key"],
    },
  },
  {
    id: "perplexity-api-key",
    provider: "Perplexity",
    description: "Perplexity API key (pplx-).",
    keywords: ["pplx-"],
    pattern: prefixed("pplx-", "[A-Za-z0-9]{40,56}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the key in Perplexity (Settings > API > API Keys), generate a new one and store it in a vault.",
    docs: "https://docs.perplexity.ai/guides/getting-started",
    examples: {
      positives: (gen) =>
        place(
          [`pplx-${gen.alnum(48)}`, `pplx-${gen.hex(48)}`],
          [line.env("PERPLEXITY_API_KEY"), (s) => `-H "Authorization: Bearer ${s}"`],
        ),
      negatives: ["PERPLEXITY_API_KEY=pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "deepseek-api-key",
    provider: "DeepSeek",
    description: "DeepSeek API key (sk- + 32 hex) in a DeepSeek variable.",
    keywords: ["deepseek"],
    pattern: assigned({ context: anyCase("deepseek", "DeepSeek"), value: "sk-[a-f0-9]{32}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key on the DeepSeek platform (platform.deepseek.com > API keys), create a new one and store it in a vault.",
    docs: "https://api-docs.deepseek.com/",
    examples: {
      positives: (gen) =>
        place(() => `sk-${gen.hex(32)}`, [line.env("DEEPSEEK_API_KEY"), line.js("deepSeekKey")]),
      negatives: ["DEEPSEEK_API_KEY=sk-<your-key>"],
    },
  },
  {
    id: "together-api-key",
    provider: "Together AI",
    description: "Together AI API key (64 hex or tgp_v1_) in a Together variable.",
    keywords: ["together"],
    pattern: assigned({
      context: anyCase("together"),
      value: "[a-f0-9]{64}|tgp_v1_[A-Za-z0-9_-]{30,64}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the key in Together AI (Settings > API Keys), create a new one and store it in a vault.",
    docs: "https://docs.together.ai/docs/quickstart",
    examples: {
      positives: (gen) =>
        place(
          [gen.hex(64), `tgp_v1_${gen.base64url(43)}`],
          [line.env("TOGETHER_API_KEY"), line.py("together_api_key")],
        ),
      negatives: ["TOGETHER_API_KEY=<together-api-key>"],
    },
  },
  {
    id: "fireworks-api-key",
    provider: "Fireworks AI",
    description: "Fireworks AI API key (fw_).",
    keywords: ["fw_"],
    pattern: /\b(fw_(?=[A-Za-z]{0,47}\d)[A-Za-z0-9]{20,48})(?![A-Za-z0-9_-])/,
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in Fireworks (Account > API Keys, or `firectl delete api-key`), create a new one and store it in a vault.",
    docs: "https://docs.fireworks.ai/getting-started/quickstart",
    examples: {
      positives: (gen) =>
        place(
          [`fw_${gen.digits(2)}${gen.alnum(22)}`, `fw_${gen.alnum(20)}${gen.digits(1)}${gen.alnum(3)}`],
          [line.env("FIREWORKS_API_KEY"), line.json("fireworks_key")],
        ),
      negatives: ["FIREWORKS_API_KEY=fw_your_api_key", "fw_version_string_for_the_device"],
    },
  },
  {
    id: "xai-api-key",
    provider: "xAI",
    description: "xAI (Grok) API key (xai- + 80 characters).",
    keywords: ["xai-"],
    pattern: prefixed("xai-", "[A-Za-z0-9]{70,90}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the xAI console (console.x.ai > API Keys), create a new one and store it in a vault.",
    docs: "https://docs.x.ai/docs/overview",
    examples: {
      positives: (gen) =>
        place(
          () => `xai-${gen.alnum(80)}`,
          [line.env("XAI_API_KEY"), (s) => `client = Client(api_key="${s}")`],
        ),
      negatives: ["XAI_API_KEY=xai-..."],
    },
  },
  {
    id: "openrouter-api-key",
    provider: "OpenRouter",
    description: "OpenRouter API key (sk-or-v1- + 64 hex).",
    keywords: ["sk-or-v1-"],
    pattern: prefixed("sk-or-v1-", "[a-f0-9]{64}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in OpenRouter (openrouter.ai/settings/keys), create a new one with a credit limit and store it in a vault.",
    docs: "https://openrouter.ai/docs/api-reference/authentication",
    examples: {
      positives: (gen) =>
        place(() => `sk-or-v1-${gen.hex(64)}`, [line.env("OPENROUTER_API_KEY"), line.js("apiKey")]),
      negatives: ["OPENROUTER_API_KEY=sk-or-v1-<key>"],
    },
  },
  {
    id: "nvidia-api-key",
    provider: "NVIDIA",
    description: "NVIDIA NIM / API catalog key (nvapi-).",
    keywords: ["nvapi-"],
    pattern: prefixed("nvapi-", "[A-Za-z0-9_-]{64}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Revoke the key in NVIDIA NGC (Setup > API Keys) or build.nvidia.com, generate a new one and store it in a vault.",
    docs: "https://docs.api.nvidia.com/nim/docs/api-quickstart",
    examples: {
      positives: (gen) =>
        place(
          [`nvapi-${gen.base64url(64)}`, `nvapi-${gen.alnum(64)}`],
          [line.env("NVIDIA_API_KEY"), line.yaml("api_key")],
        ),
      negatives: ["NVIDIA_API_KEY=nvapi-<your-api-key>"],
    },
  },
];

const audioAndToolingRules: readonly Rule[] = [
  {
    id: "elevenlabs-api-key",
    provider: "ElevenLabs",
    description:
      "ElevenLabs API key (sk_ + 48 hex, or 32 hex) in an ElevenLabs variable or xi-api-key header.",
    keywords: ["elevenlabs", "eleven_labs", "xi-api-key", "xi_api_key"],
    pattern: assigned({
      context: anyCase("elevenlabs", "eleven_labs", "ElevenLabs", "xi-api-key", "xi_api_key", "Xi-Api-Key"),
      value: "sk_[a-f0-9]{48}|[a-f0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in ElevenLabs (Developers > API Keys), create a new one with restricted scope and store it in a vault.",
    docs: "https://elevenlabs.io/docs/api-reference/authentication",
    examples: {
      positives: (gen) =>
        place(
          [`sk_${gen.hex(48)}`, `sk_${gen.hex(48)}`, gen.hex(32)],
          [
            line.env("ELEVENLABS_API_KEY"),
            (s) => `curl https://api.elevenlabs.io/v1/voices -H "xi-api-key: ${s}"`,
            line.js("elevenLabsKey"),
          ],
        ),
      negatives: [
        "xi-api-key: <xi-api-key>",
        "ELEVENLABS_API_KEY=sk_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "assemblyai-api-key",
    provider: "AssemblyAI",
    description: "AssemblyAI API key (32 hex) in an AssemblyAI variable.",
    keywords: ["assemblyai", "assembly_ai"],
    pattern: assigned({
      context: anyCase("assemblyai", "assembly_ai", "AssemblyAI"),
      value: "[a-f0-9]{32}",
      flags: "",
    }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Reset the key in the AssemblyAI dashboard (API Keys), update the app and store the new key in a vault.",
    docs: "https://www.assemblyai.com/docs/api-reference/overview",
    examples: {
      positives: (gen) =>
        place(() => gen.hex(32), [line.env("ASSEMBLYAI_API_KEY"), line.yaml("assemblyai_token")]),
      negatives: ["ASSEMBLYAI_API_KEY=<YOUR_API_KEY>"],
    },
  },
  {
    id: "deepgram-api-key",
    provider: "Deepgram",
    description: "Deepgram API key (40 hex) in a Deepgram variable.",
    keywords: ["deepgram"],
    pattern: assigned({ context: anyCase("deepgram"), value: "[a-f0-9]{40}", flags: "" }),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in the Deepgram console (Settings > API Keys) or with DELETE /v1/projects/{project_id}/keys/{key_id}, create a new one and store it in a vault.",
    docs: "https://developers.deepgram.com/docs/create-additional-api-keys",
    examples: {
      positives: (gen) => place(() => gen.hex(40), [line.env("DEEPGRAM_API_KEY"), line.go("deepgramKey")]),
      negatives: ["DEEPGRAM_API_KEY=YOUR_DEEPGRAM_API_KEY"],
    },
  },
  {
    id: "stability-api-key",
    provider: "Stability AI",
    description: "Stability AI API key (sk- + 48 characters) in a Stability variable.",
    keywords: ["stability"],
    pattern: assigned({ context: anyCase("stability"), value: "sk-[A-Za-z0-9]{48}", flags: "" }),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key on the Stability platform (platform.stability.ai/account/keys), create a new one and store it in a vault.",
    docs: "https://platform.stability.ai/docs/getting-started/authentication",
    examples: {
      positives: (gen) =>
        place(() => `sk-${gen.alnum(48)}`, [line.env("STABILITY_API_KEY"), line.py("stability_key")]),
      negatives: ["STABILITY_API_KEY=sk-..."],
    },
  },
  prefixedRule(LANGSMITH, {
    id: "langsmith-personal-access-token",
    prefix: "lsv2_pt_",
    description: "LangSmith (LangChain) personal access token (lsv2_pt_).",
    lines: [line.env("LANGSMITH_API_KEY"), line.shell("LANGCHAIN_API_KEY")],
    negatives: ["LANGSMITH_API_KEY=lsv2_pt_..."],
  }),
  prefixedRule(LANGSMITH, {
    id: "langsmith-service-key",
    prefix: "lsv2_sk_",
    description: "LangSmith (LangChain) service key (lsv2_sk_).",
    lines: [line.env("LANGSMITH_API_KEY"), line.yaml("langsmith_key")],
    negatives: ["LANGSMITH_API_KEY=lsv2_sk_<service-key>"],
  }),
  {
    id: "wandb-api-key",
    provider: "Weights & Biases",
    description: "Weights & Biases API key (40 hex) in a WANDB variable or the api.wandb.ai .netrc entry.",
    keywords: ["wandb"],
    pattern: new RegExp(
      String.raw`(?:${anyCase("wandb")}[\w.-]{0,30}${ASSIGN}|api\.wandb\.ai[\s\S]{0,120}?password[ \t]{1,5})([a-f0-9]{40})${END_TOKEN}`,
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in W&B (User settings > API keys), create a new one, run `wandb login --relogin` and store it in a vault.",
    docs: "https://docs.wandb.ai/ref/cli/wandb-login/",
    examples: {
      positives: (gen) =>
        place(
          () => gen.hex(40),
          [line.env("WANDB_API_KEY"), (s) => `machine api.wandb.ai\n  login user\n  password ${s}\n`],
        ),
      negatives: ["WANDB_API_KEY=$WANDB_API_KEY"],
    },
  },
];

/** OpenAI, Anthropic and the other model, inference and ML-tooling providers. */
export const saasAiRules: readonly Rule[] = [...openaiRules, ...frontierRules, ...audioAndToolingRules];
