"""A web worker loads no PDF stack (issue 9: RSS per worker): ReportLab, Pillow, zxing-cpp, pyHanko
and fontTools are imported by the first PDF a process renders or signs, not by creating the app."""

import json
import os
import subprocess
import sys

HEAVY = ("reportlab", "PIL", "zxingcpp", "pyhanko", "pyhanko_certvalidator", "fontTools", "qrcode")


def test_creating_the_app_imports_no_pdf_library(tmp_path):
    script = (
        "import json, sys\n"
        "from govservice import create_app\n"
        "create_app()\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")}
    env["GOVSERVICE_INSTANCE"] = str(tmp_path)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
