<?php
declare(strict_types=1);

/*
 * The Magento stand-in: honours Magento's operational contract (what a deployment pipeline sees:
 * setup:db:status exit codes, setup:upgrade, consumers, cron, maintenance mode, storefront and
 * health endpoints), not Magento's features. One code base for every release tag; the tag's own
 * image layer writes app/etc/release.json, and what that release does differently is decided here.
 */

namespace M2Standin;

const ROOT = __DIR__ . '/..';

/**
 * Every release tag the images carry. `catalog` is the version of Magento_Catalog's schema the
 * code needs (setup_module), `behaviour` what the release does wrong on purpose.
 *   storefront-500  storefront pages answer 500; php-fpm's ping stays healthy
 *   crashloop       php-fpm and queue consumers exit at start (setup and cron commands work)
 *   never-ready     php-fpm runs but its ping page is never served: /healthz is never 200
 *   job-fail        setup:upgrade fails and changes nothing
 *   drop-column     setup:upgrade drops catalog_product_entity.short_description, which 2.4.7 reads
 *   cron-fail       cron:run cannot start (a class of Magento_Cron missing); web and consumers work
 */
const RELEASES = [
    '2.4.7-p3' => ['catalog' => '2.4.7', 'behaviour' => 'good', 'static' => 1717171717],
    '2.4.8' => ['catalog' => '2.4.8', 'behaviour' => 'good', 'static' => 1746464646],
    '2.4.8-storefront-500' => ['catalog' => '2.4.8', 'behaviour' => 'storefront-500', 'static' => 1746464647],
    '2.4.8-crashloop' => ['catalog' => '2.4.8', 'behaviour' => 'crashloop', 'static' => 1746464648],
    '2.4.8-never-ready' => ['catalog' => '2.4.8', 'behaviour' => 'never-ready', 'static' => 1746464649],
    '2.4.8-job-fail' => ['catalog' => '2.4.8', 'behaviour' => 'job-fail', 'static' => 1746464650],
    '2.4.8-drop-column' => ['catalog' => '2.4.8', 'behaviour' => 'drop-column', 'static' => 1746464651],
    '2.4.8-cron-fail' => ['catalog' => '2.4.8', 'behaviour' => 'cron-fail', 'static' => 1746464652],
];

/** @return array{tag: string, catalog: string, behaviour: string, static: int} */
function release(): array
{
    $file = ROOT . '/app/etc/release.json';
    $tag = is_file($file) ? (json_decode((string) file_get_contents($file), true)['tag'] ?? '') : '';
    if (!isset(RELEASES[$tag])) {
        throw new \RuntimeException("unknown release tag '$tag' in app/etc/release.json");
    }
    return ['tag' => $tag] + RELEASES[$tag];
}

/** @return array<string, mixed> */
function config(): array
{
    static $config = null;
    return $config ??= require ROOT . '/app/etc/env.php';
}

/** Whether the deployment configuration names a database (Magento: DeploymentConfig::isAvailable). */
function installed(): bool
{
    return config()['db']['connection']['default']['host'] !== '';
}

function db(): \PDO
{
    static $pdo = null;
    if ($pdo === null) {
        $c = config()['db']['connection']['default'];
        $pdo = new \PDO(
            "mysql:host={$c['host']};dbname={$c['dbname']};charset=utf8mb4",
            $c['username'],
            $c['password'],
            [\PDO::ATTR_ERRMODE => \PDO::ERRMODE_EXCEPTION, \PDO::ATTR_TIMEOUT => 5],
        );
    }
    return $pdo;
}

/** Module versions the code declares (module.xml setup_version in Magento). */
function codeModules(): array
{
    return ['Magento_Store' => '2.4.0', 'Magento_Catalog' => release()['catalog']];
}

/** Module versions recorded in setup_module, or [] when the table does not exist yet. */
function dbModules(): array
{
    try {
        $rows = db()->query('SELECT module, schema_version FROM setup_module')->fetchAll(\PDO::FETCH_KEY_PAIR);
    } catch (\PDOException $e) {
        // 42S02: no setup_module table, nothing installed in this schema yet.
        if ($e->getCode() === '42S02') {
            return [];
        }
        throw $e;
    }
    return $rows;
}

/** Where var/ (maintenance flag, logs) lives: an emptyDir in every pod. */
function varDir(): string
{
    return ROOT . '/var';
}

function maintenanceOn(string $remoteAddr): bool
{
    // Magento\Framework\App\MaintenanceMode::isOn: the flag file, minus the allowed addresses.
    if (!is_file(varDir() . '/.maintenance.flag')) {
        return false;
    }
    $ipFile = varDir() . '/.maintenance.ip';
    $allowed = is_file($ipFile) ? explode(',', trim((string) file_get_contents($ipFile))) : [];
    return !in_array($remoteAddr, $allowed, true);
}
