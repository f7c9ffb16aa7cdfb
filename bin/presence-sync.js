#!/usr/bin/env node
'use strict';
// The CLI entry (`npx presence-sync <command>`). `npm ci` builds dist/ through the prepare script.
const path = require('node:path');
const fs = require('node:fs');
const entry = path.join(__dirname, '..', 'dist', 'apps', 'presence-sync', 'src', 'cli.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('presence-sync: not built yet: run `npm run build` (npm ci does it for you)\n');
  process.exit(1);
}
require(entry)
  .main(process.argv)
  .then((code) => process.exit(code))
  .catch((e) => {
    process.stderr.write(`presence-sync: unexpected error: ${e && e.stack ? e.stack : e}\n`);
    process.exit(1);
  });
