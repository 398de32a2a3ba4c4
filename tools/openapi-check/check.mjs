#!/usr/bin/env node
// Checks the API contract, specs/schema/openapi.json:
//   1. the document is a valid OpenAPI 3.1 document (@seriousme/openapi-schema-validator);
//   2. with RESPONSES (a JSON file the serve tests record: [{method, route, status, content_type,
//      body}]), every recorded response is documented for its route, method and status, with its
//      media type, and its body validates against the documented schema (ajv, JSON Schema 2020-12,
//      with the project's schemas in specs/schema/ for the $refs).
//
//   node tools/openapi-check/check.mjs REPO_ROOT [RESPONSES]
//
// Prints one line per problem and a last line "N passed, M failed"; exit 0 when all pass, 1 when
// any fails, 2 when the checker cannot run.
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';

const require = createRequire(import.meta.url);
function fatal(message) {
  console.error(`openapi-check: error: ${message}`);
  process.exit(2);
}

let Validator;
let Ajv2020;
let addFormats;
try {
  ({Validator} = await import('@seriousme/openapi-schema-validator'));
  Ajv2020 = require('ajv/dist/2020');
  addFormats = require('ajv-formats');
} catch (e) {
  fatal(`${path.join(path.dirname(new URL(import.meta.url).pathname), 'node_modules')} is incomplete (${e.message}): run 'npm ci --prefix tools/openapi-check' first`);
}

const root = path.resolve(process.argv[2] || '.');
const docFile = path.join(root, 'specs', 'schema', 'openapi.json');
if (!fs.existsSync(docFile)) fatal(`${docFile} not found: expected the repository root as the first argument`);
const doc = JSON.parse(fs.readFileSync(docFile, 'utf8'));

let passed = 0;
let failed = 0;
const fail = (msg) => {
  console.log(msg);
  failed++;
};

const validator = new Validator();
// The response schemas refer to the project's schemas by their $id.
const schemaDir = path.join(root, 'specs', 'schema');
const schemaFiles = fs.readdirSync(schemaDir).filter((n) => n.endsWith('.schema.json')).sort();
for (const f of schemaFiles) {
  const s = JSON.parse(fs.readFileSync(path.join(schemaDir, f), 'utf8'));
  if (s.$id) await validator.addSpecRef(s, s.$id);
}
const res = await validator.validate(structuredClone(doc));
if (!res.valid) fail(`specs/schema/openapi.json: not a valid OpenAPI document: ${JSON.stringify(res.errors)}`);
else if (!String(doc.openapi).startsWith('3.1')) fail(`specs/schema/openapi.json: openapi ${doc.openapi}: expected 3.1.x`);
else passed++;

const responsesFile = process.argv[3];
if (responsesFile) {
  // The document's schemas, and the project's, in one ajv instance; the OpenAPI document itself is
  // registered under an $id so that '#/components/...' references resolve inside it.
  const ajv = new Ajv2020({strict: false, allowUnionTypes: true, allErrors: true});
  addFormats(ajv);
  for (const f of schemaFiles)
    ajv.addSchema(JSON.parse(fs.readFileSync(path.join(schemaDir, f), 'utf8')));
  const docId = 'https://chipgauge.invalid/specs/schema/openapi.json';
  ajv.addSchema({$id: docId, components: doc.components, paths: doc.paths});
  const pointer = (...parts) => parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
  // Problems answered before any route is known (404, 405, the transport's limits) are documented
  // once, as shared responses; POST /v1/classify lists every one of them.
  const sharedResponses = doc.paths['/v1/classify'].post.responses;

  const recorded = JSON.parse(fs.readFileSync(responsesFile, 'utf8'));
  const compiled = new Map();
  for (const [i, r] of recorded.entries()) {
    const where = `response ${i} (${r.method} ${r.route} -> ${r.status})`;
    const method = r.method === 'HEAD' ? 'get' : r.method.toLowerCase();
    const op = doc.paths[r.route] && doc.paths[r.route][method];
    const key = String(r.status);
    if (!op && r.status < 400) {
      fail(`${where}: ${r.method} ${r.route} is not a documented operation`);
      continue;
    }
    const entry = op ? op.responses[key] : sharedResponses[key];
    if (!entry) {
      fail(`${where}: status ${r.status} is not documented${op ? '' : ' among the shared responses'}`);
      continue;
    }
    if (!op && !entry.$ref) {
      fail(`${where}: status ${r.status} is not among the shared problem responses`);
      continue;
    }
    const base = entry.$ref ? ['components', 'responses', entry.$ref.split('/').pop()] : ['paths', r.route, method, 'responses', key];
    const response = entry.$ref ? doc.components.responses[entry.$ref.split('/').pop()] : entry;
    const media = String(r.content_type || '').split(';')[0].trim().toLowerCase();
    const content = response.content && response.content[media];
    if (!content) {
      fail(`${where}: media type '${media}' is not documented (expected ${Object.keys(response.content || {}).join(', ') || 'no body'})`);
      continue;
    }
    if (media !== 'application/json' && media !== 'application/problem+json') {
      passed++;
      continue;
    }
    let body;
    try {
      body = JSON.parse(r.body);
    } catch (e) {
      fail(`${where}: the body is not JSON: ${e.message}`);
      continue;
    }
    const schemaRef = `${docId}#/${pointer(...base, 'content', media, 'schema')}`;
    let validate = compiled.get(schemaRef);
    if (!validate) {
      validate = ajv.compile({$ref: schemaRef});
      compiled.set(schemaRef, validate);
    }
    if (validate(body)) passed++;
    else fail(`${where}: ${validate.errors.slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}`).join('; ')}`);
  }
}

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
