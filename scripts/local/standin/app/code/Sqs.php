<?php
declare(strict_types=1);

namespace M2Standin;

/**
 * The three SQS calls a consumer makes (GetQueueUrl, ReceiveMessage, DeleteMessage), over SQS's
 * JSON protocol with Signature Version 4, on curl: the stand-in needs no SDK.
 */
final class Sqs
{
    public function __construct(
        private readonly string $endpoint,
        private readonly string $region,
        private readonly string $accessKey,
        private readonly string $secretKey,
    ) {
    }

    public function queueUrl(string $name): string
    {
        return $this->call('GetQueueUrl', ['QueueName' => $name])['QueueUrl'];
    }

    /** @return list<array{MessageId: string, ReceiptHandle: string, Body: string}> */
    public function receive(string $queueUrl, int $waitSeconds): array
    {
        $answer = $this->call('ReceiveMessage', [
            'QueueUrl' => $queueUrl,
            'MaxNumberOfMessages' => 1,
            'WaitTimeSeconds' => $waitSeconds,
        ]);
        return $answer['Messages'] ?? [];
    }

    public function delete(string $queueUrl, string $receiptHandle): void
    {
        $this->call('DeleteMessage', ['QueueUrl' => $queueUrl, 'ReceiptHandle' => $receiptHandle]);
    }

    /** @return array<string, mixed> */
    private function call(string $action, array $params): array
    {
        $body = json_encode($params, JSON_THROW_ON_ERROR);
        $url = parse_url($this->endpoint);
        $host = $url['host'] . (isset($url['port']) ? ':' . $url['port'] : '');
        $now = gmdate('Ymd\THis\Z');
        $date = substr($now, 0, 8);
        $headers = [
            'content-type' => 'application/x-amz-json-1.0',
            'host' => $host,
            'x-amz-date' => $now,
            'x-amz-target' => "AmazonSQS.$action",
        ];
        $signed = implode(';', array_keys($headers));
        $canonical = implode("\n", [
            'POST',
            '/',
            '',
            implode('', array_map(static fn ($k, $v) => "$k:$v\n", array_keys($headers), $headers)),
            $signed,
            hash('sha256', $body),
        ]);
        $scope = "$date/{$this->region}/sqs/aws4_request";
        $toSign = "AWS4-HMAC-SHA256\n$now\n$scope\n" . hash('sha256', $canonical);
        $key = 'AWS4' . $this->secretKey;
        foreach ([$date, $this->region, 'sqs', 'aws4_request'] as $part) {
            $key = hash_hmac('sha256', $part, $key, true);
        }
        $signature = hash_hmac('sha256', $toSign, $key);
        $headers['authorization'] = "AWS4-HMAC-SHA256 Credential={$this->accessKey}/$scope, SignedHeaders=$signed, Signature=$signature";
        $curl = curl_init(rtrim($this->endpoint, '/') . '/');
        curl_setopt_array($curl, [
            CURLOPT_POST => true,
            CURLOPT_POSTFIELDS => $body,
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_TIMEOUT => 30,
            CURLOPT_HTTPHEADER => array_map(static fn ($k, $v) => "$k: $v", array_keys($headers), $headers),
        ]);
        $response = curl_exec($curl);
        $status = curl_getinfo($curl, CURLINFO_RESPONSE_CODE);
        if ($response === false || $status !== 200) {
            throw new \RuntimeException("SQS $action failed: HTTP $status " . ($response === false ? curl_error($curl) : $response));
        }
        return json_decode((string) $response, true, 512, JSON_THROW_ON_ERROR) ?? [];
    }
}
