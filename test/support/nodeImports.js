/**
 * A jest transform for the OTLP exporter's transport, which loads `http`/`https` with a dynamic
 * `import()`: jest's module sandbox refuses a native dynamic import (unless Node runs with
 * --experimental-vm-modules), so here it becomes the `require` of the same built-in module. Outside
 * jest the exporter runs as published.
 */
module.exports = {
  process(source) {
    return { code: source.replace(/\bimport\((['"])(https?)\1\)/g, 'Promise.resolve(require("$2"))') };
  },
};
