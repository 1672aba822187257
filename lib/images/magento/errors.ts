import { ImageError } from '../errors.ts';

/**
 * A theme's view.xml cannot be read the way Magento reads it. `imageId` names the `<image>` entry at
 * fault when there is one; the message never quotes the whole file.
 */
export class ViewXmlError extends ImageError {
  readonly imageId: string | undefined;

  constructor(message: string, imageId?: string, options?: ErrorOptions) {
    super(imageId === undefined ? message : `view.xml image "${imageId}": ${message}`, options);
    this.name = 'ViewXmlError';
    this.imageId = imageId;
  }
}

/**
 * Magento's GD2 resize cannot produce this size (a side rounds to 0 px: PHP's GD refuses it, so Magento
 * renders no cache file and the shop shows its placeholder).
 */
export class MagentoGeometryError extends ImageError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'MagentoGeometryError';
  }
}

/**
 * The crypt key could not be had (missing, empty, unreadable). `source` names where it was looked for
 * (a parameter name), never the value.
 */
export class CryptKeyError extends ImageError {
  readonly source: string;

  constructor(message: string, source: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CryptKeyError';
    this.source = source;
  }
}
