/**
 * `sessionpool/observe`: the views of a running supervisor (the offline live view, the Stately
 * inspector relay, Prometheus text, the session machine as JSON and Mermaid). The live view needs
 * the optional peer `ws`, the Stately relay `@statelyai/inspect`; each is imported when its view starts.
 * @packageDocumentation
 */
export { startLiveView } from './live-view.ts';
export type { LiveView, LiveViewOptions } from './live-view.ts';
export { startStatelyInspector } from './stately.ts';
export type { StatelyInspector, StatelyInspectorOptions } from './stately.ts';
export { formatPrometheus, PROMETHEUS_CONTENT_TYPE } from '../../api/public.ts';
export { sessionMachineJSON, machineConfigJSON } from './machine-export.ts';
export type { JsonRef, MachineConfigJSON, StateConfigJSON, TransitionConfigJSON } from './machine-export.ts';
export { machineToMermaid, sessionMachineMermaid } from './mermaid.ts';
export { MissingPeerDependencyError } from '../../api/public.ts';
