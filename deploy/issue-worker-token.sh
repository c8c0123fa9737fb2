#!/bin/sh
# Issues the compose workers' token (kind WORKER: it can only lease and run jobs) with the
# server's admin token and writes it to deploy/secrets/worker-token, the file that
# docker-compose.yml hands to the workers as a secret. Run once the server is healthy:
#   docker compose -f deploy/docker-compose.yml up -d --build server
#   deploy/issue-worker-token.sh
#   docker compose -f deploy/docker-compose.yml up -d
# Revoke a leaked token with `shrink admin revoke-token TOKEN` and run this again.
set -eu
cd "$(dirname "$0")"
# Compose bind-mounts file secrets with their host mode, and the workers run as uid 10001: the
# file is world-readable (0644) inside a directory only its owner can enter (0700).
mkdir -p secrets
chmod 0700 secrets
# Inside the container SHRINK_TOKEN_FILE names the admin token that shrinkd wrote next to its db.
docker compose -f docker-compose.yml exec -T server \
  shrink admin issue-token --tenant default --kind worker --label compose-workers \
  > secrets/worker-token.tmp
chmod 0644 secrets/worker-token.tmp
mv secrets/worker-token.tmp secrets/worker-token
echo "wrote $(pwd)/secrets/worker-token"
