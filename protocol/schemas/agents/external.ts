import { z } from 'zod';

/** An agent the engine does not launch (`agent: external`): it writes its own flags, watched on disk. */

export const ExternalOptionsSchema = z.strictObject({});
