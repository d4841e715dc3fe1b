/**
 * The package version, compiled in (tsc copies package.json next to the build; esbuild inlines
 * only this field, so the bundle does not carry the repository's dependency list).
 */
import { version } from '../package.json';

export const VERSION: string = version;
