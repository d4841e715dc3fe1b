/** The package version, compiled in (tsc copies package.json next to the build; esbuild inlines it). */
import pkg from '../package.json';

export const VERSION: string = pkg.version;
