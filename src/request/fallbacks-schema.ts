// The schema of fallback targets, as options and requests write them (FallbackTarget).
import { z } from 'zod';

export const fallbacksSchema = z.array(z.strictObject({ provider: z.string().min(1), model: z.string().min(1).optional() })).max(8);
