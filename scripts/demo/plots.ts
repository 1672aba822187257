import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePlot } from '../../bench/lib/plot.ts';
import { type DemoData, plotSpecs, type ReportPlots } from './report.ts';

/** Renders the report's three plots to `<dir>/<name>.svg` (bench/lib/plot.ts) and returns the SVG text for inlining. */
export async function renderPlots(data: DemoData, dir: string): Promise<ReportPlots> {
  const specs = plotSpecs(data);
  const render = async (name: keyof ReportPlots): Promise<string> => {
    const file = join(dir, `${name}.svg`);
    await writePlot(file, specs[name]);
    return readFileSync(file, 'utf8');
  };
  return { queue: await render('queue'), rollouts: await render('rollouts'), images: await render('images') };
}
