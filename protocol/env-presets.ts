import { didYouMean } from './suggest.js';

/**
 * The spec's `env:` lists (loop-level and per agent): which of the worker's variables a command the
 * engine runs may see (docs/agent-setup.md#environment). An entry is a variable name, a name prefix
 * ending in `*` (`WANDB_*`), a preset (`preset:gpu`), or `secret:NAME` (passed, and its value always
 * redacted). The lists cross into the workflow as written; each activity expands them against its
 * worker's own environment, so a preset means the variables that worker has.
 */

/** The presets: research setups need these to reach agents and the evidence command. */
export const ENV_PRESETS = {
  /** NVIDIA/AMD device selection, CUDA and its libraries, collective-communication settings. */
  gpu: [
    'CUDA_VISIBLE_DEVICES',
    'CUDA_DEVICE_ORDER',
    'CUDA_HOME',
    'CUDA_PATH',
    'CUDA_CACHE_PATH',
    'CUDNN_*',
    'NVIDIA_*',
    'NCCL_*',
    'HIP_VISIBLE_DEVICES',
    'ROCR_VISIBLE_DEVICES',
    'GPU_DEVICE_ORDINAL',
    'LD_LIBRARY_PATH',
    'PYTORCH_CUDA_ALLOC_CONF',
    'TF_FORCE_GPU_ALLOW_GROWTH',
    'XLA_FLAGS',
    'XLA_PYTHON_CLIENT_*',
  ],
  /** Virtual environments, conda, package managers and the caches of ML libraries and trackers. */
  python: [
    'VIRTUAL_ENV',
    'CONDA_*',
    'MAMBA_*',
    'PYTHONPATH',
    'PYTHONHOME',
    'PYTHONUNBUFFERED',
    'PYTHONDONTWRITEBYTECODE',
    'PIP_*',
    'UV_*',
    'POETRY_*',
    'PIPENV_*',
    'HF_*',
    'HUGGINGFACE_*',
    'TRANSFORMERS_*',
    'TORCH_HOME',
    'TORCHINDUCTOR_*',
    'WANDB_*',
    'MLFLOW_*',
    'COMET_*',
    'MPLCONFIGDIR',
    'OMP_NUM_THREADS',
    'MKL_NUM_THREADS',
    'OPENBLAS_NUM_THREADS',
  ],
  /** Proxies and the CA bundles a TLS-intercepting proxy needs (behind a proxy Codex waits, it does not fail). */
  proxy: [
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'ALL_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'all_proxy',
    'no_proxy',
    'SSL_CERT_FILE',
    'SSL_CERT_DIR',
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
    'NODE_EXTRA_CA_CERTS',
    'GIT_SSL_CAINFO',
    'PIP_CERT',
    'AWS_CA_BUNDLE',
  ],
} as const satisfies Record<string, readonly string[]>;

export type EnvPreset = keyof typeof ENV_PRESETS;
export const ENV_PRESET_NAMES = Object.keys(ENV_PRESETS) as EnvPreset[];

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PREFIX = /^[A-Za-z_][A-Za-z0-9_]*\*$/;

/** What one entry of an `env:` list may be, for the schema's description and its errors. */
export const ENV_ENTRY_HELP =
  'a variable name (MY_VAR), a name prefix ending in * (WANDB_*), a preset (preset:gpu, preset:python, preset:proxy), or secret:NAME (passed and always redacted)';

/** Why `entry` is not a valid `env:` entry, or undefined when it is. */
export function envEntryProblem(entry: string): string | undefined {
  if (entry.startsWith('preset:')) {
    const name = entry.slice('preset:'.length);
    if ((ENV_PRESET_NAMES as string[]).includes(name)) return undefined;
    return `unknown preset ${name}: use ${ENV_PRESET_NAMES.map((p) => `preset:${p}`).join(', ')}${didYouMean(name, ENV_PRESET_NAMES)}`;
  }
  if (entry.startsWith('secret:')) {
    return NAME.test(entry.slice('secret:'.length)) ? undefined : 'secret: must be followed by a variable name';
  }
  if (NAME.test(entry) || PREFIX.test(entry)) return undefined;
  return 'must be an environment variable name, a NAME_* prefix, preset:gpu|python|proxy or secret:NAME';
}

/** The names and prefixes an entry list means, and the names it marks secret. */
export interface EnvSelection {
  names: string[];
  prefixes: string[];
  secret: string[];
}

export function selectEnv(entries: readonly string[]): EnvSelection {
  const names = new Set<string>();
  const prefixes = new Set<string>();
  const secret = new Set<string>();
  const add = (item: string) => (item.endsWith('*') ? prefixes.add(item.slice(0, -1)) : names.add(item));
  for (const entry of entries) {
    if (entry.startsWith('preset:')) {
      for (const item of ENV_PRESETS[entry.slice('preset:'.length) as EnvPreset] ?? []) add(item);
    } else if (entry.startsWith('secret:')) {
      const name = entry.slice('secret:'.length);
      names.add(name);
      secret.add(name);
    } else add(entry);
  }
  return { names: [...names], prefixes: [...prefixes], secret: [...secret] };
}

/** The variables of `available` (names present in an environment) that `entries` let through, sorted. */
export function expandEnv(entries: readonly string[], available: readonly string[]): string[] {
  const { names, prefixes } = selectEnv(entries);
  const wanted = new Set(names);
  return available.filter((name) => wanted.has(name) || prefixes.some((p) => name.startsWith(p))).sort();
}

/** Whether `entries` ask for a preset (the GPU checks look for `preset:gpu`). */
export const hasPreset = (entries: readonly string[], preset: EnvPreset): boolean =>
  entries.includes(`preset:${preset}`);

/**
 * Words in a variable's name that mark its value a secret: keys, tokens, secrets, passwords,
 * credentials. Matched against the name's `_`-separated words (`HF_TOKEN`, `WANDB_API_KEY`,
 * `DB_PASSWORD`), so `CODEX_HOME`, `PATH` or `KEYBOARD_LAYOUT` stay readable.
 */
const SECRET_WORDS = new Set([
  'KEY',
  'KEYS',
  'APIKEY',
  'TOKEN',
  'TOKENS',
  'SECRET',
  'SECRETS',
  'PASSWORD',
  'PASSWD',
  'PASSPHRASE',
  'PASS',
  'CREDENTIAL',
  'CREDENTIALS',
  'CREDS',
  'PRIVATE',
  'COOKIE',
  'SESSIONID',
  'AUTHORIZATION',
  'BEARER',
  'PAT',
  'DSN',
]);

export function looksSecret(name: string): boolean {
  return name
    .toUpperCase()
    .split(/[^A-Z0-9]+/)
    .some((word) => SECRET_WORDS.has(word) || /(?:KEY|TOKEN|SECRET|PASSWORD)$/.test(word));
}

/**
 * Well-known provider keys: redacted whenever the worker has them, allowed or not, since an agent
 * may find them another way (a login shell's profile, a .env file) and print them.
 */
export const KEY_VARIABLES = [
  'CODEX_API_KEY',
  'OPENAI_API_KEY',
  'ANTHROPIC_API_KEY',
  'ANTHROPIC_AUTH_TOKEN',
  'CLAUDE_CODE_OAUTH_TOKEN',
  'TEMPORAL_API_KEY',
  'GEMINI_API_KEY',
  'GOOGLE_API_KEY',
  'MISTRAL_API_KEY',
  'HF_TOKEN',
  'HUGGING_FACE_HUB_TOKEN',
  'WANDB_API_KEY',
  'GITHUB_TOKEN',
  'GH_TOKEN',
  'AWS_SECRET_ACCESS_KEY',
  'AWS_SESSION_TOKEN',
  'AZURE_OPENAI_API_KEY',
] as const;
