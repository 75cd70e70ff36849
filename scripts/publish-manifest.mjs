#!/usr/bin/env node
// What npm publishes of a package.json is what users install, so it carries nothing that only this repository
// can resolve. `prepack` (run by `npm pack` and `npm publish`, in the package's folder) writes the published
// form and keeps the original beside it; `postpack` puts the original back.
//
// Left out: devDependencies (our private @switchyard/testkit, and @switchyard/core, which every server bundles:
// a user's `npm install` inside the package must not ask the registry for them), and the scripts and `bundle`
// settings, which name files of this repository. npm reads the scripts before `prepack`, so `postpack` still
// runs.
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A package.json as published. */
export function publishedManifest(pkg) {
  const { devDependencies: _dev, bundle: _bundle, scripts: _scripts, ...published } = pkg;
  return published;
}

const file = 'package.json';
const original = 'package.json.repo';
const step = process.argv[2];

if (process.argv[1] !== fileURLToPath(import.meta.url)) {
  // imported for publishedManifest()
} else if (step === 'prepack') {
  if (existsSync(original))
    throw new Error(`${original} exists: a previous pack did not finish; restore it first`);
  const text = readFileSync(file, 'utf8');
  writeFileSync(original, text);
  writeFileSync(file, `${JSON.stringify(publishedManifest(JSON.parse(text)), null, 2)}\n`);
} else if (step === 'postpack') {
  if (existsSync(original)) renameSync(original, file);
} else {
  throw new Error('usage: publish-manifest.mjs prepack|postpack');
}
