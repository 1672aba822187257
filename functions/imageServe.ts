import { s3Client } from '../lib/aws/clients.ts';
import { loadImageServeConfig } from '../lib/config/imageServeConfig.ts';
import { createImageServeHandler } from '../lib/images/imageServeHandler.ts';
import { createSsmCryptKeySource } from '../lib/images/magento/cryptKeySource.ts';
import { magentoImagesOf } from '../lib/images/magentoImages.ts';
import { S3ServedObjectStore } from '../lib/images/servedObjectStore.ts';
import { createSecretsManagerSigningKeySource } from '../lib/images/signingKeySource.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';
import { traced } from '../lib/observability/tracer.ts';

// Parsed at cold start (the theme's view.xml files too): a bad deployment fails here with the variable's name.
const { bucket, settings, magento, signing } = loadImageServeConfig();

/** Function URL (behind CloudFront) → one image, a 304, a redirect or a plain-text refusal. */
export const handler = createImageServeHandler({
  settings,
  store: new S3ServedObjectStore(traced(s3Client()), bucket),
  telemetry: lambdaTelemetry,
  // Signing on: the keys are read from the secret at run time (cached for the TTL), never from the environment.
  signingKeys: signing && createSecretsManagerSigningKeySource(signing),
  // Magento's cache/<hash>/ URLs of the shop's theme (Luma unless MAGENTO_VIEW_XML names its files); the crypt key (hmac-md5) is read from SSM when first needed.
  magentoImages:
    magento &&
    magentoImagesOf({
      theme: magento.theme,
      algorithms: magento.algorithms,
      quality: magento.quality,
      cryptKeys: magento.cryptKeyParameter
        ? createSsmCryptKeySource({ parameterName: magento.cryptKeyParameter })
        : undefined,
    }),
});
