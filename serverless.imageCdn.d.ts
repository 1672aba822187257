/** Types of serverless.imageCdn.js (a plain module because serverless.yml's `${file()}` loads it). */
export interface MediaLayoutOfEdge {
  readonly mediaPrefix: string;
  readonly roots: readonly string[];
  readonly derivedPrefix: string;
}

export function cloudfrontFunctionCode(layout: MediaLayoutOfEdge): string;

export function functionCode(options: {
  resolveVariable: (name: string) => Promise<unknown>;
}): Promise<string>;
