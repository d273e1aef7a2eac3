"""The runtime dependency set is complete: `pip install .` with no extras is enough for create_app()."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
pytestmark = [pytest.mark.once, pytest.mark.timeout(600)]


def test_create_app_with_runtime_dependencies_only(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
        check=True,
        capture_output=True,
    )
    leaked = subprocess.run([str(python), "-c", "import pytest"], capture_output=True)
    assert leaked.returncode != 0, "a test-only package was installed with the runtime dependencies"
    code = (
        "from idp import create_app; app = create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://', "
        "'SECRET_KEY': 'k' * 32}); print(len(list(app.url_map.iter_rules())))"
    )
    run = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "IDP_INSTANCE_PATH": str(tmp_path / "instance")},
    )
    assert run.returncode == 0, run.stderr
    assert int(run.stdout.strip()) > 50
