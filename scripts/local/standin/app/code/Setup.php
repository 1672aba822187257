<?php
declare(strict_types=1);

namespace M2Standin;

/**
 * The database side of a release: the schema each Magento_Catalog version needs and the upgrade
 * from one to the next. setup_module records versions as Magento's does (module, schema_version,
 * data_version).
 */
final class Setup
{
    /**
     * Modules whose recorded version differs from the code's, as Magento's validators report them.
     * @return array<string, array{db: ?string, code: string}>
     */
    public static function outdated(): array
    {
        $db = dbModules();
        $out = [];
        foreach (codeModules() as $module => $version) {
            if (($db[$module] ?? null) !== $version) {
                $out[$module] = ['db' => $db[$module] ?? null, 'code' => $version];
            }
        }
        return $out;
    }

    /** Brings the schema to the code's versions; creates and seeds it in an empty database. */
    public static function upgrade(callable $log): void
    {
        $release = release();
        $db = dbModules();
        foreach (codeModules() as $module => $version) {
            if (isset($db[$module]) && version_compare($db[$module], $version, '>')) {
                // Magento refuses to run older code's setup over a newer database.
                throw new \RuntimeException(
                    "Please update your modules: Run \"composer install\" from the Magento root directory.\n"
                    . "The following modules are outdated:\n$module db version: {$db[$module]} code version: $version",
                );
            }
        }
        if ($release['behaviour'] === 'job-fail') {
            throw new \RuntimeException(
                'Unable to apply patch Magento\Catalog\Setup\Patch\Data\UpdateProductGtin for module Magento_Catalog. '
                . 'Original exception message: SQLSTATE[23000]: Integrity constraint violation (stand-in release '
                . $release['tag'] . ')',
            );
        }
        $pdo = db();
        if ($db === []) {
            self::install($pdo);
            $log('Schema creation/updates: Magento_Store, Magento_Catalog 2.4.7');
            $db = ['Magento_Store' => '2.4.0', 'Magento_Catalog' => '2.4.7'];
        }
        if (version_compare($db['Magento_Catalog'], '2.4.8', '<') && version_compare($release['catalog'], '2.4.8', '>=')) {
            // Additive (blue-green safe): 2.4.7 code never selects the new column.
            $pdo->exec('ALTER TABLE catalog_product_entity ADD COLUMN IF NOT EXISTS gtin VARCHAR(14) NULL');
            $pdo->exec("UPDATE catalog_product_entity SET gtin = LPAD(entity_id, 14, '0') WHERE gtin IS NULL");
            $log('Schema creation/updates: Magento_Catalog 2.4.8 (catalog_product_entity.gtin)');
            if ($release['behaviour'] === 'drop-column') {
                // Destructive: the column 2.4.7's product and category pages read.
                $pdo->exec('ALTER TABLE catalog_product_entity DROP COLUMN IF EXISTS short_description');
                $log('Schema creation/updates: Magento_Catalog dropped catalog_product_entity.short_description');
            }
        }
        $record = $pdo->prepare(
            'INSERT INTO setup_module (module, schema_version, data_version) VALUES (?, ?, ?) '
            . 'ON DUPLICATE KEY UPDATE schema_version = VALUES(schema_version), data_version = VALUES(data_version)',
        );
        foreach (codeModules() as $module => $version) {
            $record->execute([$module, $version, $version]);
        }
    }

    private static function install(\PDO $pdo): void
    {
        $pdo->exec(
            'CREATE TABLE IF NOT EXISTS setup_module (module VARCHAR(50) PRIMARY KEY, '
            . 'schema_version VARCHAR(50), data_version VARCHAR(50))',
        );
        $pdo->exec(
            'CREATE TABLE IF NOT EXISTS catalog_category_entity (entity_id INT UNSIGNED PRIMARY KEY, '
            . 'name VARCHAR(255) NOT NULL, url_key VARCHAR(255) NOT NULL UNIQUE)',
        );
        $pdo->exec(
            'CREATE TABLE IF NOT EXISTS catalog_product_entity (entity_id INT UNSIGNED PRIMARY KEY, '
            . 'sku VARCHAR(64) NOT NULL UNIQUE, name VARCHAR(255) NOT NULL, price DECIMAL(20,6) NOT NULL, '
            . 'short_description TEXT, url_key VARCHAR(255) NOT NULL UNIQUE, category_id INT UNSIGNED NOT NULL)',
        );
        $pdo->exec(
            // Stand-in only: what every consumer processed, so tests count lost and duplicated messages.
            'CREATE TABLE IF NOT EXISTS m2_consumed_message (message_id VARCHAR(128) PRIMARY KEY, '
            . 'consumer VARCHAR(128) NOT NULL, host VARCHAR(255) NOT NULL, body TEXT, deliveries INT NOT NULL DEFAULT 1, '
            . 'consumed_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))',
        );
        $pdo->exec(
            'CREATE TABLE IF NOT EXISTS cron_schedule (schedule_id INT UNSIGNED AUTO_INCREMENT PRIMARY KEY, '
            . 'job_code VARCHAR(255) NOT NULL, status VARCHAR(7) NOT NULL, host VARCHAR(255) NOT NULL, '
            . 'executed_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, finished_at TIMESTAMP NULL)',
        );
        $pdo->exec("INSERT IGNORE INTO catalog_category_entity VALUES (3, 'Gear', 'gear')");
        $products = $pdo->prepare('INSERT IGNORE INTO catalog_product_entity VALUES (?, ?, ?, ?, ?, ?, 3)');
        foreach ([
            [1, '24-MB01', 'Joust Duffle Bag', 34, 'The sporty Joust Duffle Bag.', 'joust-duffle-bag'],
            [2, '24-MB04', 'Strive Shoulder Pack', 32, 'Convenience is next to nothing.', 'strive-shoulder-pack'],
            [3, '24-WG085', 'Sprite Yoga Strap 6 foot', 14, 'The Sprite Yoga Strap.', 'sprite-yoga-strap-6-foot'],
        ] as $row) {
            $products->execute($row);
        }
    }
}
