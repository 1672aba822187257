import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestsDir, render, shopOverlays } from '../../helpers/manifests.ts';
import { basePlaceholders, exampleValues, originAccessOf } from '../../helpers/originAccess.ts';

const exampleOverlay = 'overlays/example-shop';
const repoRoot = join(manifestsDir, '..');

const scratch = mkdtempSync(join(tmpdir(), 'm2-origin-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/**
 * A new shop made as "Adding a shop" says: `cp -r overlays/example-shop overlays/<shop>` (here in a
 * scratch directory, its base by a relative path: kustomize takes no absolute one), then its origin-verify.env written — or not.
 */
function copiedShop(name: string, originVerifyEnv?: string): string {
  const dir = join(scratch, name);
  cpSync(join(manifestsDir, exampleOverlay), dir, { recursive: true });
  const kustomization = join(dir, 'kustomization.yaml');
  writeFileSync(
    kustomization,
    readFileSync(kustomization, 'utf8').replace(
      '- ../../base',
      `- ${relative(dir, join(manifestsDir, 'base'))}`,
    ),
  );
  if (originVerifyEnv !== undefined) writeFileSync(join(dir, 'origin-verify.env'), originVerifyEnv);
  return dir;
}

const secret = () => randomBytes(32).toString('hex');
const envFile = (current: string, next: string) =>
  `ORIGIN_VERIFY_CURRENT=${current}\nORIGIN_VERIFY_NEXT=${next}\n`;

describe('the origin only CloudFront reaches', () => {
  it.each(shopOverlays)('%s admits only CloudFront, and only with its origin-verify header', (overlay) => {
    // Act
    const access = originAccessOf(render(overlay).objects, overlay === exampleOverlay);

    // Assess
    expect(access.problems).toEqual([]);
    expect(access.prefixLists).toHaveLength(1);
  });

  it('the base admits nobody: placeholders until an overlay sets the prefix list and the values', () => {
    // Act
    const access = originAccessOf(render('base').objects, false);

    // Assess
    expect(access.prefixLists).toEqual([basePlaceholders.prefixList]);
    expect(access.headerValues).toEqual(basePlaceholders.values);
    expect(access.problems).toEqual([
      "prefix list is the base's placeholder",
      "current value is the base's placeholder",
      "next value is the base's placeholder",
    ]);
  });

  it('the example carries public placeholders that say so', () => {
    const access = originAccessOf(render(exampleOverlay).objects, true);
    expect(access.headerValues).toEqual(exampleValues);
    for (const value of access.headerValues) expect(value).toContain('not-a-secret');
  });

  it("refuses a copied shop that kept the example's values", () => {
    // Prepare: cp -r keeps the example's origin-verify.env.
    const shop = copiedShop('kept-example');

    // Act
    const access = originAccessOf(render(shop).objects, false);

    // Assess
    expect(access.problems).toEqual([
      "current value is the example's public placeholder",
      "next value is the example's public placeholder",
    ]);
  });

  it.each([
    [
      'the same value twice',
      (v: string) => envFile(v, v),
      'two distinct values (current, next) expected, got 1 of 2',
    ],
    [
      'a wildcard in a value',
      (v: string) => envFile(`${v.slice(1)}*`, secret()),
      'current value is not 64 lowercase hex digits',
    ],
    [
      'upper-case hex',
      (v: string) => envFile(v.toUpperCase(), secret()),
      'current value is not 64 lowercase hex digits',
    ],
  ])('refuses a shop with %s', (name, env, problem) => {
    const shop = copiedShop(name.replaceAll(' ', '-'), env(secret()));
    expect(originAccessOf(render(shop).objects, false).problems).toEqual([problem]);
  });

  it('takes a real shop’s two values into its ALB rule, and nowhere else in the output', () => {
    // Prepare
    const [current, next] = [secret(), secret()];
    const shop = copiedShop('real-values', envFile(current, next));

    // Act
    const rendering = render(shop);
    const access = originAccessOf(rendering.objects, false);

    // Assess: the generator's ConfigMap is local-config, dropped from what is applied.
    expect(access.problems).toEqual([]);
    expect(access.headerValues).toEqual([current, next]);
    expect(rendering.yaml.split(current)).toHaveLength(2);
    expect(rendering.yaml.split(next)).toHaveLength(2);
    expect(rendering.objects.filter((o) => o.metadata.name.startsWith('m2-origin-verify'))).toEqual([]);
  });

  it('cannot render a shop without its origin-verify.env (no silent placeholder)', () => {
    // Prepare
    const shop = copiedShop('no-env');
    rmSync(join(shop, 'origin-verify.env'));

    // Act
    const result = spawnSync('kubectl', ['kustomize', shop], { encoding: 'utf8' });

    // Assess
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('origin-verify.env');
  });

  it("keeps every shop's origin-verify.env out of git, except the example's", () => {
    const ignored = (path: string) =>
      spawnSync('git', ['check-ignore', '--quiet', '--no-index', path], { cwd: repoRoot }).status;
    expect(ignored('k8s-manifests/overlays/acme-shop/origin-verify.env')).toBe(0);
    expect(ignored('k8s-manifests/overlays/example-shop/origin-verify.env')).toBe(1);
  });
});
