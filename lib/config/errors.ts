/**
 * Base of the configuration errors: the environment of a function is missing a variable or carries
 * a malformed one. Thrown at cold start, so a bad deployment fails before it handles an event;
 * `variables` names what an operator has to fix.
 */
export class ConfigError extends Error {
  readonly variables: readonly string[];

  constructor(message: string, variables: readonly string[], options?: ErrorOptions) {
    super(message, options);
    this.name = 'ConfigError';
    this.variables = variables;
  }
}

/** One problem the schema found, by variable. */
export interface VariableProblem {
  /** The variable's name; `(env)` for a problem of the environment as a whole. */
  readonly variable: string;
  /** Where in the variable, for JSON-valued ones: `IMAGE_PRESETS.0.width`; else the name. */
  readonly path: string;
  readonly problem: string;
}

/** Variables that are missing or malformed on their own (the schema's findings, all of them). */
export class InvalidVariablesError extends ConfigError {
  readonly problems: readonly VariableProblem[];

  constructor(problems: readonly VariableProblem[], options?: ErrorOptions) {
    super(
      `invalid configuration: ${problems.map((p) => `${p.path}: ${p.problem}`).join('; ')}`,
      [...new Set(problems.map((p) => p.variable))],
      options,
    );
    this.name = 'InvalidVariablesError';
    this.problems = problems;
  }
}

/** Variables that are each well-formed but do not fit together (one must lie below another, …). */
export class ConflictingVariablesError extends ConfigError {
  constructor(variables: readonly string[], rule: string, options?: ErrorOptions) {
    super(`invalid configuration: ${rule}`, variables, options);
    this.name = 'ConflictingVariablesError';
  }
}

/**
 * A file a variable names (shipped in the function's package) is missing or cannot be read as it must
 * be. `file` is the path as the variable gives it, so the message points at the file in the repository.
 */
export class InvalidConfigFileError extends ConfigError {
  readonly file: string;

  constructor(variable: string, file: string, problem: string, options?: ErrorOptions) {
    super(`invalid configuration: ${variable}: ${file}: ${problem}`, [variable], options);
    this.name = 'InvalidConfigFileError';
    this.file = file;
  }
}
