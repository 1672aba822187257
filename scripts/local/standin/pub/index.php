<?php
declare(strict_types=1);

// Storefront front controller (Magento's pub/index.php): home, category and product pages and
// /graphql, each reading the database, so a page that answers 200 proves the code and the schema
// agree. nginx answers /healthz (php-fpm's ping) and /static/ without coming here.

namespace M2Standin;

require __DIR__ . '/../app/bootstrap.php';

function page(string $title, string $body): string
{
    $v = release()['static'];
    $t = htmlspecialchars($title);
    return "<!doctype html><html><head><title>$t</title>"
        . "<link rel=\"stylesheet\" href=\"/static/version$v/frontend/Magento/luma/en_US/css/styles-m.css\">"
        . "</head><body><h1>$t</h1>$body<footer>m2 stand-in " . htmlspecialchars(release()['tag']) . '</footer></body></html>';
}

/** The product columns this release's code reads (2.4.8 reads gtin, 2.4.7 short_description). */
function productColumns(): string
{
    $columns = 'entity_id, sku, name, price, url_key';
    if (release()['behaviour'] === 'drop-column') {
        return "$columns, gtin";
    }
    return version_compare(release()['catalog'], '2.4.8', '>=') ? "$columns, gtin, short_description" : "$columns, short_description";
}

function productList(array $products): string
{
    $items = array_map(
        static fn (array $p): string => '<li><a href="/' . htmlspecialchars($p['url_key']) . '.html">'
            . htmlspecialchars($p['name']) . '</a> ' . number_format((float) $p['price'], 2) . '</li>',
        $products,
    );
    return '<ul class="products">' . implode('', $items) . '</ul>';
}

/** @return array{int, string, string} status, content type, body */
function route(string $path, string $query): array
{
    if (release()['behaviour'] === 'storefront-500') {
        throw new \RuntimeException('Area code is not set (stand-in release ' . release()['tag'] . ')');
    }
    $pdo = db();
    if ($path === '/') {
        $products = $pdo->query('SELECT ' . productColumns() . ' FROM catalog_product_entity ORDER BY entity_id')->fetchAll();
        return [200, 'text/html', page('Home page', productList($products))];
    }
    if ($path === '/graphql') {
        // Not a GraphQL engine: whatever the query, the products as a `products` query answers them.
        $items = $pdo->query('SELECT sku, name, price FROM catalog_product_entity ORDER BY entity_id')->fetchAll();
        $items = array_map(static fn (array $p): array => [
            'sku' => $p['sku'],
            'name' => $p['name'],
            'price_range' => ['minimum_price' => ['final_price' => ['value' => (float) $p['price'], 'currency' => 'USD']]],
        ], $items);
        return [200, 'application/json', json_encode(['data' => ['products' => ['items' => $items]]])];
    }
    if (preg_match('#^/([a-z0-9-]+)\.html$#', $path, $m) === 1) {
        $category = $pdo->prepare('SELECT entity_id, name FROM catalog_category_entity WHERE url_key = ?');
        $category->execute([$m[1]]);
        if (($c = $category->fetch()) !== false) {
            $products = $pdo->prepare('SELECT ' . productColumns() . ' FROM catalog_product_entity WHERE category_id = ?');
            $products->execute([$c['entity_id']]);
            return [200, 'text/html', page($c['name'], productList($products->fetchAll()))];
        }
        $product = $pdo->prepare('SELECT ' . productColumns() . ' FROM catalog_product_entity WHERE url_key = ?');
        $product->execute([$m[1]]);
        if (($p = $product->fetch()) !== false) {
            $details = '<p class="sku">' . htmlspecialchars($p['sku']) . '</p><p class="price">'
                . number_format((float) $p['price'], 2) . '</p>'
                . (isset($p['gtin']) ? '<p class="gtin">' . htmlspecialchars($p['gtin']) . '</p>' : '')
                . (isset($p['short_description']) ? '<p>' . htmlspecialchars($p['short_description']) . '</p>' : '');
            return [200, 'text/html', page($p['name'], $details)];
        }
    }
    return [404, 'text/html', page('404 Not Found', '<p>The page you requested was not found.</p>')];
}

if (maintenanceOn((string) ($_SERVER['REMOTE_ADDR'] ?? ''))) {
    // Magento's pub/errors/503.php.
    http_response_code(503);
    header('Retry-After: 60');
    echo page('Service Temporarily Unavailable', '<p>The server is temporarily unable to service your request due to maintenance downtime.</p>');
    return;
}
try {
    $uri = (string) ($_SERVER['REQUEST_URI'] ?? '/');
    [$status, $type, $body] = route((string) parse_url($uri, PHP_URL_PATH), (string) parse_url($uri, PHP_URL_QUERY));
} catch (\Throwable $e) {
    // Magento's pub/errors/report.php: 500, the details in var/report, not in the page.
    error_log('storefront error: ' . $e->getMessage());
    [$status, $type, $body] = [500, 'text/html', page('There has been an error processing your request', '')];
}
http_response_code($status);
header("Content-Type: $type; charset=utf-8");
echo $body;
