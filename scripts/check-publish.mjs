#!/usr/bin/env node
// Guards `npm run publish`: the store needs the publisher's Raycast username as `author`, which
// only the publisher knows. Until someone replaces the placeholder, publishing stops here.
import { readFileSync } from "node:fs";

const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
if (!manifest.author || /REPLACE_WITH/.test(manifest.author)) {
  console.error(
    `package.json "author" is still the placeholder "${manifest.author}".\n` +
      "Set it to your Raycast Store username (raycast.com/<username>) before publishing.",
  );
  process.exit(1);
}
console.log(`Publishing as ${manifest.author}.`);
