"""``python -m paddleport``: never import from the folder it was started in.

Editors start the language server with the workspace as the working directory,
and ``-m`` puts that folder first on ``sys.path``: a workspace file named
``argparse.py`` or ``pygls.py`` would run inside the server. Clients start it
with ``-P`` (``PYTHONSAFEPATH``); this is the second line of defence, before
anything else is imported.
"""

import os
import sys

if not sys.flags.safe_path and sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from paddleport.cli.main import main

raise SystemExit(main())
