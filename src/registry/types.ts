/** Types of the photometer registry: fold input, the versions and mappings it derives, and defaults. */
import type { RegisterEvent } from '../model/types.js';

export type EventSource = RegisterEvent['source'];
export type Model = RegisterEvent['model'];
export type ValidState = 'Current' | 'Expired';
export type Registered = 'Automatic' | 'Manual' | 'Imported' | 'Unknown';

/**
 * What the fold reads: a row of `register_events` (or a `RegisterEvent`, which has these fields).
 * Calibration, model and firmware are always read from `payload`, never from `RegisterEvent.channels`,
 * so a fold of in-memory events and a fold of the stored log agree.
 */
export interface FoldEvent {
  receivedAt: Date;
  name: string; // lower-cased
  mac: string; // normalised
  source: EventSource;
  payload: unknown;
  /** Hex sha256 event hash (tie-break for equal receipt times); computed when absent. */
  hash?: string;
}

/** The calibration and orientation columns of a photometer version, named as in the `photometers` table. */
export interface PhotometerCalibration {
  firmware: string | null;
  nchannels: number;
  zp1: number;
  zp2: number | null;
  zp3: number | null;
  zp4: number | null;
  filter1: string;
  filter2: string | null;
  filter3: string | null;
  filter4: string | null;
  offset1: number;
  offset2: number | null;
  offset3: number | null;
  offset4: number | null;
  azimuth: number;
  altitude: number;
  fov: number;
}

/** One row of `photometers` (SCD type 2 version of one device). */
export interface PhotometerVersion extends PhotometerCalibration {
  mac: string;
  model: Model;
  coverOffset: number;
  locationId: number;
  observerId: number;
  authorised: boolean;
  registered: Registered;
  validSince: Date;
  validUntil: Date;
  validState: ValidState;
}

/** One row of `name_to_mac`. */
export interface NameMapping {
  name: string;
  mac: string;
  validSince: Date;
  validUntil: Date;
  validState: ValidState;
}

/** What happened to one event, for logs and statistics (tessdb-server's counters). */
export type Outcome =
  | 'new'
  | 'rename'
  | 'replace'
  | 'override'
  | 'reboot'
  | 'recalibrated'
  | 'authorised'
  | 'unauthorised'
  | 'updated'
  | 'ignored';

export interface FoldNote {
  at: Date;
  name: string;
  mac: string;
  outcome: Outcome;
  detail?: string;
}

export interface RegistryFold {
  /** Ordered by (mac, validSince). */
  versions: PhotometerVersion[];
  /** Ordered by (name, validSince). */
  mappings: NameMapping[];
  /** One per input event, in fold order. */
  notes: FoldNote[];
}

/** valid_until of current rows. */
export const FOREVER = new Date('2999-12-31T23:59:59Z');
/** Zero point of an uncalibrated photometer (tessdb-server's default). */
export const DEFAULT_ZP = 20.5;
export const DEFAULT_FILTER = 'UVIR';
/** A zero point below this is a firmware fault and never changes the calibration. */
export const MIN_VALID_ZP = 10;
/** A zero point change at least this large starts a new version. */
export const ZP_CHANGE = 0.005;
/** Zero points an administrator may set (`set_zero_point`; the CLI refuses others). */
export const MIN_ADMIN_ZP = 10;
export const MAX_ADMIN_ZP = 30;
