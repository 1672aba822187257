// The media-layout parts of serverless.yml that depend on how many media roots a shop has: one S3
// notification per root and event type (a notification filter takes one prefix), and the IAM
// resources of the originals. Everything comes from the stage params `mediaBucketName`,
// `mediaKeyPrefix` (itself `${param:mediaStoragePrefix}media/`, the key of Magento's media directory)
// and `mediaRoots`; lib/images/keyLayout.ts documents the keys Magento writes.

const rootPattern = /^[^/]([^/]|\/(?!\/))*\/$/;

async function layout(resolveVariable) {
  const storagePrefix = String((await resolveVariable('param:mediaStoragePrefix')) ?? '');
  // '' or ending in '/': `example-shop/` is the prefix Magento normalises `example-shop` to, and
  // serverless.yml appends `media/` and `derived/` to it as it is.
  if (storagePrefix !== '' && !rootPattern.test(storagePrefix)) {
    throw new Error(
      `param mediaStoragePrefix must be '' or end in '/' without a leading '/' (Magento's --remote-storage-prefix, e.g. 'example-shop/'), got '${storagePrefix}'`,
    );
  }
  const keyPrefix = String(await resolveVariable('param:mediaKeyPrefix'));
  const roots = String(await resolveVariable('param:mediaRoots'))
    .split(',')
    .map((root) => root.trim());
  for (const root of roots) {
    if (!rootPattern.test(root)) {
      throw new Error(`param mediaRoots: '${root}' must not start with '/' and must end with '/'`);
    }
    // S3 refuses notifications of one event type whose prefixes overlap.
    const outer = roots.find((other) => other !== root && root.startsWith(other));
    if (outer !== undefined) throw new Error(`param mediaRoots: '${root}' lies inside '${outer}'`);
  }
  return { keyPrefix, roots, bucket: String(await resolveVariable('param:mediaBucketName')) };
}

/** MediaBucket's LambdaConfigurations: created and removed, for each root. */
export async function notifications({ resolveVariable }) {
  const { keyPrefix, roots } = await layout(resolveVariable);
  return ['s3:ObjectCreated:*', 's3:ObjectRemoved:*'].flatMap((event) =>
    roots.map((root) => ({
      Event: event,
      Function: { 'Fn::GetAtt': ['ImageVariantsLambdaFunction', 'Arn'] },
      Filter: { S3Key: { Rules: [{ Name: 'prefix', Value: `${keyPrefix}${root}` }] } },
    })),
  );
}

/** The object ARNs of every root's originals (the roles that read originals). */
export async function originalsArns({ resolveVariable }) {
  const { keyPrefix, roots, bucket } = await layout(resolveVariable);
  return roots.map((root) => ({ 'Fn::Sub': `arn:\${AWS::Partition}:s3:::${bucket}/${keyPrefix}${root}*` }));
}

/**
 * The CloudFront S3 origin's OriginPath that maps a storefront URL path (`/media/catalog/…`,
 * `/derived/…`) onto the shop's keys: '/' + the storage prefix without its slash, or '' without one.
 */
export async function originPath({ resolveVariable }) {
  await layout(resolveVariable);
  const storagePrefix = String((await resolveVariable('param:mediaStoragePrefix')) ?? '');
  return storagePrefix === '' ? '' : `/${storagePrefix.slice(0, -1)}`;
}

/**
 * The s3:prefix values the image roles may list the bucket with: every root's originals and the
 * derived prefix, the only keys their code heads, gets or lists. S3 answers a HEAD/GET of a missing
 * key 404 (not 403) when the caller may list the bucket with that key as the prefix, so a miss under
 * these prefixes stays a 404 while a listing of the rest of the bucket (other shops, Magento's own
 * folders) is refused.
 */
export async function listedPrefixes({ resolveVariable }) {
  const { keyPrefix, roots } = await layout(resolveVariable);
  const derivedPrefix = String(await resolveVariable('param:derivedPrefix'));
  return [...roots.map((root) => `${keyPrefix}${root}*`), `${derivedPrefix}*`];
}
