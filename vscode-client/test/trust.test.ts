import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readSettings } from '../src/settings';
import { EQUIVALENCE_DISABLED_MESSAGE, equivalenceAllowed, refusalFor } from '../src/trust';

describe('workspace trust', () => {
    it('refuses only the equivalence check when untrusted', () => {
        assert.equal(equivalenceAllowed(false), false);
        assert.equal(refusalFor('paddleport.checkEquivalence', false), EQUIVALENCE_DISABLED_MESSAGE);
        assert.equal(refusalFor('paddleport.checkEquivalence', true), undefined);
        for (const command of ['paddleport.convertFile', 'paddleport.convertWorkspace', 'paddleport.showRule', 'paddleport.debugInfo']) {
            assert.equal(refusalFor(command, false), undefined, command);
        }
    });

    it('tells the server equivalenceEnabled: false when untrusted', () => {
        const reader = { get: () => undefined };
        const vars = { userHome: '/h', env: {} };
        assert.equal(readSettings(reader, false, vars).equivalenceEnabled, false);
        assert.equal(readSettings(reader, true, vars).equivalenceEnabled, true);
    });

    it('is declared in package.json: limited support, interpreters and rule folders restricted, command hidden', () => {
        const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
        assert.deepEqual(manifest.capabilities.untrustedWorkspaces.supported, 'limited');
        assert.deepEqual(manifest.capabilities.untrustedWorkspaces.restrictedConfigurations, [
            'paddleport.extraRuleFolders',
            'paddleport.interpreter',
            'paddleport.kernelInterpreter',
        ]);
        const palette = manifest.contributes.menus.commandPalette.find(
            (entry: { command: string }) => entry.command === 'paddleport.checkEquivalence',
        );
        assert.match(palette.when, /isWorkspaceTrusted/);
    });
});
