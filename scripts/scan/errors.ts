/** Base class of every error scripts/scan throws. */
export class ScanError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ScanError';
  }
}

/** A scanner is not installed where scripts/scan/install.sh puts it (or not on PATH); says how to install it. */
export class ScannerMissingError extends ScanError {
  readonly tool: string;
  constructor(tool: string, hint: string, options?: ErrorOptions) {
    super(`${tool} is not installed: ${hint}`, options);
    this.name = 'ScannerMissingError';
    this.tool = tool;
  }
}

/** A scanner ran but failed, or printed something that is not its report; carries its exit code and stderr. */
export class ScannerFailedError extends ScanError {
  readonly tool: string;
  readonly exitCode: number | undefined;
  constructor(tool: string, detail: string, exitCode: number | undefined, options?: ErrorOptions) {
    super(`${tool} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${detail}`, options);
    this.name = 'ScannerFailedError';
    this.tool = tool;
    this.exitCode = exitCode;
  }
}

/** A baseline file is malformed; names the file and the entry. */
export class BaselineError extends ScanError {
  readonly file: string;
  constructor(file: string, detail: string, options?: ErrorOptions) {
    super(`${file}: ${detail}`, options);
    this.name = 'BaselineError';
    this.file = file;
  }
}
