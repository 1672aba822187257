<?php
// The release image's env.php, as in production: every setting from the environment (ConfigMap
// m2-env and Secret m2-secrets, see k8s-manifests/base/config/magento.env), never baked in.
// Unset or empty falls back to the default; "0" is a value (consumers_wait_for_messages = 0).
$env = static function (string $name, string $default = ''): string {
    $value = getenv($name);
    return $value === false || $value === '' ? $default : $value;
};
return [
    'MAGE_MODE' => $env('MAGE_MODE', 'production'),
    'db' => [
        'connection' => [
            'default' => [
                'host' => $env('MAGENTO_DB_HOST'),
                'dbname' => $env('MAGENTO_DB_NAME', 'magento'),
                'username' => $env('MAGENTO_DB_USER', 'magento'),
                'password' => $env('MAGENTO_DB_PASSWORD'),
            ],
        ],
    ],
    'deployment' => ['blue_green' => ['enabled' => $env('MAGENTO_DEPLOYMENT_BLUE_GREEN_ENABLED', '0') === '1']],
    'queue' => [
        'consumers_wait_for_messages' => (int) $env('MAGENTO_QUEUE_CONSUMERS_WAIT_FOR_MESSAGES', '1'),
        // Stand-in only: consumer <name> reads the SQS queue <prefix><name with . and _ as ->.
        'sqs' => [
            'endpoint' => $env('AWS_ENDPOINT_URL', 'https://sqs.' . $env('AWS_REGION', 'us-east-1') . '.amazonaws.com'),
            'region' => $env('AWS_REGION', 'us-east-1'),
            'access_key' => $env('AWS_ACCESS_KEY_ID'),
            'secret_key' => $env('AWS_SECRET_ACCESS_KEY'),
            'queue_prefix' => $env('MAGENTO_SQS_QUEUE_PREFIX'),
        ],
    ],
];
