import { s3Client } from '../lib/aws/clients.ts';
import { loadImageVariantsConfig } from '../lib/config/imageVariantsConfig.ts';
import { createImageVariantsHandler, magentoSizesOf } from '../lib/images/imageVariantsHandler.ts';
import { createSsmCryptKeySource } from '../lib/images/magento/cryptKeySource.ts';
import { lumaTheme } from '../lib/images/magento/lumaImages.ts';
import { S3VariantStore } from '../lib/images/variantStore.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';

// Parsed at cold start: a bad deployment fails here with the variable's name.
const { bucket, settings, magento } = loadImageVariantsConfig();
const { cryptKeyParameter } = magento ?? {};

/** S3 ObjectCreated / ObjectRemoved on the media bucket → variants written or deleted. */
export const handler = createImageVariantsHandler({
  bucket,
  settings,
  store: new S3VariantStore(s3Client(), bucket),
  telemetry: lambdaTelemetry,
  // Magento's cache/<hash>/ sizes of the Luma theme; the crypt key (2.4.7) is read from SSM when first needed.
  magentoSizes:
    magento &&
    magentoSizesOf({
      theme: lumaTheme,
      algorithms: magento.algorithms,
      quality: magento.quality,
      cryptKeys: cryptKeyParameter
        ? createSsmCryptKeySource({ parameterName: cryptKeyParameter })
        : undefined,
    }),
});
