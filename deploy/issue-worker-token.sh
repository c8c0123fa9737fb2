#!/bin/sh
# Issues the compose workers' token (kind WORKER: it can only lease and run jobs) with the
# server's admin token and writes it to deploy/secrets/worker-token (0600), the file that
# docker-compose.yml hands to the workers as a secret. Run once the server is healthy:
#   docker compose -f deploy/docker-compose.yml up -d --build server
#   deploy/issue-worker-token.sh
#   docker compose -f deploy/docker-compose.yml up -d
# Revoke a leaked token with `shrink admin revoke-token TOKEN` and run this again.
set -eu
cd "$(dirname "$0")"
mkdir -p secrets
umask 077
# Inside the container SHRINK_TOKEN_FILE names the admin token that shrinkd wrote next to its db.
docker compose -f docker-compose.yml exec -T server \
  shrink admin issue-token --tenant default --kind worker --label compose-workers \
  > secrets/worker-token.tmp
mv secrets/worker-token.tmp secrets/worker-token
echo "wrote $(pwd)/secrets/worker-token"
