"""``python -m os_vif.cni.shim DEST``: build the C client."""

from os_vif.cni.shim import main

raise SystemExit(main())
