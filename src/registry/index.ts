/** Photometer registry: register event log → photometer versions and name mappings (design.md §1). */
export { recordRegisterEvents, loadEvents, type RecordResult } from './event-log.js';
export { foldRegistry, registeredBy, ADMIN_OPS } from './fold.js';
export { rebuildRegistry, type RebuildOptions, type RebuildResult } from './rebuild.js';
export { connectedComponent, type Component } from './component.js';
export { loadRegistrySnapshot, buildSnapshot, type RegistrySnapshot, type RegistryUnit } from './snapshot.js';
export { manualEvent, type AdminOpName } from './manual.js';
export { canonicalJson, eventHash } from './hash.js';
export { interpretPayload, payloadMismatch, type Interpretation } from './payload.js';
export * from './types.js';
