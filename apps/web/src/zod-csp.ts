// Imported first by main.ts, before any schema is built. The page's CSP allows no eval; zod would otherwise
// probe `new Function` while building object schemas, and the browser logs every such probe as a CSP
// violation even though zod catches it and falls back to its plain parser.
import { config } from 'zod';

config({ jitless: true });
