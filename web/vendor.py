"""Browser libraries installed from npm (web/package.json, `npm ci --prefix web` in
scripts/setup.sh), served from web/node_modules under /static/vendor/<name>: only the
dist files listed here, never a CDN, never copied into the repository.

In a template: <script src="{{ url_for('vendor.file', name='echarts.min.js') }}"></script>
To add a library: `npm install --prefix web NAME`, commit package.json and
package-lock.json, and list the files pages need in VENDOR_FILES.
"""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, abort, send_from_directory

NODE_MODULES = Path(__file__).parent / "node_modules"

# URL name -> path under node_modules
VENDOR_FILES = {
    "echarts.min.js": "echarts/dist/echarts.min.js",
    "echarts.esm.min.mjs": "echarts/dist/echarts.esm.min.mjs",
    "Sortable.min.js": "sortablejs/Sortable.min.js",
    "sortable.esm.js": "sortablejs/modular/sortable.esm.js",
    "tom-select.complete.min.js": "tom-select/dist/js/tom-select.complete.min.js",
    "tom-select.min.css": "tom-select/dist/css/tom-select.min.css",
    "flatpickr.min.js": "flatpickr/dist/flatpickr.min.js",
    "flatpickr.min.css": "flatpickr/dist/flatpickr.min.css",
    "flatpickr-zh.js": "flatpickr/dist/l10n/zh.js",
    "signature_pad.umd.min.js": "signature_pad/dist/signature_pad.umd.min.js",
}

bp = Blueprint("vendor", __name__)


@bp.get("/static/vendor/<path:name>")
def file(name: str):
    relative = VENDOR_FILES.get(name)
    if relative is None or not (NODE_MODULES / relative).is_file():
        abort(404)
    return send_from_directory(NODE_MODULES, relative, max_age=7 * 24 * 3600)
