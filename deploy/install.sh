#!/bin/sh
# deploy/install.sh SOURCE TARGET — a production tree of scope-auth in TARGET, built from the
# checkout in SOURCE: the repository's files copied (never node_modules, dist, a database,
# keys, .env or git metadata), the exact dependencies of package-lock.json installed, the
# TypeScript compiled, and the development dependencies removed again. TARGET then runs with
#
#   node --max-semi-space-size=8 --max-old-space-size=128 TARGET/bin/serve.cjs
#
# from any working directory (the database and keys/ are relative to it by default), and the
# CLI is TARGET/bin/scope-auth.js. The Dockerfile's build stage runs exactly this script, and
# so does test/deploy/proxy.test.ts, which then serves real traffic from TARGET.
#
# TARGET must be empty or not exist: the script never overwrites an installation in place
# (install next to the running one, then switch a symlink or the unit's path).
set -eu

if [ "$#" -ne 2 ]; then
  echo "usage: $0 SOURCE TARGET" >&2
  exit 2
fi
source_dir=$1
target_dir=$2

if [ ! -f "$source_dir/package.json" ] || [ ! -f "$source_dir/package-lock.json" ]; then
  echo "$0: $source_dir is not a scope-auth checkout (no package.json and package-lock.json)" >&2
  exit 1
fi
if [ -e "$target_dir" ] && [ -n "$(ls -A "$target_dir")" ]; then
  echo "$0: $target_dir is not empty; install into a new directory" >&2
  exit 1
fi
mkdir -p "$target_dir"

# The same list as deploy/Dockerfile.dockerignore, which keeps these out of an image build.
tar -C "$source_dir" \
  --exclude=./.git \
  --exclude=./node_modules \
  --exclude=./dist \
  --exclude=./coverage \
  --exclude=.env \
  --exclude=./deploy/secrets \
  --exclude='./keys/*' \
  --exclude='*.sqlite' \
  --exclude='*.sqlite-*' \
  --exclude=./scripts/bench/results \
  -cf - . | tar -C "$target_dir" -xf -

cd "$target_dir"
# Quiet but for warnings and errors: this runs in image builds and in the tests.
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false npm_config_loglevel=warn
npm ci
npm run build --silent
npm prune --omit=dev
mkdir -p keys
echo "installed scope-auth $(node -p 'require("./package.json").version') in $(pwd)"
