// What `require('vscode')` / `import 'vscode'` returns in the test bundles:
// the Proxy itself (a CommonJS export), not an ES module namespace.
module.exports = require('./vscode.ts').default;
