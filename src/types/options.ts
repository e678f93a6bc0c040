import type { Observer } from 'xstate';
import type { InspectionEvent } from 'xstate';
/** An XState inspection observer or callback, attached to every session actor. */
export type InspectOption = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export type Dialect = 'kimi' | 'glm' | 'openai';
