import type { Dialect } from '../../types/options.ts';
import type { DialectAdapter } from './dialect.ts';
import { glmDialect } from './glm.ts';
import { kimiDialect } from './kimi.ts';
import { openaiDialect } from './openai.ts';

export const dialects: Readonly<Record<Dialect, DialectAdapter>> = {
  kimi: kimiDialect,
  glm: glmDialect,
  openai: openaiDialect,
};

export type { DialectAdapter } from './dialect.ts';
