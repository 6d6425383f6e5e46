import { describe, expect, test } from 'vitest';
import { redactSecretShapes, secretShapeIn, secretsInSpec, shapeMarker } from './secret-shapes.js';

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

// Built from parts, so no scanner takes these test values for live keys.
const KEYS = {
  anthropic: ['sk-ant-', 'api03-AbCdEfGhIjKlMnOpQrSt'].join(''),
  openai: ['sk-proj-', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghij'].join(''),
  github: ['ghp_', '16C7e42F292c6912E7710c838347Ae178B4a'].join(''),
  huggingFace: ['hf_', 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789'].join(''),
  stripe: ['sk_', 'live_', '4eC39HqLyjWDarjtT1zdp7dc'].join(''),
  slack: ['xoxb-', '1234567890-abcdefghijKLMN'].join(''),
  slackWebhook: ['hooks.slack.com/services/', 'T000AAAA/B000BBBB/XXXXXXXXXXXXXXXXXXXXXXXX'].join(''),
  aws: ['AKIA', 'IOSFODNN7EXAMPLE'].join(''),
  google: ['AIza', 'SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q'].join(''),
};

describe('redactSecretShapes', () => {
  test.for([
    [KEYS.anthropic, 'an Anthropic API key'],
    [KEYS.openai, 'an OpenAI API key'],
    [KEYS.github, 'a GitHub token'],
    [KEYS.huggingFace, 'a Hugging Face token'],
    [KEYS.stripe, 'a Stripe key'],
    [KEYS.slack, 'a Slack token'],
    [KEYS.aws, 'an AWS access key id'],
    [KEYS.google, 'a Google API key'],
  ] as const)('%s becomes the marker of %s, the text around it kept', ([key, what]) => {
    expect(redactSecretShapes(`the key ${key} in config.py is exposed`)).toBe(
      `the key [redacted: ${what}] in config.py is exposed`,
    );
  });

  test('a Slack webhook loses its path, its scheme stays', () => {
    expect(redactSecretShapes(`notify https://${KEYS.slackWebhook} now`)).toBe(
      'notify https://[redacted: a Slack webhook URL] now',
    );
  });

  test('a URL keeps its scheme, user, host and path; only the password goes', () => {
    expect(redactSecretShapes('postgres://trainer:hunter2:x@db.internal:5432/runs?ssl=1')).toBe(
      'postgres://trainer:[redacted: a password in a URL]@db.internal:5432/runs?ssl=1',
    );
    expect(redactSecretShapes('HTTPS_PROXY="http://bob:p4ss@proxy:3128"')).toBe(
      'HTTPS_PROXY="http://bob:[redacted: a password in a URL]@proxy:3128"',
    );
  });

  test('every occurrence of every shape in one text', () => {
    const text = [
      `OPENAI_API_KEY=${KEYS.openai}`,
      `again: ${KEYS.openai}, and ${KEYS.github}; hf=${KEYS.huggingFace}`,
      `aws ${KEYS.aws}/${KEYS.aws} via https://ci:${KEYS.stripe}@build.example/x`,
    ].join('\n');
    expect(redactSecretShapes(text)).toBe(
      [
        'OPENAI_API_KEY=[redacted: an OpenAI API key]',
        'again: [redacted: an OpenAI API key], and [redacted: a GitHub token]; hf=[redacted: a Hugging Face token]',
        'aws [redacted: an AWS access key id]/[redacted: an AWS access key id] via https://ci:[redacted: a Stripe key]@build.example/x',
      ].join('\n'),
    );
  });

  test('inside a JSON event line, after an escape such as \\n or \\u003c, and the line still parses', () => {
    const line = JSON.stringify({ text: `found:\n${KEYS.openai}\t${KEYS.github}`, html: `<${KEYS.google}>` });
    const escaped = line.replace(/</g, '\\u003c');
    const redacted = redactSecretShapes(escaped);
    expect(JSON.parse(redacted)).toEqual({
      text: 'found:\n[redacted: an OpenAI API key]\t[redacted: a GitHub token]',
      html: '<[redacted: a Google API key]>',
    });
  });

  test('idempotent: no marker is a shape, and a second pass changes nothing, keys glued together included', () => {
    for (const what of Object.values(KEYS).map((k) => secretShapeIn(`x ${k} `)?.what))
      expect(secretShapeIn(shapeMarker(what!))).toBeUndefined();
    const glued = [
      ...Object.values(KEYS),
      `https://u:${KEYS.google}@h`,
      `${KEYS.google}${KEYS.huggingFace}`,
      `${KEYS.aws}${KEYS.slack}`,
      `${KEYS.github}_${KEYS.openai}`,
      `hooks.slack.com/services/${KEYS.openai}`,
      `s://u:[redacted:DB_URL password]@h`,
    ];
    for (const sep of ['', ' ', '\\n', '-', '/', ':', '@']) {
      const once = redactSecretShapes(glued.join(sep));
      expect(once).not.toBe(glued.join(sep));
      expect(redactSecretShapes(once)).toBe(once);
    }
  });

  test.for([
    'Raise validation PSNR with scikit-learn style task-specific fine-tuning of the denoiser',
    'python eval.py --data https://huggingface.co/datasets/x --out s3://bucket/runs',
    'node bench.mjs --skip-warmup --disk-cache-dir /tmp/sk-cache',
    'http://localhost:8080?email=ada@example.com and {"url":"http://h:8080","mail":"a@b.c"}',
    `${KEYS.google}xyz is no Google key; see [redacted: an OpenAI API key] and [redacted:MY_TOKEN]`,
    '',
  ])('%s is left as it is, a key beside it redacted', (text) => {
    expect(redactSecretShapes(`${text}\n${KEYS.aws}`)).toBe(`${text}\n[redacted: an AWS access key id]`);
  });

  test('a 1 MB line of near-misses is read in linear time, and a key at its end is still found', () => {
    const near = ['a.', 'sk-', 'hf_', 'a://b:', 'AKIA', 'AIza', '\\n', 'xoxb-', 'a.a.a.a.a.a.a.a.a.a.a.a.a.a.a://u:p'];
    const started = performance.now();
    for (const unit of near) {
      const line = unit.repeat(Math.ceil(2 ** 20 / unit.length));
      expect(redactSecretShapes(`${line} ${KEYS.openai}`).endsWith(' [redacted: an OpenAI API key]')).toBe(true);
    }
    // Linear: well under a second for all (about 0.2 s here); a backtracking pattern takes minutes on one.
    expect(performance.now() - started).toBeLessThan(3000);
  });
});
