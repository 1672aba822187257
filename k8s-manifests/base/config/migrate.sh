#!/bin/sh
# The migration Job's command (template: CronJob m2-migrate). Runs setup:upgrade only when Magento
# says the database schema/data or the deployment configuration needs it.
#   setup:db:status    exit 0 = up to date, 2 = upgrade needed, other = error
#   app:config:status  exit 0 = up to date, 2 = config import needed, other = error
set -u
cd "${MAGENTO_ROOT:-/var/www/html}" || exit 1

php bin/magento setup:db:status
db=$?
php bin/magento app:config:status
cfg=$?
for status in "$db" "$cfg"; do
  if [ "$status" -ne 0 ] && [ "$status" -ne 2 ]; then
    echo "migrate: status check failed with exit code $status" >&2
    exit "$status"
  fi
done
if [ "$db" -eq 0 ] && [ "$cfg" -eq 0 ]; then
  echo "migrate: database and configuration are up to date; nothing to do"
  exit 0
fi

# Old pods keep serving during the upgrade only with deployment/blue_green/enabled (Magento 2.4.4+).
if [ "${MAGENTO_DEPLOYMENT_BLUE_GREEN_ENABLED:-0}" != "1" ]; then
  echo "migrate: upgrade needed but deployment/blue_green/enabled is off; refusing (old pods would fail)" >&2
  exit 3
fi

echo "migrate: running setup:upgrade --keep-generated (db status $db, config status $cfg)"
# --keep-generated: generated/ and pub/static were built into the image by di:compile and
# setup:static-content:deploy; the upgrade must not delete them.
exec php bin/magento setup:upgrade --keep-generated --no-interaction
