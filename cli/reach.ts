import { probeAddress } from '../server/address.js';
import { type ConnectionFlags, type ConnectionSettings, resolveConnection } from '../server/connection-options.js';
import { TemporalUnreachableError } from './exit-codes.js';

/**
 * The connection settings, and a TCP probe of the address before any SDK loads: a refused port or
 * an unknown host is reported at once as such (exit 3), not after the gRPC client's timeout as
 * "deadline exceeded"; a malformed address or an unusable option is a usage error (exit 2).
 */
export async function reachable(flags: ConnectionFlags): Promise<ConnectionSettings> {
  const settings = resolveConnection(flags);
  const probe = await probeAddress(settings.host, settings.port);
  if (!probe.ok) throw new TemporalUnreachableError(settings.address, settings.namespace, probe.detail, probe.kind);
  return settings;
}
