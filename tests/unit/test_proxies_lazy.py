"""``import ctlshell`` does not import pint; the proxy verbs load on first use."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_proxy_verbs_are_lazy() -> None:
    code = textwrap.dedent("""
        import sys
        import ctlshell
        assert 'pint' not in sys.modules and 'ctlshell.proxies' not in sys.modules
        verb = ctlshell.connect_device
        import ctlshell.proxies
        assert verb is ctlshell.proxies.connect_device and 'pint' in sys.modules
        assert ctlshell.set_wait is ctlshell.proxies.set_wait and ctlshell.get_device is ctlshell.proxies.get_device
        try:
            ctlshell.no_such_name
        except AttributeError:
            pass
        else:
            raise AssertionError("unknown names must raise AttributeError")
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
