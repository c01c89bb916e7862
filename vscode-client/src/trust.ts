/**
 * Workspace trust. In Restricted Mode the server still reports torch uses and
 * fixes them, but the equivalence check, which executes code from the
 * workspace, is off.
 */

export const MANAGE_TRUST_COMMAND = 'workbench.trust.manage';
export const MANAGE_TRUST_ACTION = 'Manage Workspace Trust';

export const EQUIVALENCE_DISABLED_MESSAGE =
    'Paddleport: the equivalence check runs code from this workspace, so it is disabled in Restricted Mode. ' +
    'Trust the workspace to use it; diagnostics and fixes keep working.';

/** Whether the equivalence check may run. */
export function equivalenceAllowed(trusted: boolean): boolean {
    return trusted;
}

/** The refusal to show for a command, or undefined when it may run. */
export function refusalFor(command: string, trusted: boolean): string | undefined {
    if (command === 'paddleport.checkEquivalence' && !equivalenceAllowed(trusted)) {
        return EQUIVALENCE_DISABLED_MESSAGE;
    }
    return undefined;
}
