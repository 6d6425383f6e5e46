import { describe, expect, test } from 'vitest';
import { latestRunLogins, renderRunLogins } from '../../cli/run-logins.js';
import { testdir } from '../helpers/testdir.js';

describe("the status card's runs line", () => {
  test('names the login, CLI version and model of the latest session whose runs say them', async () => {
    const runs = 'loop_station/sessions/session_002/runs';
    const root = await testdir({
      [`${runs}/CODEX-EXECUTOR.json`]: JSON.stringify({
        login: 'subscription',
        cliVersion: '0.169.0',
        model: 'gpt-5-codex',
      }),
      [`${runs}/CLAUDE-REVIEWER.json`]: JSON.stringify({ login: 'api_key', cliVersion: '2.1.330', model: 'sonnet' }),
      // A shell agent's result has no login; a run record is not a result.
      [`${runs}/TOY-REVIEWER.json`]: JSON.stringify({ status: 'exited' }),
      [`${runs}/CODEX-EXECUTOR.run.json`]: JSON.stringify({ login: 'x' }),
      'loop_station/sessions/session_003/flags.txt': '',
    });
    const found = await latestRunLogins(root, 3);
    expect(found.map((r) => [r.session, r.run, r.login])).toEqual([
      [2, 'CLAUDE-REVIEWER', 'api_key'],
      [2, 'CODEX-EXECUTOR', 'subscription'],
    ]);
    expect(renderRunLogins(found)).toBe(
      'runs of session 002: CLAUDE-REVIEWER on API key (cli 2.1.330, model sonnet); ' +
        'CODEX-EXECUTOR on subscription login (cli 0.169.0, model gpt-5-codex)',
    );
  });

  test('a root not on this machine, or runs without logins: nothing to say', async () => {
    expect(await latestRunLogins('/nonexistent/root', 4)).toEqual([]);
    expect(renderRunLogins([])).toBeUndefined();
  });
});
