"""``python -m os_vif.cli``: the ``os-vif`` command."""

import sys

from os_vif.cli import main

sys.exit(main())
