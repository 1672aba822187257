/**
 * What a shopper's browser asks the web tier for: the home page, a category, a product, and the
 * GraphQL query a PWA Studio storefront sends as GET (Apollo's useGETForQueries, so CDNs can cache
 * it; Magento\GraphQl\Controller\GraphQl reads a GET query from the query string). The pages
 * are the stand-in catalog's (scripts/local/standin/pub/index.php); every one reads the database.
 */
export const storefrontPaths: readonly string[] = [
  '/',
  '/gear.html',
  '/joust-duffle-bag.html',
  `/graphql?query=${encodeURIComponent('{products(search:"bag"){items{sku name}}}')}`,
];
