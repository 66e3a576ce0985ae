/** Reading filters: the daylight flag (sql/004 `daylight_refresh`) and the settings the views read. */
export { DaylightRanges, refreshDaylight, refreshDaylightAll, daylightFlags, tentativeDaylight, DAYLIGHT_HALF_WINDOW } from './daylight.js';
export { syncSettings, readSettings, settingsOf, type DaylightMode } from './settings.js';
