import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { parseAddress, probeAddress } from '../../server/address.js';
import { ConnectionOptionError, resolveConnection } from '../../server/connection-options.js';

/** Connection options as a user gets them wrong: each error names the option, the value and the fix. */

let dir: string;
/** No TEMPORAL_* from the machine running the tests, and a config folder of our own. */
let env: NodeJS.ProcessEnv;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ls-conn-'));
  env = { HOME: dir, XDG_CONFIG_HOME: join(dir, 'config') };
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const failure = (run: () => unknown): ConnectionOptionError => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConnectionOptionError);
    return error as ConnectionOptionError;
  }
  throw new Error('expected a ConnectionOptionError');
};

describe('parseAddress', () => {
  test.for([
    ['127.0.0.1:7233', { host: '127.0.0.1', port: 7233 }],
    ['temporal.internal:443', { host: 'temporal.internal', port: 443 }],
    ['[::1]:7233', { host: '::1', port: 7233 }],
    ['127.0.0.1', { problem: 'has no port' }],
    ['http://127.0.0.1:7233', { problem: 'has a scheme; an address is host:port without one' }],
    ['host:70000', { problem: 'port "70000" is not a number from 1 to 65535' }],
    ['host:http', { problem: 'port "http" is not a number from 1 to 65535' }],
    ['bad host:7233', { problem: 'host "bad host" is not a host name or IPv4 address' }],
    ['::1:7233', { problem: 'has no port' }],
    ['', { problem: 'is empty' }],
  ] as const)('%s', ([address, parsed]) => {
    expect(parseAddress(address)).toEqual(parsed);
  });
});

describe('resolveConnection', () => {
  test('the defaults, with no flags, variables or config file', () => {
    expect(resolveConnection({}, env)).toMatchObject({
      address: '127.0.0.1:7233',
      namespace: 'default',
      host: '127.0.0.1',
      port: 7233,
    });
  });

  test('a malformed address names where it came from', () => {
    expect(failure(() => resolveConnection({ address: 'localhost' }, env)).message).toBe(
      '--address localhost: has no port\n  fix: give host:port, such as 127.0.0.1:7233 or my-namespace.a1b2c.tmprl.cloud:7233',
    );
    expect(
      failure(() => resolveConnection({}, { ...env, TEMPORAL_ADDRESS: 'http://x:1' })).message.split('\n')[0],
    ).toBe('TEMPORAL_ADDRESS http://x:1: has a scheme; an address is host:port without one');
  });

  test('--tls-ca-path at a missing file names the flag, the path and the fix', () => {
    const missing = join(dir, 'nope/ca.pem');
    expect(failure(() => resolveConnection({ tlsCaPath: missing }, env)).message).toBe(
      `--tls-ca-path ${missing}: no such file\n  fix: give the path of the CA certificate that signed the server certificate (a PEM file)`,
    );
    expect(failure(() => resolveConnection({ tlsCaPath: dir }, env)).problem).toBe('is a folder, not a file');
  });

  test('--tls-cert-path without --tls-key-path, and the other way round', () => {
    const cert = failure(() => resolveConnection({ tlsCertPath: 'client.pem' }, env));
    expect([cert.option, cert.value, cert.message.split('\n')[1]]).toEqual([
      '--tls-cert-path',
      'client.pem',
      '  fix: mTLS takes the client certificate and its key: pass both, or neither',
    ]);
    expect(failure(() => resolveConnection({ tlsKeyPath: 'client.key' }, env)).message.split('\n')[0]).toBe(
      '--tls-key-path client.key: needs --tls-cert-path too',
    );
  });

  test('a TEMPORAL_TLS_*_PATH variable at a missing file names the variable', () => {
    const error = failure(() => resolveConnection({}, { ...env, TEMPORAL_TLS_SERVER_CA_CERT_PATH: '/nowhere/ca.pem' }));
    expect(error.message.split('\n')[0]).toBe('TEMPORAL_TLS_SERVER_CA_CERT_PATH /nowhere/ca.pem: no such file');
  });

  test('an unknown profile names the config file read and the profiles it has', async () => {
    const file = join(dir, 'config/temporalio/temporal.toml');
    expect(failure(() => resolveConnection({}, { ...env, TEMPORAL_PROFILE: 'nope' })).message).toBe(
      `TEMPORAL_PROFILE nope: no such profile (${file} does not exist)\n` +
        `  fix: set TEMPORAL_PROFILE to one of its profiles, or unset it, or add [profile.nope] to ${file}`,
    );
    await mkdir(join(dir, 'config/temporalio'), { recursive: true });
    await writeFile(
      file,
      '[profile.default]\naddress = "127.0.0.1:7233"\n\n[profile.prod]\naddress = "prod.example:7233"\nnamespace = "loops"\n',
    );
    expect(failure(() => resolveConnection({ profile: 'nope' }, env)).message).toBe(
      `--profile nope: no such profile (${file} has default, prod)\n` +
        `  fix: pass one of its profiles, or add [profile.nope] to ${file}`,
    );
    expect(resolveConnection({ profile: 'prod' }, env)).toMatchObject({
      address: 'prod.example:7233',
      namespace: 'loops',
    });
    const other = join(dir, 'other.toml');
    await writeFile(other, '[profile.a]\naddress = "a:1"\n');
    expect(
      failure(() => resolveConnection({}, { ...env, TEMPORAL_CONFIG_FILE: other, TEMPORAL_PROFILE: 'b' })).problem,
    ).toBe(`no such profile (${other} has a)`);
  });
});

describe('probeAddress', () => {
  test('a closed port is refused at once, named with the address', async () => {
    const server = createServer();
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    await new Promise((resolve) => server.close(resolve));
    expect(await probeAddress('127.0.0.1', port)).toEqual({
      ok: false,
      kind: 'refused',
      detail: `connection refused: nothing listens on 127.0.0.1:${port}`,
    });
  });

  test('a listening port is reachable', async () => {
    const server = createServer((socket) => socket.destroy());
    const port = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
    );
    try {
      expect(await probeAddress('127.0.0.1', port)).toEqual({ ok: true });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  test('a host name that does not resolve is an unknown host', async () => {
    // .invalid never resolves (RFC 2606), online or offline.
    const result = await probeAddress('no-such-host.invalid', 7233);
    expect(result).toMatchObject({ ok: false, kind: 'unknown-host' });
    expect(result.ok ? '' : result.detail).toMatch(/^unknown host no-such-host\.invalid: /);
  });
});
