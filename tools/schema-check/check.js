#!/usr/bin/env node
// Validates the project's JSON files against the JSON Schemas in specs/schema/ (draft 2020-12):
//   specs/chips/*.json                    -> spec.schema.json
//   specs/rules/*.json but metrics.json   -> rule.schema.json
//   specs/rules/metrics.json              -> metrics.schema.json
//   specs/licensing/*.json                -> licensing.schema.json
//   specs/countries/countries.json        -> countries.schema.json
//   specs/countries/groups.json           -> country-groups.schema.json
//   specs/countries/regions.json          -> regions.schema.json (when present)
//   tests/golden/license-*.json           -> license.schema.json
//   tests/golden/compare-*.json           -> comparison.schema.json
//   tests/golden/fleet-collection-*.json  -> fleet-collection.schema.json
//   tests/golden/*.json (other)           -> classification.schema.json (each element of an array)
//   tests/data/*measurement*.json         -> measurement.schema.json
//   tests/data/certificate-*.json         -> certificate-integrity.schema.json
//   tests/data/*history-export*.json      -> history-export.schema.json
//   specs/arch/cuda.json                  -> cuda-arch.schema.json
//   specs/arch/physical.json              -> physical.schema.json
//   specs/policy/findings.json            -> findings.schema.json
//   specs/envelopes/*.json                -> envelope.schema.json
//   tests/golden/certificate-*.json       -> certificate.schema.json
// Every schema in specs/schema/ is compiled, used or not, so a broken schema fails the run.
//
//   node tools/schema-check/check.js [REPO_ROOT]     (default: two levels above this script)
//
// Prints one line per failing file and a last line "N passed, M failed" (file counts).
// Exit 0 when all pass, 1 when any file fails, 2 when the checker cannot run.
'use strict';

const fs = require('fs');
const path = require('path');

function fatal(message) {
  console.error(`schema-check: error: ${message}`);
  process.exit(2);
}

let Ajv2020;
let addFormats;
try {
  Ajv2020 = require('ajv/dist/2020');
  addFormats = require('ajv-formats');
} catch (e) {
  if (e && e.code === 'MODULE_NOT_FOUND') {
    fatal(`${path.join(__dirname, 'node_modules')} is missing: run 'npm ci --prefix tools/schema-check' from the repository root first`);
  }
  throw e;
}

const root = path.resolve(process.argv[2] || path.join(__dirname, '..', '..'));
const schemaDir = path.join(root, 'specs', 'schema');
if (!fs.existsSync(schemaDir)) fatal(`${schemaDir} not found: expected the repository root as the first argument`);

function rel(file) {
  return path.relative(root, file) || file;
}

function jsonFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, {withFileTypes: true})
    .filter((d) => d.isFile() && d.name.endsWith('.json'))
    .map((d) => path.join(dir, d.name))
    .sort();
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// Strict mode catches schema mistakes (unknown keywords, required members with no definition,
// keywords without a type). Union types ("type": ["number", "null"]) are how the output schema
// spells nullable values, so they are allowed.
const ajv = new Ajv2020({strict: true, allowUnionTypes: true, allErrors: true});
addFormats(ajv);

const schemas = new Map();
for (const file of jsonFiles(schemaDir)) {
  // The API's OpenAPI document is not a JSON Schema: tools/openapi-check validates it.
  if (path.basename(file) === 'openapi.json') continue;
  let schema;
  try {
    schema = readJson(file);
    schemas.set(path.basename(file), ajv.compile(schema));
  } catch (e) {
    fatal(`${rel(file)}: ${e.message}`);
  }
}

function need(name) {
  const v = schemas.get(name);
  if (!v) fatal(`${rel(path.join(schemaDir, name))} is missing`);
  return v;
}

const chipsDir = path.join(root, 'specs', 'chips');
const rulesDir = path.join(root, 'specs', 'rules');
const licensingDir = path.join(root, 'specs', 'licensing');
const countriesDir = path.join(root, 'specs', 'countries');
const goldenDir = path.join(root, 'tests', 'golden');
const dataDir = path.join(root, 'tests', 'data');

// [file, validator, eachElementOfArray]
const jobs = [];
for (const f of jsonFiles(chipsDir)) jobs.push([f, need('spec.schema.json'), false]);
for (const f of jsonFiles(rulesDir)) {
  if (path.basename(f) === 'metrics.json') jobs.push([f, need('metrics.schema.json'), false]);
  else jobs.push([f, need('rule.schema.json'), false]);
}
for (const f of jsonFiles(licensingDir)) jobs.push([f, need('licensing.schema.json'), false]);
// The two country files are fixed names; a missing one fails like an unreadable file.
for (const [name, schema] of [['countries.json', 'countries.schema.json'], ['groups.json', 'country-groups.schema.json']]) {
  jobs.push([path.join(countriesDir, name), need(schema), false]);
}
// regions.json is optional for the loader; when present it is checked.
if (fs.existsSync(path.join(countriesDir, 'regions.json'))) jobs.push([path.join(countriesDir, 'regions.json'), need('regions.schema.json'), false]);
for (const f of jsonFiles(goldenDir)) {
  if (path.basename(f).startsWith('license-')) jobs.push([f, need('license.schema.json'), false]);
  else if (path.basename(f).startsWith('compare-')) jobs.push([f, need('comparison.schema.json'), false]);
  else if (path.basename(f).startsWith('fleet-collection-')) jobs.push([f, need('fleet-collection.schema.json'), false]);
  else if (path.basename(f).startsWith('certificate-')) jobs.push([f, need('certificate.schema.json'), false]);
  else jobs.push([f, need('classification.schema.json'), true]);
}
for (const f of jsonFiles(dataDir)) {
  if (path.basename(f).includes('measurement')) jobs.push([f, need('measurement.schema.json'), false]);
  // Certificates sealed by the tests (signing_test): the envelope and integrity block.
  if (path.basename(f).startsWith('certificate-')) jobs.push([f, need('certificate-integrity.schema.json'), false]);
  if (path.basename(f).includes('history-export')) jobs.push([f, need('history-export.schema.json'), false]);
}
// Read only by the CUDA backend, which CI cannot run: the schema is its check here.
jobs.push([path.join(root, 'specs', 'arch', 'cuda.json'), need('cuda-arch.schema.json'), false]);
jobs.push([path.join(root, 'specs', 'arch', 'physical.json'), need('physical.schema.json'), false]);
jobs.push([path.join(root, 'specs', 'policy', 'findings.json'), need('findings.schema.json'), false]);
for (const f of jsonFiles(path.join(root, 'specs', 'envelopes'))) jobs.push([f, need('envelope.schema.json'), false]);

function describe(err, prefix) {
  const at = prefix + (err.instancePath || '') || '/';
  let msg = err.message;
  if (err.keyword === 'additionalProperties') msg += ` '${err.params.additionalProperty}'`;
  else if (err.keyword === 'enum') msg += `: ${err.params.allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  else if (err.keyword === 'const') msg += `: ${JSON.stringify(err.params.allowedValue)}`;
  const name = err.propertyName || (err.params && err.params.propertyName);
  if (name !== undefined) msg += ` (property name '${name}')`;
  return `${at}: ${msg}`;
}

let passed = 0;
let failed = 0;
for (const [file, validate, eachElement] of jobs) {
  let doc;
  try {
    doc = readJson(file);
  } catch (e) {
    console.log(`${rel(file)}: ${e.message}`);
    failed++;
    continue;
  }
  const problems = [];
  const instances = eachElement && Array.isArray(doc) ? doc.map((d, i) => [d, `/${i}`]) : [[doc, '']];
  for (const [instance, prefix] of instances) {
    if (!validate(instance)) for (const err of validate.errors) problems.push(describe(err, prefix));
  }
  if (problems.length === 0) {
    passed++;
  } else {
    failed++;
    console.log(`${rel(file)}: ${problems.join('; ')}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
