#!/usr/bin/env bash
# Create .venv and install Formwork with its test dependencies (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.formwork-installed
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
  .venv/bin/pip install --quiet --upgrade pip
  .venv/bin/pip install --quiet -e '.[test]'
  touch "$stamp"
fi
# The browser tests drive Debian's Chromium (tests/browser); install it when missing
# and this user may (root, or FORMWORK_SKIP_BROWSER_INSTALL unset and apt-get present),
# with a Chinese font so that screenshots of zh-CN pages show text, not boxes.
if [ ! -x /usr/bin/chromium ] && [ -z "${FORMWORK_SKIP_BROWSER_INSTALL:-}" ] \
   && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing Debian's chromium for the browser tests..."
  (apt-get install -y -qq chromium >/dev/null 2>&1 \
    || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) \
    || echo "warning: could not install chromium; browser tests will skip (fail under CI=true)" >&2
fi
if [ ! -d /usr/share/fonts/truetype/wqy ] && [ -z "${FORMWORK_SKIP_BROWSER_INSTALL:-}" ] \
   && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq fonts-wqy-microhei >/dev/null 2>&1 \
    || echo "warning: could not install a Chinese font; screenshots and referral posters will show boxes" >&2
fi
# The browser libraries of the web app (web/package.json): installed from the npm
# registry with the lock file when node_modules is missing or the lock changed.
if ! command -v npm >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  apt-get install -y -qq nodejs npm >/dev/null 2>&1 || true
fi
if command -v npm >/dev/null; then
  if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
    npm ci --prefix web --no-audit --no-fund --loglevel=error
  fi
else
  echo "warning: npm is missing: the web pages' libraries (web/node_modules) are not installed" >&2
fi
