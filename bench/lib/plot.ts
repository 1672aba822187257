import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import * as vegaLite from 'vega-lite';

/** Renders a vega-lite spec to an SVG file (no canvas needed). */
export async function writePlot(path: string, spec: TopLevelSpec): Promise<void> {
  const compiled = vegaLite.compile(spec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  const svg = await view.toSVG();
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, svg);
}
