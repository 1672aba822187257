import { s3Client } from '../lib/aws/clients.ts';
import { loadImageVariantsConfig } from '../lib/config/imageVariantsConfig.ts';
import { createImageVariantsHandler, magentoSizesOf } from '../lib/images/imageVariantsHandler.ts';
import { createSsmCryptKeySource } from '../lib/images/magento/cryptKeySource.ts';
import { S3VariantStore } from '../lib/images/variantStore.ts';
import { lambdaTelemetry } from '../lib/observability/telemetry.ts';
import { traced } from '../lib/observability/tracer.ts';

// Parsed at cold start (the theme's view.xml files too): a bad deployment fails here with the variable's name.
const { bucket, settings, magento } = loadImageVariantsConfig();
const { cryptKeyParameter } = magento ?? {};

/** S3 ObjectCreated / ObjectRemoved on the media bucket → variants written or deleted. */
export const handler = createImageVariantsHandler({
  bucket,
  settings,
  store: new S3VariantStore(traced(s3Client()), bucket),
  telemetry: lambdaTelemetry,
  // Magento's cache/<hash>/ sizes of the shop's theme (Luma unless MAGENTO_VIEW_XML names its files); the crypt key (2.4.7) is read from SSM when first needed.
  magentoSizes:
    magento &&
    magentoSizesOf({
      theme: magento.theme,
      algorithms: magento.algorithms,
      quality: magento.quality,
      cryptKeys: cryptKeyParameter
        ? createSsmCryptKeySource({ parameterName: cryptKeyParameter })
        : undefined,
    }),
});
