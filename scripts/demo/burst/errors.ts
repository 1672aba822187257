/** The burst step could not run: its queue or Deployment is missing or they do not belong together. */
export class BurstSetupError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BurstSetupError';
  }
}
