import { describe, expect, test } from 'vitest';
import { ENV_PRESETS, envEntryProblem, expandEnv, looksSecret, selectEnv } from './env-presets.js';

describe('env entries', () => {
  test('names, prefixes, presets and secret: names are valid; anything else names the fix', () => {
    for (const entry of ['MY_VAR', 'WANDB_*', 'preset:gpu', 'preset:python', 'preset:proxy', 'secret:DB_PASS'])
      expect(envEntryProblem(entry), entry).toBeUndefined();
    expect(envEntryProblem('preset:gpus')).toBe(
      'unknown preset gpus: use preset:gpu, preset:python, preset:proxy; did you mean gpu?',
    );
    expect(envEntryProblem('secret:')).toBe('secret: must be followed by a variable name');
    expect(envEntryProblem('API KEY')).toMatch(/^must be an environment variable name/);
    expect(envEntryProblem('*')).toMatch(/^must be/);
  });

  test('a preset expands to the variables of its list the worker has, prefixes included; a secret: entry is a name and a mark', () => {
    const available = ['PATH', 'CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES', 'NCCL_DEBUG', 'HOME', 'WANDB_MODE'];
    expect(expandEnv(['preset:gpu'], available)).toEqual([
      'CUDA_VISIBLE_DEVICES',
      'NCCL_DEBUG',
      'NVIDIA_VISIBLE_DEVICES',
    ]);
    expect(expandEnv(['WANDB_*', 'secret:HOME'], available)).toEqual(['HOME', 'WANDB_MODE']);
    expect(selectEnv(['secret:HOME', 'X']).secret).toEqual(['HOME']);
    expect(expandEnv([], available)).toEqual([]);
  });

  test('the proxy preset carries both spellings of the proxy variables and the CA bundles', () => {
    expect(ENV_PRESETS.proxy).toEqual(
      expect.arrayContaining([
        'HTTPS_PROXY',
        'https_proxy',
        'NO_PROXY',
        'no_proxy',
        'SSL_CERT_FILE',
        'NODE_EXTRA_CA_CERTS',
      ]),
    );
  });

  test('names that look secret: keys, tokens, secrets, passwords; paths and settings do not', () => {
    const secret = [
      'OPENAI_API_KEY',
      'HF_TOKEN',
      'GITHUB_PAT',
      'DB_PASSWORD',
      'AWS_SECRET_ACCESS_KEY',
      'MYAPIKEY',
      'X_CREDENTIALS',
    ];
    const plain = [
      'CODEX_HOME',
      'PATH',
      'KEYBOARD_LAYOUT',
      'HF_HOME',
      'TOKENIZERS_PARALLELISM',
      'CUDA_VISIBLE_DEVICES',
      'PWD',
    ];
    expect(secret.filter((n) => !looksSecret(n))).toEqual([]);
    expect(plain.filter((n) => looksSecret(n))).toEqual([]);
  });
});
