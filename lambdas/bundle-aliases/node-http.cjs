// node:http for the Lambda bundles, without its ESM facade (see lib/constructs/project-function.ts, BUNDLE_ALIASES).
module.exports = process.getBuiltinModule('node:http');
