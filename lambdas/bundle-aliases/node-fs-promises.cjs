// node:fs/promises for the Lambda bundles: aliased with node:fs, whose alias would otherwise claim the subpath.
module.exports = process.getBuiltinModule('node:fs/promises');
