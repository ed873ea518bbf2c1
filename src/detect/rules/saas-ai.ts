import type { Rule } from "../rule.ts";
import { anyCase, assigned, line } from "./saas-shared.ts";

const OPENAI_REMEDIATION =
  "Delete the key on the OpenAI platform (platform.openai.com/api-keys, or Organization > Admin keys for admin keys), create a new one with the least permissions needed and store it in a vault.";
const ANTHROPIC_REMEDIATION =
  "Disable and delete the key in the Claude Console (Settings > API keys, or Admin keys), create a new one and store it in a vault.";
const HUGGINGFACE_REMEDIATION =
  "Invalidate the token in Hugging Face (Settings > Access Tokens > Invalidate and refresh), create a fine-grained token with the least scope needed and store it in a vault.";
const LANGSMITH_REMEDIATION =
  "Delete the key in LangSmith (Settings > API Keys), create a new one and store it in a vault.";

/** A prefixed token `<prefix><body>` as the whole value, with the usual boundaries. */
const prefixed = (prefix: string, body: string): RegExp =>
  new RegExp(String.raw`\b(${prefix}${body})(?![A-Za-z0-9_-])`);

const openaiRules: readonly Rule[] = [
  {
    id: "openai-project-key",
    provider: "OpenAI",
    description: "OpenAI project API key (sk-proj-).",
    keywords: ["sk-proj-"],
    pattern: prefixed("sk-proj-", "[A-Za-z0-9_-]{40,200}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: OPENAI_REMEDIATION,
    docs: "https://help.openai.com/en/articles/5112595-best-practices-for-api-key-safety",
    examples: {
      positives: (gen) => {
        const a = `sk-proj-${gen.base64url(74)}T3BlbkFJ${gen.base64url(74)}`;
        const b = `sk-proj-${gen.base64url(58)}T3BlbkFJ${gen.base64url(58)}`;
        return [line.env("OPENAI_API_KEY", a), line.text(`client = OpenAI(api_key="${b}")`, b)];
      },
      negatives: [
        "OPENAI_API_KEY=sk-proj-...",
        "OPENAI_API_KEY=sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
  {
    id: "openai-service-account-key",
    provider: "OpenAI",
    description: "OpenAI service account API key (sk-svcacct-).",
    keywords: ["sk-svcacct-"],
    pattern: prefixed("sk-svcacct-", "[A-Za-z0-9_-]{40,200}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: OPENAI_REMEDIATION,
    docs: "https://platform.openai.com/docs/api-reference/project-service-accounts",
    examples: {
      positives: (gen) => {
        const a = `sk-svcacct-${gen.base64url(74)}T3BlbkFJ${gen.base64url(74)}`;
        const b = `sk-svcacct-${gen.base64url(58)}T3BlbkFJ${gen.base64url(58)}`;
        return [line.shell("OPENAI_API_KEY", a), line.yaml("openai_key", b)];
      },
      negatives: ["OPENAI_API_KEY=sk-svcacct-<redacted>"],
    },
  },
  {
    id: "openai-admin-key",
    provider: "OpenAI",
    description: "OpenAI organization admin API key (sk-admin-).",
    keywords: ["sk-admin-"],
    pattern: prefixed("sk-admin-", "[A-Za-z0-9_-]{40,200}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: OPENAI_REMEDIATION,
    docs: "https://platform.openai.com/docs/api-reference/admin-api-keys",
    examples: {
      positives: (gen) => {
        const a = `sk-admin-${gen.base64url(58)}T3BlbkFJ${gen.base64url(58)}`;
        const b = `sk-admin-${gen.base64url(74)}T3BlbkFJ${gen.base64url(74)}`;
        return [line.env("OPENAI_ADMIN_KEY", a), line.json("adminKey", b)];
      },
      negatives: ["OPENAI_ADMIN_KEY=sk-admin-REPLACE_ME"],
    },
  },
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
    docs: "https://help.openai.com/en/articles/5112595-best-practices-for-api-key-safety",
    examples: {
      positives: (gen) => {
        const a = `sk-${gen.alnum(20)}T3BlbkFJ${gen.alnum(20)}`;
        const b = `sk-${gen.alnum(20)}T3BlbkFJ${gen.alnum(20)}`;
        return [line.env("OPENAI_API_KEY", a), line.text(`openai.api_key = "${b}"`, b)];
      },
      negatives: [
        "openai.api_key = 'sk-...'",
        "OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxT3BlbkFJxxxxxxxxxxxxxxxxxxxx",
      ],
    },
  },
];

const frontierRules: readonly Rule[] = [
  {
    id: "anthropic-api-key",
    provider: "Anthropic",
    description: "Anthropic API key (sk-ant-api03-).",
    keywords: ["sk-ant-api03-"],
    pattern: prefixed("sk-ant-api03-", "[A-Za-z0-9_-]{86,100}AA"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: ANTHROPIC_REMEDIATION,
    docs: "https://docs.anthropic.com/en/api/getting-started",
    examples: {
      positives: (gen) => {
        const a = `sk-ant-api03-${gen.base64url(93)}AA`;
        const b = `sk-ant-api03-${gen.base64url(93)}AA`;
        return [
          line.env("ANTHROPIC_API_KEY", a),
          line.text(`client = anthropic.Anthropic(api_key="${b}")`, b),
        ];
      },
      negatives: ["ANTHROPIC_API_KEY=sk-ant-api03-...", "ANTHROPIC_API_KEY=sk-ant-api03-your-key-here"],
    },
  },
  {
    id: "anthropic-admin-key",
    provider: "Anthropic",
    description: "Anthropic Admin API key (sk-ant-admin01-).",
    keywords: ["sk-ant-admin01-"],
    pattern: prefixed("sk-ant-admin01-", "[A-Za-z0-9_-]{86,100}AA"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "critical",
    remediation: ANTHROPIC_REMEDIATION,
    docs: "https://docs.anthropic.com/en/api/administration-api",
    examples: {
      positives: (gen) => {
        const a = `sk-ant-admin01-${gen.base64url(93)}AA`;
        const b = `sk-ant-admin01-${gen.base64url(93)}AA`;
        return [line.shell("ANTHROPIC_ADMIN_KEY", a), line.json("anthropic_admin_key", b)];
      },
      negatives: ["ANTHROPIC_ADMIN_KEY=sk-ant-admin01-<key>"],
    },
  },
  {
    id: "huggingface-access-token",
    provider: "Hugging Face",
    description: "Hugging Face user access token (hf_ + 34 letters).",
    keywords: ["hf_"],
    pattern: prefixed("hf_", "[A-Za-z]{34}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: HUGGINGFACE_REMEDIATION,
    docs: "https://huggingface.co/docs/hub/security-tokens",
    examples: {
      positives: (gen) => {
        const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        const a = `hf_${gen.chars(letters, 34)}`;
        const b = `hf_${gen.chars(letters, 34)}`;
        return [line.env("HF_TOKEN", a), line.text(`huggingface-cli login --token ${b}`, b)];
      },
      negatives: ["HF_TOKEN=hf_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "HF_TOKEN=hf_..."],
    },
  },
  {
    id: "huggingface-org-token",
    provider: "Hugging Face",
    description: "Hugging Face legacy organization API token (api_org_ + 34 letters).",
    keywords: ["api_org_"],
    pattern: prefixed("api_org_", "[A-Za-z]{34}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation: HUGGINGFACE_REMEDIATION,
    docs: "https://huggingface.co/docs/hub/security-tokens",
    examples: {
      positives: (gen) => {
        const letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        const a = `api_org_${gen.chars(letters, 34)}`;
        const b = `api_org_${gen.chars(letters, 34)}`;
        return [line.env("HUGGINGFACE_ORG_TOKEN", a), line.py("org_token", b)];
      },
      negatives: ["api_org_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "cohere-api-key",
    provider: "Cohere",
    description: "Cohere API key (40 characters) in a Cohere or CO_API_KEY variable.",
    keywords: ["cohere", "co_api_key"],
    pattern: assigned(`${anyCase("cohere")}|CO_API_KEY`, "[A-Za-z0-9]{40}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in the Cohere dashboard (dashboard.cohere.com/api-keys), create a new one and store it in a vault.",
    docs: "https://docs.cohere.com/docs/rate-limits",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(40);
        const b = gen.alnum(40);
        return [line.env("CO_API_KEY", a), line.py("cohere_api_key", b)];
      },
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
      positives: (gen) => {
        const a = `gsk_${gen.alnum(52)}`;
        const b = `gsk_${gen.alnum(52)}`;
        return [line.env("GROQ_API_KEY", a), line.js("groqKey", b)];
      },
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
      positives: (gen) => {
        const a = `r8_${gen.alnum(37)}`;
        const b = `r8_${gen.alnum(37)}`;
        return [line.env("REPLICATE_API_TOKEN", a), line.yaml("replicate_token", b)];
      },
      negatives: ["REPLICATE_API_TOKEN=r8_*********************************"],
    },
  },
  {
    id: "mistral-api-key",
    provider: "Mistral AI",
    description: "Mistral AI API key (32 characters) in a Mistral variable.",
    keywords: ["mistral"],
    pattern: assigned(anyCase("mistral"), "[A-Za-z0-9]{32}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key in La Plateforme (console.mistral.ai > API Keys), create a new one and store it in a vault.",
    docs: "https://docs.mistral.ai/getting-started/quickstart/",
    examples: {
      positives: (gen) => {
        const a = gen.alnum(32);
        const b = gen.alnum(32);
        return [line.env("MISTRAL_API_KEY", a), line.py("mistral_key", b)];
      },
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
      positives: (gen) => {
        const a = `pplx-${gen.alnum(48)}`;
        const b = `pplx-${gen.hex(48)}`;
        return [line.env("PERPLEXITY_API_KEY", a), line.text(`-H "Authorization: Bearer ${b}"`, b)];
      },
      negatives: ["PERPLEXITY_API_KEY=pplx-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
    },
  },
  {
    id: "deepseek-api-key",
    provider: "DeepSeek",
    description: "DeepSeek API key (sk- + 32 hex) in a DeepSeek variable.",
    keywords: ["deepseek"],
    pattern: assigned(anyCase("deepseek", "DeepSeek"), "sk-[a-f0-9]{32}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key on the DeepSeek platform (platform.deepseek.com > API keys), create a new one and store it in a vault.",
    docs: "https://api-docs.deepseek.com/",
    examples: {
      positives: (gen) => {
        const a = `sk-${gen.hex(32)}`;
        const b = `sk-${gen.hex(32)}`;
        return [line.env("DEEPSEEK_API_KEY", a), line.js("deepSeekKey", b)];
      },
      negatives: ["DEEPSEEK_API_KEY=sk-<your-key>"],
    },
  },
  {
    id: "together-api-key",
    provider: "Together AI",
    description: "Together AI API key (64 hex or tgp_v1_) in a Together variable.",
    keywords: ["together"],
    pattern: assigned(anyCase("together"), "[a-f0-9]{64}|tgp_v1_[A-Za-z0-9_-]{30,64}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Revoke the key in Together AI (Settings > API Keys), create a new one and store it in a vault.",
    docs: "https://docs.together.ai/docs/quickstart",
    examples: {
      positives: (gen) => {
        const a = gen.hex(64);
        const b = `tgp_v1_${gen.base64url(43)}`;
        return [line.env("TOGETHER_API_KEY", a), line.py("together_api_key", b)];
      },
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
      positives: (gen) => {
        const a = `fw_${gen.digits(2)}${gen.alnum(22)}`;
        const b = `fw_${gen.alnum(20)}${gen.digits(1)}${gen.alnum(3)}`;
        return [line.env("FIREWORKS_API_KEY", a), line.json("fireworks_key", b)];
      },
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
      positives: (gen) => {
        const a = `xai-${gen.alnum(80)}`;
        const b = `xai-${gen.alnum(80)}`;
        return [line.env("XAI_API_KEY", a), line.text(`client = Client(api_key="${b}")`, b)];
      },
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
      positives: (gen) => {
        const a = `sk-or-v1-${gen.hex(64)}`;
        const b = `sk-or-v1-${gen.hex(64)}`;
        return [line.env("OPENROUTER_API_KEY", a), line.js("apiKey", b)];
      },
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
      positives: (gen) => {
        const a = `nvapi-${gen.base64url(64)}`;
        const b = `nvapi-${gen.alnum(64)}`;
        return [line.env("NVIDIA_API_KEY", a), line.yaml("api_key", b)];
      },
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
    pattern: assigned(
      anyCase("elevenlabs", "eleven_labs", "ElevenLabs", "xi-api-key", "xi_api_key", "Xi-Api-Key"),
      "sk_[a-f0-9]{48}|[a-f0-9]{32}",
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in ElevenLabs (Developers > API Keys), create a new one with restricted scope and store it in a vault.",
    docs: "https://elevenlabs.io/docs/api-reference/authentication",
    examples: {
      positives: (gen) => {
        const a = `sk_${gen.hex(48)}`;
        const b = `sk_${gen.hex(48)}`;
        const c = gen.hex(32);
        return [
          line.env("ELEVENLABS_API_KEY", a),
          line.text(`curl https://api.elevenlabs.io/v1/voices -H "xi-api-key: ${b}"`, b),
          line.js("elevenLabsKey", c),
        ];
      },
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
    pattern: assigned(anyCase("assemblyai", "assembly_ai", "AssemblyAI"), "[a-f0-9]{32}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Reset the key in the AssemblyAI dashboard (API Keys), update the app and store the new key in a vault.",
    docs: "https://www.assemblyai.com/docs/api-reference/overview",
    examples: {
      positives: (gen) => {
        const a = gen.hex(32);
        const b = gen.hex(32);
        return [line.env("ASSEMBLYAI_API_KEY", a), line.yaml("assemblyai_token", b)];
      },
      negatives: ["ASSEMBLYAI_API_KEY=<YOUR_API_KEY>"],
    },
  },
  {
    id: "deepgram-api-key",
    provider: "Deepgram",
    description: "Deepgram API key (40 hex) in a Deepgram variable.",
    keywords: ["deepgram"],
    pattern: assigned(anyCase("deepgram"), "[a-f0-9]{40}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in the Deepgram console (Settings > API Keys) or with DELETE /v1/projects/{project_id}/keys/{key_id}, create a new one and store it in a vault.",
    docs: "https://developers.deepgram.com/docs/create-additional-api-keys",
    examples: {
      positives: (gen) => {
        const a = gen.hex(40);
        const b = gen.hex(40);
        return [line.env("DEEPGRAM_API_KEY", a), line.go("deepgramKey", b)];
      },
      negatives: ["DEEPGRAM_API_KEY=YOUR_DEEPGRAM_API_KEY"],
    },
  },
  {
    id: "stability-api-key",
    provider: "Stability AI",
    description: "Stability AI API key (sk- + 48 characters) in a Stability variable.",
    keywords: ["stability"],
    pattern: assigned(anyCase("stability"), "sk-[A-Za-z0-9]{48}"),
    secretGroup: 1,
    entropy: 3.5,
    severity: "high",
    remediation:
      "Delete the key on the Stability platform (platform.stability.ai/account/keys), create a new one and store it in a vault.",
    docs: "https://platform.stability.ai/docs/getting-started/authentication",
    examples: {
      positives: (gen) => {
        const a = `sk-${gen.alnum(48)}`;
        const b = `sk-${gen.alnum(48)}`;
        return [line.env("STABILITY_API_KEY", a), line.py("stability_key", b)];
      },
      negatives: ["STABILITY_API_KEY=sk-..."],
    },
  },
  {
    id: "langsmith-personal-access-token",
    provider: "LangSmith",
    description: "LangSmith (LangChain) personal access token (lsv2_pt_).",
    keywords: ["lsv2_pt_"],
    pattern: prefixed("lsv2_pt_", "[a-f0-9]{32}_[a-f0-9]{10}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: LANGSMITH_REMEDIATION,
    docs: "https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key",
    examples: {
      positives: (gen) => {
        const a = `lsv2_pt_${gen.hex(32)}_${gen.hex(10)}`;
        const b = `lsv2_pt_${gen.hex(32)}_${gen.hex(10)}`;
        return [line.env("LANGSMITH_API_KEY", a), line.shell("LANGCHAIN_API_KEY", b)];
      },
      negatives: ["LANGSMITH_API_KEY=lsv2_pt_..."],
    },
  },
  {
    id: "langsmith-service-key",
    provider: "LangSmith",
    description: "LangSmith (LangChain) service key (lsv2_sk_).",
    keywords: ["lsv2_sk_"],
    pattern: prefixed("lsv2_sk_", "[a-f0-9]{32}_[a-f0-9]{10}"),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation: LANGSMITH_REMEDIATION,
    docs: "https://docs.smith.langchain.com/administration/how_to_guides/organization_management/create_account_api_key",
    examples: {
      positives: (gen) => {
        const a = `lsv2_sk_${gen.hex(32)}_${gen.hex(10)}`;
        const b = `lsv2_sk_${gen.hex(32)}_${gen.hex(10)}`;
        return [line.env("LANGSMITH_API_KEY", a), line.yaml("langsmith_key", b)];
      },
      negatives: ["LANGSMITH_API_KEY=lsv2_sk_<service-key>"],
    },
  },
  {
    id: "wandb-api-key",
    provider: "Weights & Biases",
    description: "Weights & Biases API key (40 hex) in a WANDB variable or the api.wandb.ai .netrc entry.",
    keywords: ["wandb"],
    pattern: new RegExp(
      String.raw`(?:${anyCase("wandb")}[\w.\-]{0,30}['"\]]{0,2}[ \t]{0,3}(?:=>|:=|[:=])[ \t]{0,3}['"\x60]{0,2}|api\.wandb\.ai[\s\S]{0,120}?password[ \t]{1,5})([a-f0-9]{40})(?![A-Za-z0-9_-])`,
    ),
    secretGroup: 1,
    entropy: 3,
    severity: "high",
    remediation:
      "Delete the key in W&B (User settings > API keys), create a new one, run `wandb login --relogin` and store it in a vault.",
    docs: "https://docs.wandb.ai/ref/cli/wandb-login/",
    examples: {
      positives: (gen) => {
        const a = gen.hex(40);
        const b = gen.hex(40);
        return [
          line.env("WANDB_API_KEY", a),
          line.text(`machine api.wandb.ai\n  login user\n  password ${b}\n`, b),
        ];
      },
      negatives: ["WANDB_API_KEY=$WANDB_API_KEY"],
    },
  },
];

/** OpenAI, Anthropic and the other model, inference and ML-tooling providers. */
export const saasAiRules: readonly Rule[] = [...openaiRules, ...frontierRules, ...audioAndToolingRules];
