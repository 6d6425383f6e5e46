import { describe, expect, test } from 'vitest';
import { secretShapeIn, secretsInSpec } from './secret-shapes.js';

describe('secret shapes in a loop spec', () => {
  test.for([
    ['OPENAI_API_KEY=sk-proj-Zq8vN2xLr5TbW1yK7mPc3HsJ python eval.py', 'an OpenAI API key'],
    ['export ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrSt', 'an Anthropic API key'],
    ['git clone https://ghp_16C7e42F292c6912E7710c838347Ae178B4a@github.com/x/y', 'a GitHub token'],
    ['HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789', 'a Hugging Face token'],
    ['https://hooks.slack.com/services/T000AAAA/B000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX', 'a Slack webhook URL'],
    ['postgres://trainer:hunter2@db.internal:5432/runs', 'a password in a URL'],
    ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'an AWS access key id'],
  ] as const)('%s is %s', ([text, what]) => {
    expect(secretShapeIn(text)?.what).toBe(what);
    expect(secretShapeIn(text)?.masked).not.toContain(text.slice(text.length - 8));
  });

  test.for([
    'Raise validation PSNR with scikit-learn style task-specific fine-tuning of the denoiser',
    'python eval.py --data https://huggingface.co/datasets/x --out s3://bucket/runs',
    'ssh git@github.com:org/repo.git && git pull',
    'node bench.mjs --skip-warmup --disk-cache-dir /tmp/sk-cache',
    'WANDB_API_KEY',
  ])('%s holds none', (text) => {
    expect(secretShapeIn(text)).toBeUndefined();
  });

  test('every string of the spec is looked at, keys included, and named by its path', () => {
    const found = secretsInSpec({
      goal: 'g',
      env: ['A', 'hf_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'],
      notify: { webhook: 'https://u:pw@hooks.example/x' },
      executor: { config: { 'sk-proj-Zq8vN2xLr5TbW1yK7mPc3HsJ': 1 } },
    });
    expect(found.map((f) => [f.path, f.what])).toEqual([
      ['env.1', 'a Hugging Face token'],
      ['notify.webhook', 'a password in a URL'],
      ['executor.config.<a key: sk-pro…, 32 characters>', 'an OpenAI API key'],
    ]);
  });
});
