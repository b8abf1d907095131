/** DynamoDB Local could not start: one line that says what to install or check (the CLI prints it as is). */
export class LocalStartError extends Error {}
