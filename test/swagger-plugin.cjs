// ts-jest loads AST transformers with require() and expects { name, version, factory };
// @nestjs/swagger 12 ships its CLI plugin as ESM, so this adapter exposes it in that shape
// so that DTOs get the same OpenAPI metadata in tests as in the build (scripts/build.mjs).
const plugin = require('@nestjs/swagger/plugin');

module.exports = {
  name: 'nestjs-swagger-plugin',
  version: 1,
  factory: (tsCompiler, options) => plugin.before(options, tsCompiler.program),
};
