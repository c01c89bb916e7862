// Bundles the extension into dist/extension.js (`vscode` stays external),
// or, with --tests, each vscode-client/test/*.test.ts into out/test/ with
// `vscode` replaced by the stub in vscode-client/test/stub/.
//
//   node esbuild.mjs            production bundle (minified)
//   node esbuild.mjs --dev      with source maps, not minified
//   node esbuild.mjs --watch    rebuild on change
//   node esbuild.mjs --tests    test bundles
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const args = new Set(process.argv.slice(2));
const watch = args.has('--watch');
const dev = args.has('--dev') || watch;

const common = {
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
};

async function buildExtension() {
    const options = {
        ...common,
        entryPoints: ['vscode-client/src/extension.ts'],
        outfile: 'dist/extension.js',
        external: ['vscode'],
        minify: !dev,
        sourcemap: dev ? 'linked' : false,
        sourcesContent: false,
    };
    if (watch) {
        const context = await esbuild.context(options);
        await context.watch();
        console.log('esbuild: watching vscode-client/src');
        return;
    }
    rmSync('dist', { recursive: true, force: true });
    await esbuild.build(options);
}

async function buildTests() {
    const testDir = 'vscode-client/test';
    const entryPoints = readdirSync(testDir)
        .filter((name) => name.endsWith('.test.ts'))
        .map((name) => join(testDir, name));
    rmSync('out/test', { recursive: true, force: true });
    await esbuild.build({
        ...common,
        entryPoints,
        outdir: 'out/test',
        sourcemap: 'inline',
        alias: { vscode: './vscode-client/test/stub/index.cjs' },
    });
}

if (args.has('--tests')) {
    await buildTests();
} else {
    await buildExtension();
}
